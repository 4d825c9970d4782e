%% @doc One HTTP connection of the agent: started, linked and counted by
%% the acceptor (drover_agent_http), it serves requests one after another
%% (keep-alive, pipelining) until the client closes, a deadline passes or a
%% request is refused.
%%
%% Deadlines, one per phase rather than per read: the TLS handshake and the
%% whole request head must arrive within `head_timeout' (5 s) of the
%% connection's accept (or, on a kept-alive connection, of the next
%% request's first byte), the whole body within `body_timeout' (10 s) of the
%% head's end, and a kept-alive connection waits at most `idle_timeout'
%% (60 s) for its next request. A refusal is answered with a JSON
%% `{code, message}' body, after which the connection sends its FIN and
%% discards what the client still sends (at most 1 s, 4 MiB) so that the
%% client reads the answer rather than a reset.
-module(drover_agent_http_conn).

-include_lib("kernel/include/logger.hrl").

-export([start/2]).

%% After a refusal, discard at most this much of what the client still
%% sends, for at most DRAIN_TIMEOUT ms, before closing.
-define(MAX_DRAIN, 4 * 1024 * 1024).
-define(DRAIN_TIMEOUT, 1000).
%% The acceptor hands the socket over at once; this only bounds a lost
%% hand-over.
-define(HANDOVER_TIMEOUT, 5000).
%% Longest chunk-size line of a chunked body, and longest trailer part.
-define(MAX_CHUNK_LINE, 1024).
-define(MAX_TRAILERS, 8192).

%% @private Runs in the process spawned by the acceptor: waits for the
%% socket, then serves it. Accepted is the accept's monotonic time (ms).
-spec start(map(), integer()) -> ok.
start(Opts, Accepted) ->
    receive
        {socket, Sock} -> run(Sock, Opts, Accepted + maps:get(head_timeout, Opts))
    after ?HANDOVER_TIMEOUT ->
        ok
    end.

run(Sock0, Opts, Deadline) ->
    case drover_agent_sock:handshake(Sock0, left(Deadline)) of
        {ok, Sock} ->
            C = #{sock => Sock, opts => Opts},
            try
                serve(C, <<>>, Deadline)
            catch
                Class:Reason:Stack ->
                    ?LOG_ERROR(#{what => "drover_agent: connection crashed", class => Class,
                                 reason => Reason, stack => Stack}),
                    _ = send(Sock, 500, error_body(internal, <<"internal error">>), false, [])
            end,
            drover_agent_sock:close(Sock);
        {error, _} ->
            drover_agent_sock:close(Sock0)
    end.

%%% Requests

serve(#{sock := Sock, opts := Opts} = C, Buf, Deadline) ->
    case read_head(Sock, drover_agent_head:feed(Buf, drover_agent_head:new()), Deadline,
                   Buf =/= <<>>) of
        {ok, Req, Rest} ->
            case handle(C, Req, Rest) of
                {keep_alive, Rest1} -> idle(C, Rest1);
                close -> ok
            end;
        {error, Status, Code, Msg} ->
            refuse(Sock, Status, Code, Msg, []);
        {timeout, true} ->
            refuse(Sock, 408, request_timeout,
                   <<"request head not complete within ",
                     (integer_to_binary(maps:get(head_timeout, Opts)))/binary, " ms">>, []);
        _ ->
            ok
    end.

%% Waits for the next request on a kept-alive connection; its head has
%% head_timeout from its first byte.
idle(#{sock := Sock, opts := #{idle_timeout := Idle, head_timeout := Head}} = C, <<>>) ->
    case drover_agent_sock:recv(Sock, 0, Idle) of
        {ok, Data} -> serve(C, Data, now_ms() + Head);
        {error, _} -> ok
    end;
idle(#{opts := #{head_timeout := Head}} = C, Pipelined) ->
    serve(C, Pipelined, now_ms() + Head).

%% Seen: whether any byte of this request arrived (a connection that sends
%% nothing at all is closed without an answer).
read_head(Sock, {more, P}, Deadline, Seen) ->
    case drover_agent_sock:recv(Sock, 0, left(Deadline)) of
        {ok, Data} -> read_head(Sock, drover_agent_head:feed(Data, P), Deadline, true);
        {error, timeout} -> {timeout, Seen};
        {error, _} -> closed
    end;
read_head(_, Result, _, _) ->
    Result.

handle(#{sock := Sock, opts := Opts}, #{method := Method, path := Path, headers := H,
                                        minor := Minor} = Req, Buf) ->
    KeepAlive = keep_alive(Minor, H),
    case drover_agent_rules:dispatch(Method, Path, authorized(H, Opts)) of
        {ok, Route} ->
            case read_body(Sock, Req, Buf, Opts) of
                {ok, Body, Rest} ->
                    {Status, RespBody} = answer(Route, Body),
                    Sent = case Method of
                               'HEAD' -> send_head(Sock, Status, iolist_size(RespBody), KeepAlive);
                               _ -> send(Sock, Status, RespBody, KeepAlive, [])
                           end,
                    _ = case Route of
                            health -> drover_agent_http:health_answered(Opts);
                            _ -> ok
                        end,
                    case {Sent, KeepAlive} of
                        {ok, true} -> {keep_alive, Rest};
                        _ -> close
                    end;
                {error, Status, Code, Msg} ->
                    refuse(Sock, Status, Code, Msg, []),
                    close;
                _ ->
                    close
            end;
        {error, Status, Code, Msg, Extra} ->
            refuse(Sock, Status, Code, Msg, Extra),
            close
    end.

authorized(H, #{token := Token}) ->
    case drover_agent_rules:bearer_token(maps:get(<<"authorization">>, H, undefined)) of
        {ok, Got} -> drover_agent_rules:token_equal(Token, Got);
        error -> false
    end.

keep_alive(Minor, H) ->
    case {Minor, string:lowercase(string:trim(maps:get(<<"connection">>, H, <<>>)))} of
        {_, <<"close">>} -> false;
        {1, _} -> true;
        {_, <<"keep-alive">>} -> true;
        _ -> false
    end.

%% The protocol's authenticated routes; returns {Status, Body}.
answer(health, _) ->
    {200, drover_agent_json:encode(#{status => ok, node => atom_to_binary(node(), utf8)})};
answer(status, _) ->
    {200, drover_agent_json:encode(drover_agent:status())};
answer(Route, Body) ->
    case drover_agent_json:decode(Body) of
        {ok, Json} -> apply_request(Route, Json);
        {error, _} -> {400, error_body(bad_request, <<"malformed JSON body">>)}
    end.

apply_request(peers, Json) ->
    case drover_agent_rules:decode_set_peers(Json) of
        {ok, Rev, Peers} -> result(drover_agent_mesh:set_peers(Rev, Peers));
        {error, Code, Msg} -> {400, error_body(Code, Msg)}
    end;
apply_request(leave, Json) ->
    case drover_agent_rules:decode_leave(Json) of
        {ok, Rev} -> result(drover_agent_mesh:leave(Rev));
        {error, Code, Msg} -> {400, error_body(Code, Msg)}
    end.

result(ok) ->
    {200, drover_agent_json:encode(drover_agent:status())};
result({error, stale}) ->
    {409, error_body(stale_revision, <<"revision is older than the applied one, "
                                        "or equal with a different request">>)};
result({error, atom_budget}) ->
    {503, error_body(atom_budget_exhausted,
                     <<"the agent's atom budget is used up: new node names are refused "
                       "(names that are already atoms still pass); restart the node to reset it">>)};
result({error, stopping}) ->
    {503, error_body(internal, <<"node is stopping">>)}.

%%% Bodies

%% Reads the body (at most max_body bytes) within body_timeout. Returns
%% the body and the bytes after it (a pipelined request).
read_body(Sock, #{headers := H, minor := Minor}, Buf, #{max_body := Max, body_timeout := T}) ->
    Deadline = now_ms() + T,
    Continue = fun() -> continue(Sock, Minor, H) end,
    case {maps:find(<<"transfer-encoding">>, H), maps:find(<<"content-length">>, H)} of
        {error, error} ->
            {ok, <<>>, Buf};
        {error, {ok, CL}} ->
            case content_length(CL) of
                {ok, N} when N > Max -> too_large(Max);
                {ok, N} when byte_size(Buf) >= N -> split(Buf, N);
                {ok, N} -> Continue(), need(Sock, Buf, N, Deadline);
                error -> {error, 400, bad_request, <<"bad content-length: want decimal digits only">>}
            end;
        {{ok, TE}, error} ->
            case string:lowercase(string:trim(TE)) of
                <<"chunked">> -> Continue(), chunked(Sock, Buf, {Max, Max}, Deadline, []);
                _ -> {error, 400, bad_request, <<"unsupported transfer-encoding">>}
            end;
        _ ->
            {error, 400, bad_request, <<"both transfer-encoding and content-length">>}
    end.

%% RFC 9110 8.6: 1*DIGIT. No sign, no spaces, no hex.
content_length(<<>>) -> error;
content_length(V) ->
    case lists:all(fun(C) -> C >= $0 andalso C =< $9 end, binary_to_list(V)) of
        true -> {ok, binary_to_integer(V)};
        false -> error
    end.

too_large(Max) ->
    {error, 413, too_large, <<"request body larger than ", (integer_to_binary(Max))/binary, " bytes">>}.

%% Answers `Expect: 100-continue' before reading the rest of the body.
continue(Sock, 1, H) ->
    case string:lowercase(string:trim(maps:get(<<"expect">>, H, <<>>))) of
        <<"100-continue">> -> _ = drover_agent_sock:send(Sock, <<"HTTP/1.1 100 Continue\r\n\r\n">>), ok;
        _ -> ok
    end;
continue(_, _, _) ->
    ok.

split(Buf, N) ->
    <<Body:N/binary, Rest/binary>> = Buf,
    {ok, Body, Rest}.

%% Reads until Buf holds N bytes (raw recv of an exact length).
need(_, Buf, N, _) when byte_size(Buf) >= N ->
    split(Buf, N);
need(Sock, Buf, N, Deadline) ->
    case drover_agent_sock:recv(Sock, N - byte_size(Buf), left(Deadline)) of
        {ok, Data} -> need(Sock, <<Buf/binary, Data/binary>>, N, Deadline);
        {error, timeout} -> body_timeout();
        {error, _} -> closed
    end.

body_timeout() ->
    {error, 408, request_timeout, <<"request body not complete in time">>}.

%% Limit is {max_body, bytes still allowed}.
chunked(Sock, Buf, {Max, Left}, Deadline, Acc) ->
    case line(Sock, Buf, ?MAX_CHUNK_LINE, Deadline) of
        {ok, Line, Rest} ->
            [Hex | _] = binary:split(Line, <<";">>),
            case chunk_size(string:trim(Hex)) of
                {ok, 0} -> trailers(Sock, Rest, ?MAX_TRAILERS, Deadline, Acc);
                {ok, N} when N > Left -> too_large(Max);
                {ok, N} ->
                    case need(Sock, Rest, N + 2, Deadline) of
                        {ok, <<Chunk:N/binary, "\r\n">>, Rest1} ->
                            chunked(Sock, Rest1, {Max, Left - N}, Deadline, [Acc, Chunk]);
                        {ok, _, _} -> {error, 400, bad_request, <<"malformed chunk">>};
                        Err -> Err
                    end;
                error -> {error, 400, bad_request, <<"malformed chunk size">>}
            end;
        Err ->
            Err
    end.

chunk_size(Hex) when byte_size(Hex) >= 1, byte_size(Hex) =< 8 ->
    case lists:all(fun(C) -> (C >= $0 andalso C =< $9) orelse (C >= $a andalso C =< $f)
                                 orelse (C >= $A andalso C =< $F) end, binary_to_list(Hex)) of
        true -> {ok, binary_to_integer(Hex, 16)};
        false -> error
    end;
chunk_size(_) ->
    error.

trailers(Sock, Buf, Budget, Deadline, Acc) ->
    case line(Sock, Buf, Budget, Deadline) of
        {ok, <<>>, Rest} -> {ok, iolist_to_binary(Acc), Rest};
        {ok, Line, Rest} -> trailers(Sock, Rest, Budget - byte_size(Line) - 2, Deadline, Acc);
        Err -> Err
    end.

%% One line (without CRLF) of at most Max bytes from Buf and the socket.
line(Sock, Buf, Max, Deadline) ->
    case binary:split(Buf, <<"\n">>) of
        [Line0, Rest] when byte_size(Line0) =< Max + 1 ->
            {ok, string:trim(Line0, trailing, "\r"), Rest};
        [_, _] ->
            {error, 400, bad_request, <<"chunked framing line too long">>};
        [_] when byte_size(Buf) > Max + 1 ->
            {error, 400, bad_request, <<"chunked framing line too long">>};
        [_] ->
            case drover_agent_sock:recv(Sock, 0, left(Deadline)) of
                {ok, Data} -> line(Sock, <<Buf/binary, Data/binary>>, Max, Deadline);
                {error, timeout} -> body_timeout();
                {error, _} -> closed
            end
    end.

%%% Answers

%% Answers a refused request, then closes cleanly: FIN first, then discard
%% what the client still sends, so that its TCP stack does not turn unread
%% data into a reset that destroys the answer.
refuse(Sock, Status, Code, Msg, Extra) ->
    _ = send(Sock, Status, error_body(Code, Msg), false, Extra),
    _ = drover_agent_sock:shutdown_write(Sock),
    drain(Sock, ?MAX_DRAIN, now_ms() + ?DRAIN_TIMEOUT).

drain(_, Left, _) when Left =< 0 ->
    ok;
drain(Sock, Left, Deadline) ->
    case drover_agent_sock:recv(Sock, 0, left(Deadline)) of
        {ok, Data} -> drain(Sock, Left - byte_size(Data), Deadline);
        _ -> ok
    end.

error_body(Code, Msg) ->
    drover_agent_json:encode(#{code => atom_to_binary(Code, utf8), message => Msg}).

send_head(Sock, Status, Len, KeepAlive) ->
    drover_agent_sock:send(Sock, [status_line(Status), <<"Content-Type: application/json\r\nContent-Length: ">>,
                                  integer_to_binary(Len), <<"\r\nConnection: ">>, connection(KeepAlive),
                                  <<"\r\n\r\n">>]).

send(Sock, Status, Body, KeepAlive, Extra) ->
    Headers = [[N, <<": ">>, V, <<"\r\n">>] || {N, V} <- Extra],
    drover_agent_sock:send(Sock, [status_line(Status), <<"Content-Type: application/json\r\nContent-Length: ">>,
                                  integer_to_binary(iolist_size(Body)), <<"\r\nConnection: ">>,
                                  connection(KeepAlive), <<"\r\n">>, Headers, <<"\r\n">>, Body]).

connection(true) -> <<"keep-alive">>;
connection(false) -> <<"close">>.

status_line(Status) ->
    [<<"HTTP/1.1 ">>, integer_to_binary(Status), $\s, reason(Status), <<"\r\n">>].

reason(200) -> <<"OK">>;
reason(400) -> <<"Bad Request">>;
reason(401) -> <<"Unauthorized">>;
reason(404) -> <<"Not Found">>;
reason(405) -> <<"Method Not Allowed">>;
reason(408) -> <<"Request Timeout">>;
reason(409) -> <<"Conflict">>;
reason(413) -> <<"Content Too Large">>;
reason(414) -> <<"URI Too Long">>;
reason(431) -> <<"Request Header Fields Too Large">>;
reason(500) -> <<"Internal Server Error">>;
reason(503) -> <<"Service Unavailable">>;
reason(_) -> <<"Unknown">>.

now_ms() -> erlang:monotonic_time(millisecond).

left(Deadline) -> max(0, Deadline - now_ms()).
