%% Announcements: "up" when the listener opens, and again after a health
%% probe is answered while no peer set has been applied yet.
-module(drover_agent_announce_tests).
-include_lib("eunit/include/eunit.hrl").

-define(TOKEN, <<"s3cret">>).

reannounce_test_() ->
    {setup, fun start/0, fun stop/1,
     fun({Port, _Ctl}) ->
             {inorder,
              [{"up when the listener opens", fun() -> ?assertEqual(<<"up">>, next_event()) end},
               {"up again after a health probe", fun() ->
                     {200, _} = get(Port, "/v1/health"),
                     ?assertEqual(<<"up">>, next_event())
                 end},
               {"not again within the gap", fun() ->
                     {200, _} = get(Port, "/v1/health"),
                     ?assertEqual(none, next_event(200))
                 end},
               {"not once a peer set is applied", fun() ->
                     timer:sleep(600),
                     {200, _} = put_peers(Port),
                     {200, _} = get(Port, "/v1/health"),
                     ?assertEqual(none, next_event(300))
                 end}]}
     end}.

%% The fake controller records events in a public table: eunit runs the
%% tests in another process than start/0.
start() ->
    Parent = self(),
    {ok, L} = gen_tcp:listen(0, [binary, {active, false}, {packet, raw}, {ip, {127, 0, 0, 1}}]),
    {ok, CtlPort} = inet:port(L),
    Ctl = spawn(fun() ->
                        ets:new(announced, [named_table, public, ordered_set]),
                        Parent ! table_ready,
                        controller(L)
                end),
    receive table_ready -> ok end,
    Url = "http://127.0.0.1:" ++ integer_to_list(CtlPort),
    {ok, Pid} = drover_agent:start_link(#{port => 0, ip => "127.0.0.1", token => ?TOKEN,
                                          announce_url => Url, announce_token => <<"ann">>,
                                          head_timeout => 500, body_timeout => 500, connect_timeout => 200}),
    unlink(Pid),
    {drover_agent:port(), Ctl}.

stop({_, Ctl}) ->
    exit(Ctl, kill),
    drover_agent_test_client:stop_agent().

%% A fake controller: answers 202 and records each body's event.
controller(L) ->
    {ok, S} = gen_tcp:accept(L),
    {ok, Data} = drover_agent_test_client:read_request(fun() -> gen_tcp:recv(S, 0, 5000) end),
    [_, Body] = binary:split(Data, <<"\r\n\r\n">>),
    {ok, #{<<"event">> := Event}} = drover_agent_json:decode(Body),
    ets:insert(announced, {erlang:unique_integer([monotonic]), Event}),
    ok = gen_tcp:send(S, <<"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n">>),
    gen_tcp:close(S),
    controller(L).

next_event() -> next_event(5000).

next_event(Timeout) when Timeout =< 0 -> none;
next_event(Timeout) ->
    case ets:first(announced) of
        '$end_of_table' -> timer:sleep(20), next_event(Timeout - 20);
        K -> [{K, E}] = ets:take(announced, K), E
    end.

get(Port, Path) -> req(Port, ["GET ", Path, " HTTP/1.0\r\n\r\n"]).

put_peers(Port) ->
    Body = <<"{\"revision\":1,\"peers\":[]}">>,
    req(Port, ["PUT /v1/peers HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ", ?TOKEN,
               "\r\nContent-Length: ", integer_to_list(byte_size(Body)), "\r\n\r\n", Body]).

req(Port, Data) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}, {packet, raw}]),
    ok = gen_tcp:send(S, Data),
    {ok, Resp} = read_until_closed(S, <<>>),
    gen_tcp:close(S),
    [<<"HTTP/1.", _, " ", Code:3/binary, _/binary>> | _] = binary:split(Resp, <<"\r\n">>),
    {binary_to_integer(Code), Resp}.

read_until_closed(S, Acc) ->
    case gen_tcp:recv(S, 0, 5000) of
        {ok, D} -> read_until_closed(S, <<Acc/binary, D/binary>>);
        {error, closed} -> {ok, Acc}
    end.
