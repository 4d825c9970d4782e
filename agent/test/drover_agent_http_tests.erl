%% Request parsing and the protocol's error answers, over real sockets
%% against an agent started in this (non-distributed) VM.
-module(drover_agent_http_tests).
-include_lib("eunit/include/eunit.hrl").

-import(drover_agent_test_client, [req/5, head/4, raw/2, response/1]).

-define(TOKEN, <<"s3cret">>).

http_test_() ->
    {setup, fun start/0, fun stop/1,
     fun(Port) ->
             [{"health needs no token", ?_assertMatch({200, _}, req(Port, get, "/v1/health", none, <<>>))},
              {"status without token is 401", ?_assertMatch({401, #{<<"code">> := <<"unauthorized">>}},
                                                            req(Port, get, "/v1/status", none, <<>>))},
              {"status with a wrong token is 401", ?_assertMatch({401, _},
                                                                 req(Port, get, "/v1/status", <<"nope">>, <<>>))},
              {"unknown path with token is 404", ?_assertMatch({404, #{<<"code">> := <<"not_found">>}},
                                                               req(Port, get, "/v1/nope", ?TOKEN, <<>>))},
              {"unknown path without token is 401", ?_assertMatch({401, _},
                                                                  req(Port, get, "/v1/nope", none, <<>>))},
              {"wrong method is 405", ?_assertMatch({405, #{<<"code">> := <<"method_not_allowed">>}},
                                                    req(Port, post, "/v1/status", ?TOKEN, <<>>))},
              {"status", fun() -> status(Port) end},
              {"malformed JSON is 400", ?_assertMatch({400, #{<<"code">> := <<"bad_request">>}},
                                                      req(Port, put, "/v1/peers", ?TOKEN, <<"{\"revision\":">>))},
              {"wrong types are 400", ?_assertMatch({400, #{<<"code">> := <<"bad_request">>}},
                                                    req(Port, put, "/v1/peers", ?TOKEN, <<"{\"revision\":\"1\",\"peers\":[]}">>))},
              {"bad node name is 400", ?_assertMatch({400, #{<<"code">> := <<"bad_node_name">>}},
                                                     req(Port, put, "/v1/peers", ?TOKEN, <<"{\"revision\":1,\"peers\":[\"x\"]}">>))},
              {"oversized body is 413", ?_assertMatch({413, #{<<"code">> := <<"too_large">>}},
                                                      req(Port, put, "/v1/peers", ?TOKEN, binary:copy(<<" ">>, 1048577)))},
              {"oversized chunked body is 413", fun() -> chunked_too_large(Port) end},
              {"chunked body is read", fun() -> chunked_ok(Port) end},
              {"revisions: apply, retry, stale", fun() -> revisions(Port) end},
              {"garbage gets 400 and the agent lives on", fun() -> garbage(Port) end},
              {"keep-alive serves two requests on one connection", fun() -> keep_alive(Port) end},
              {"a half-sent head gets 408 at the head deadline", fun() -> half_head(Port) end},
              {"a client that sends nothing is closed without an answer", fun() -> silent(Port) end}]
     end}.

start() ->
    drover_agent_test_client:start_agent(#{token => ?TOKEN}).

stop(_) ->
    drover_agent_test_client:stop_agent().

status(Port) ->
    {200, S} = req(Port, get, "/v1/status", ?TOKEN, <<>>),
    ?assertMatch(#{<<"node">> := <<"nonode@nohost">>, <<"connected">> := [],
                   <<"otpRelease">> := _, <<"leaving">> := false,
                   <<"flags">> := #{<<"connectAll">> := _, <<"preventOverlappingPartitions">> := _,
                                    <<"netTicktime">> := _}}, S).

revisions(Port) ->
    Put = fun(Rev, Peers) ->
                  Body = iolist_to_binary(drover_agent_json:encode(#{revision => Rev, peers => Peers})),
                  req(Port, put, "/v1/peers", ?TOKEN, Body)
          end,
    {200, S1} = Put(10, [<<"b@h">>, <<"a@h">>]),
    ?assertMatch(#{<<"revision">> := 10, <<"managed">> := [<<"a@h">>, <<"b@h">>],
                   <<"failed">> := [_, _]}, S1),
    ?assertMatch({200, #{<<"revision">> := 10}}, Put(10, [<<"a@h">>, <<"b@h">>])),
    ?assertMatch({409, #{<<"code">> := <<"stale_revision">>}}, Put(10, [<<"a@h">>])),
    ?assertMatch({409, _}, Put(9, [])),
    ?assertMatch({409, _}, req(Port, post, "/v1/leave", ?TOKEN, <<"{\"revision\":9}">>)),
    ?assertMatch({200, #{<<"leaving">> := true, <<"managed">> := [], <<"revision">> := 11}},
                 req(Port, post, "/v1/leave", ?TOKEN, <<"{\"revision\":11}">>)),
    ?assertMatch({200, #{<<"leaving">> := true}},
                 req(Port, post, "/v1/leave", ?TOKEN, <<"{\"revision\":11}">>)),
    ?assertMatch({200, #{<<"leaving">> := false, <<"managed">> := []}}, Put(12, [])).

chunked_too_large(Port) ->
    Chunk = binary:copy(<<"x">>, 65536),
    Chunks = [[integer_to_list(65536, 16), "\r\n", Chunk, "\r\n"] || _ <- lists:seq(1, 17)],
    Raw = [head(put, "/v1/peers", ?TOKEN, [{"Transfer-Encoding", "chunked"}]), Chunks, "0\r\n\r\n"],
    ?assertMatch({413, _}, raw(Port, Raw)).

chunked_ok(Port) ->
    Body = <<"{\"revision\":1}">>,
    Raw = [head(post, "/v1/leave", ?TOKEN, [{"Transfer-Encoding", "chunked"}]),
           "4\r\n", binary:part(Body, 0, 4), "\r\n",
           integer_to_list(byte_size(Body) - 4, 16), ";ext=1\r\n", binary:part(Body, 4, byte_size(Body) - 4), "\r\n",
           "0\r\n\r\n"],
    %% Revision 1 is stale by now or applies; either way the body was read.
    {Code, _} = raw(Port, Raw),
    ?assert(Code =:= 200 orelse Code =:= 409).

garbage(Port) ->
    Inputs = [<<"GARBAGE\r\n\r\n">>, <<"GET /v1/status HTTP/9.9\r\n\r\n">>,
              <<"GET http://x/v1/status HTTP/1.1\r\n\r\n">>,
              <<"PUT /v1/peers HTTP/1.1\r\nAuthorization: Bearer s3cret\r\nContent-Length: abc\r\n\r\n">>,
              <<"GET /v1/health HTTP/1.1\r\nBad Header Line\r\n\r\n">>,
              <<"GET /v1/health HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n">>],
    [?assertMatch({400, _}, raw(Port, I)) || I <- Inputs],
    ?assertMatch({431, _}, raw(Port, <<"GET /v1/health HTTP/1.1\r\n",
                                       (binary:copy(<<"X-A: b\r\n">>, 200))/binary, "\r\n">>)),
    ?assertMatch({200, _}, req(Port, get, "/v1/health", none, <<>>)).

keep_alive(Port) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}, {packet, http_bin}]),
    R = iolist_to_binary(head(get, "/v1/health", none, [])),
    ok = gen_tcp:send(S, R),
    ?assertMatch({200, _}, response(S)),
    ok = gen_tcp:send(S, R),
    ?assertMatch({200, _}, response(S)),
    gen_tcp:close(S).

half_head(Port) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}, {packet, http_bin}]),
    ok = gen_tcp:send(S, <<"GET /v1/health HTTP/1.1\r\n">>),
    %% head_timeout is 500 ms: the agent answers 408 and closes.
    ?assertMatch({408, #{<<"code">> := <<"request_timeout">>}}, response(S)),
    ?assertEqual({error, closed}, gen_tcp:recv(S, 0, 10000)).

silent(Port) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}]),
    ?assertEqual({error, closed}, gen_tcp:recv(S, 0, 10000)).
