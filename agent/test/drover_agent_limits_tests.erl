%% Every input edge of the agent, attacked as an adversary would, over real
%% sockets: line and head sizes, deadlines, connection caps, Content-Length
%% forms, the check order of /v1/health, peers per request, echoed input,
%% the atom budget and the token comparison.
-module(drover_agent_limits_tests).
-include_lib("eunit/include/eunit.hrl").

-import(drover_agent_test_client, [req/5, req/6, head/4, raw/2, raw/3, connect/2, response/1,
                                   status/2, put_peers/4]).

-define(TOKEN, <<"s3cret">>).
-define(PER_SOURCE, 4).
-define(TOTAL, 8).

limits_test_() ->
    {setup,
     fun() ->
             drover_agent_test_client:start_agent(#{token => ?TOKEN, max_connections => ?TOTAL,
                                                    max_connections_per_source => ?PER_SOURCE})
     end,
     fun(_) -> drover_agent_test_client:stop_agent() end,
     fun(Port) ->
             {inorder,
              [{"a request line over 8 KiB gets 414 JSON", fun() -> long_request_line(Port) end},
               {"a header line over 8 KiB gets 431 JSON", fun() -> long_header_line(Port) end},
               {"a head over 64 KiB gets 431 JSON", fun() -> large_head(Port) end},
               {"the 414 reaches a client still sending its line", fun() -> still_sending(Port) end},
               {"a non-GET on /v1/health without a token is 405", fun() -> health_405(Port) end},
               {"Content-Length takes decimal digits only", fun() -> content_length(Port) end},
               {"the head deadline covers the whole head, not each line", fun() -> slow_head(Port) end},
               {"the body deadline covers the whole body", fun() -> slow_body(Port) end},
               {"a source over its cap is reset, others are served", fun() -> per_source(Port) end},
               {"connections over the total cap are reset", fun() -> total(Port) end},
               {"killed connection processes are counted down", fun() -> killed(Port) end},
               {"more than 1000 peers are refused at once, nothing changes", fun() -> too_many_peers(Port) end},
               {"error messages quote at most 64 bytes of the input", fun() -> quoting(Port) end},
               {"new names past the atom budget get 503, nothing changes", fun() -> atom_budget(Port) end},
               {"many names: atom growth stays within the budget", {timeout, 120, fun() -> many_names(Port) end}},
               {"the token is compared as SHA-256 digests, whatever its length", fun() -> token_digests(Port) end}]}
     end}.

long_request_line(Port) ->
    Line = <<"GET /", (binary:copy(<<"a">>, 9000))/binary, " HTTP/1.1\r\n\r\n">>,
    ?assertMatch({414, #{<<"code">> := <<"uri_too_long">>, <<"message">> := _}}, raw(Port, Line)).

long_header_line(Port) ->
    Head = <<"GET /v1/health HTTP/1.1\r\nX-Big: ", (binary:copy(<<"b">>, 9000))/binary, "\r\n\r\n">>,
    ?assertMatch({431, #{<<"code">> := <<"headers_too_large">>}}, raw(Port, Head)).

large_head(Port) ->
    Lines = binary:copy(<<"X-Pad: ", (binary:copy(<<"p">>, 1000))/binary, "\r\n">>, 70),
    ?assertMatch({431, #{<<"code">> := <<"headers_too_large">>}},
                 raw(Port, <<"GET /v1/health HTTP/1.1\r\n", Lines/binary, "\r\n">>)).

%% The client writes a 1 MiB line without reading; the agent stops reading
%% at 8 KiB, answers, sends its FIN and drains: the client reads the 414.
still_sending(Port) ->
    {ok, S} = connect(Port, {127, 0, 0, 1}),
    Self = self(),
    Writer = spawn(fun() ->
                           _ = gen_tcp:send(S, <<"GET /", (binary:copy(<<"a">>, 1048576))/binary>>),
                           Self ! written
                   end),
    ?assertMatch({414, _}, response(S)),
    receive written -> ok after 5000 -> exit(Writer, kill) end,
    gen_tcp:close(S).

health_405(Port) ->
    [?assertMatch({405, #{<<"code">> := <<"method_not_allowed">>}},
                  req(Port, M, "/v1/health", none, <<>>)) || M <- [post, put, delete]],
    ?assertMatch({405, _}, req(Port, post, "/v1/health", <<"wrong">>, <<>>)),
    ?assertMatch({401, _}, req(Port, post, "/v1/status", none, <<>>)).

content_length(Port) ->
    Body = <<"{\"revision\":0,\"peers\":[]}">>,
    Send = fun(CL) ->
                   raw(Port, [head(put, "/v1/peers", ?TOKEN, [{"Content-Length", CL}]), Body])
           end,
    [?assertMatch({400, #{<<"code">> := <<"bad_request">>}}, Send(CL))
     || CL <- ["+25", " 25 ", "25 ", "-0", "-25", "0x19", "2 5", "25.0", "", "1e1"]],
    ?assertMatch({200, _}, Send("25")),
    ?assertMatch({200, _}, Send("0025")).

%% A header line every 100 ms: each line comes well within the 500 ms head
%% deadline, the whole head never does.
slow_head(Port) ->
    {ok, S} = connect(Port, {127, 0, 0, 1}),
    ok = gen_tcp:send(S, <<"GET /v1/health HTTP/1.1\r\n">>),
    Counter = counters:new(1, []),
    Trickler = spawn(fun() -> trickle(S, Counter, 40, 100) end),
    ?assertMatch({408, #{<<"code">> := <<"request_timeout">>}}, response(S)),
    exit(Trickler, kill),
    ?assert(counters:get(Counter, 1) < 40),
    gen_tcp:close(S).

%% Sends up to N header lines Gap ms apart, counting them.
trickle(_, _, 0, _) -> ok;
trickle(S, Counter, N, Gap) ->
    timer:sleep(Gap),
    case gen_tcp:send(S, <<"X-Slow: 1\r\n">>) of
        ok -> counters:add(Counter, 1, 1), trickle(S, Counter, N - 1, Gap);
        {error, _} -> ok
    end.

slow_body(Port) ->
    {ok, S} = connect(Port, {127, 0, 0, 1}),
    ok = gen_tcp:send(S, head(put, "/v1/peers", ?TOKEN, [{"Content-Length", "40"}])),
    Sent = lists:foldl(fun(_, N) ->
                               timer:sleep(100),
                               case gen_tcp:send(S, <<" ">>) of ok -> N + 1; _ -> N end
                       end, 0, lists:seq(1, 8)),
    ?assert(Sent > 0),
    ?assertMatch({408, #{<<"code">> := <<"request_timeout">>}}, response(S)),
    gen_tcp:close(S).

%% ?PER_SOURCE slow connections from 127.0.0.2 hold its whole share: the
%% next one from there is reset at once, 127.0.0.1 is still served, and
%% when the slow ones end 127.0.0.2 is served again.
per_source(Port) ->
    Held = hold(Port, {127, 0, 0, 2}, ?PER_SOURCE),
    ?assert(refused(Port, {127, 0, 0, 2})),
    ?assertMatch({200, _}, raw(Port, head(get, "/v1/health", none, []))),
    release(Held),
    ?assertMatch({200, _}, eventually(fun() -> raw(Port, head(get, "/v1/health", none, []), {127, 0, 0, 2}) end)).

total(Port) ->
    Held = hold(Port, [{{127, 0, 0, 3}, ?PER_SOURCE}, {{127, 0, 0, 4}, ?PER_SOURCE}]),
    ?assert(refused(Port, {127, 0, 0, 5})),
    release(Held),
    ?assertMatch({200, _}, eventually(fun() -> raw(Port, head(get, "/v1/health", none, []), {127, 0, 0, 5}) end)).

killed(Port) ->
    Held = hold(Port, {127, 0, 0, 6}, ?PER_SOURCE),
    ?assert(refused(Port, {127, 0, 0, 6})),
    %% The connection processes: linked to the acceptors' conns processes.
    #{acceptors := Acceptors} = sys:get_state(drover_agent_http),
    ConnsProcs = [P || A <- Acceptors, {links, Ls} <- [process_info(A, links)], P <- Ls,
                       P =/= whereis(drover_agent_http)],
    [exit(P, kill) || C <- ConnsProcs, {links, Ls} <- [process_info(C, links)], P <- Ls,
                      not lists:member(P, Acceptors)],
    ?assertMatch({200, _}, eventually(fun() -> raw(Port, head(get, "/v1/health", none, []), {127, 0, 0, 6}) end)),
    release(Held).

%% N connections from From, each with half a head sent, opened once the
%% earlier tests' connections are gone and returned once the agent counts
%% them. Each test holds connections from addresses of its own.
hold(Port, From, N) ->
    hold(Port, [{From, N}]).

hold(Port, Sources) ->
    wait_count(0, 200),
    Held = [begin
                {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}, {ip, From}]),
                ok = gen_tcp:send(S, <<"GET /v1/health HTTP/1.1\r\n">>),
                S
            end || {From, N} <- Sources, _ <- lists:seq(1, N)],
    wait_count(length(Held), 200),
    Held.

%% Waits until the agent counts Want connections.
wait_count(Want, 0) ->
    ?assertEqual(Want, drover_agent_http:connections());
wait_count(Want, Tries) ->
    case drover_agent_http:connections() =:= Want of
        true -> ok;
        false -> timer:sleep(10), wait_count(Want, Tries - 1)
    end.

release(Held) ->
    [gen_tcp:close(S) || S <- Held],
    ok.

%% A connection from From is closed without an answer (the reset may
%% come before the connect returns).
refused(Port, From) ->
    case gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}, {ip, From}]) of
        {ok, S} ->
            _ = gen_tcp:send(S, head(get, "/v1/health", none, [])),
            R = gen_tcp:recv(S, 0, 5000),
            gen_tcp:close(S),
            R =:= {error, closed} orelse R =:= {error, econnreset};
        {error, econnreset} ->
            true
    end.

eventually(F) -> eventually(F, 50).

eventually(F, 0) -> F();
eventually(F, N) ->
    try F() of
        {200, _} = R -> R;
        _ -> timer:sleep(20), eventually(F, N - 1)
    catch
        _:_ -> timer:sleep(20), eventually(F, N - 1)
    end.

too_many_peers(Port) ->
    Before = status(Port, ?TOKEN),
    Rev = maps:get(<<"revision">>, Before) + 1,
    Names = fun(N) -> [<<"p", (integer_to_binary(I))/binary, "@h">> || I <- lists:seq(1, N)] end,
    [?assertMatch({400, #{<<"code">> := <<"too_many_peers">>}}, put_peers(Port, ?TOKEN, Rev, Names(N)))
     || N <- [1001, 10000]],
    ?assertEqual(Before, status(Port, ?TOKEN)).

quoting(Port) ->
    Long = binary:copy(<<"z">>, 5000),
    Msg = fun({_, #{<<"message">> := M}}) -> M end,
    Path = Msg(req(Port, get, ["/", Long], ?TOKEN, <<>>)),
    Name = Msg(put_peers(Port, ?TOKEN, 99, [<<Long/binary, "@h@">>])),
    Field = Msg(req(Port, put, "/v1/peers", ?TOKEN,
                    <<"{\"revision\":1,\"peers\":[],\"", Long/binary, "\":1}">>)),
    [?assert(byte_size(M) < 64 + 80) || M <- [Path, Name, Field]],
    [?assertNotEqual(nomatch, binary:match(M, binary:copy(<<"z">>, 60))) || M <- [Path, Field]].

%% The budget is the VM's: this agent's is what this VM has used plus 10.
atom_budget(_) ->
    drover_agent_test_client:stop_agent(),
    Created = drover_agent_atoms:created(),
    Port = drover_agent_test_client:start_agent(#{token => ?TOKEN, max_new_atoms => Created + 10}),
    U = integer_to_binary(erlang:unique_integer([positive])),
    Names = fun(Tag, N) -> [<<"b", U/binary, Tag/binary, (integer_to_binary(I))/binary, "@h">>
                            || I <- lists:seq(1, N)] end,
    ?assertMatch({200, _}, put_peers(Port, ?TOKEN, 1, Names(<<"a">>, 8))),
    Before = status(Port, ?TOKEN),
    ?assertMatch(#{<<"atoms_created">> := C, <<"atom_budget">> := B} when C =:= Created + 8 andalso
                                                                        B =:= Created + 10, Before),
    ?assertMatch({503, #{<<"code">> := <<"atom_budget_exhausted">>}},
                 put_peers(Port, ?TOKEN, 2, Names(<<"a">>, 8) ++ Names(<<"c">>, 3))),
    ?assertEqual(Before, status(Port, ?TOKEN)),
    ?assertEqual([error, error, error], [drover_agent_atoms:existing(N) || N <- Names(<<"c">>, 3)]),
    %% Known names always pass, past the budget too.
    ?assertMatch({200, _}, put_peers(Port, ?TOKEN, 3, Names(<<"a">>, 4) ++ [atom_to_binary('kernel@x')])),
    drover_agent_test_client:stop_agent(),
    drover_agent_test_client:start_agent(#{token => ?TOKEN, max_connections => ?TOTAL,
                                           max_connections_per_source => ?PER_SOURCE}).

%% 20 requests of 1000 new names with a budget of 5000 more: the first 5
%% apply, the rest get 503, and the atom table grew by the budget only.
many_names(_) ->
    drover_agent_test_client:stop_agent(),
    Created = drover_agent_atoms:created(),
    Port = drover_agent_test_client:start_agent(#{token => ?TOKEN, max_new_atoms => Created + 5000}),
    Count = erlang:system_info(atom_count),
    U = integer_to_binary(erlang:unique_integer([positive])),
    Codes = [begin
                 Names = [<<"m", U/binary, "r", (integer_to_binary(R))/binary, "n",
                            (integer_to_binary(I))/binary, "@h">> || I <- lists:seq(1, 1000)],
                 element(1, put_peers(Port, ?TOKEN, R, Names))
             end || R <- lists:seq(1, 20)],
    ?assertEqual(lists:duplicate(5, 200) ++ lists:duplicate(15, 503), Codes),
    Grown = erlang:system_info(atom_count) - Count,
    ?debugFmt("20,000 new names, budget 5000: the atom table grew by ~b", [Grown]),
    ?assert(Grown >= 5000 andalso Grown < 5000 + 500),
    drover_agent_test_client:stop_agent(),
    drover_agent_test_client:start_agent(#{token => ?TOKEN, max_connections => ?TOTAL,
                                           max_connections_per_source => ?PER_SOURCE}).

%% A wrong token of another length is compared as a digest too: no early
%% return that would tell the length.
token_digests(_) ->
    Port = drover_agent:port(),
    erlang:trace_pattern({crypto, hash, 2}, true, [local]),
    Self = self(),
    Tracer = spawn(fun() -> tracer(Self, []) end),
    erlang:trace(all, true, [call, {tracer, Tracer}]),
    ?assertMatch({401, _}, req(Port, get, "/v1/status", <<"x">>, <<>>)),
    erlang:trace(all, false, [call]),
    erlang:trace_pattern({crypto, hash, 2}, false, [local]),
    Tracer ! {done, Self},
    Calls = receive {calls, C} -> C after 5000 -> [] end,
    ?assertEqual(2, length([ok || [sha256, _] <- Calls])).

tracer(Parent, Acc) ->
    receive
        {trace, _, call, {crypto, hash, Args}} -> tracer(Parent, [Args | Acc]);
        {done, Parent} -> Parent ! {calls, Acc};
        _ -> tracer(Parent, Acc)
    end.
