%% @doc The agent's HTTP/1.1 server: a listener that owns the socket, an
%% acceptor, and one process per connection (a crash or a slow client
%% touches only its own connection). Requests are parsed with the
%% runtime's `{packet, http_bin}' parser; bodies are capped, reads time out.
-module(drover_agent_http).
-behaviour(gen_server).

-include_lib("kernel/include/logger.hrl").

-export([start_link/1, port/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).
%% Internal, spawned.
-export([accept_loop/2, connection/2]).

%% At most this many header lines per request.
-define(MAX_HEADERS, 100).
%% Longest request or header line.
-define(MAX_LINE, 8192).
%% After an early error answer, discard at most this much of the unread
%% body, for at most DRAIN_TIMEOUT, so that the client reads the answer.
-define(MAX_DRAIN, 4 * 1024 * 1024).
-define(DRAIN_TIMEOUT, 1000).
%% Until the controller has applied a peer set, a health probe answered
%% re-announces "up", at most every REANNOUNCE_GAP ms and only during the
%% first REANNOUNCE_FOR ms after the listener opened (see maybe_reannounce/1).
-define(REANNOUNCE_GAP, 500).
-define(REANNOUNCE_FOR, 120000).

%% @doc Starts the listener. Opts: see drover_agent:normalize_options/1.
start_link(Opts) ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, Opts, []).

%% @doc The port the agent listens on (useful with port 0).
-spec port() -> inet:port_number().
port() ->
    gen_server:call(?MODULE, port).

init(#{port := Port, ip := IP} = Opts) ->
    process_flag(trap_exit, true),
    SockOpts = [binary, {active, false}, {packet, http_bin}, {reuseaddr, true},
                {ip, IP}, {backlog, 1024}, {packet_size, ?MAX_LINE}, {nodelay, true}],
    case gen_tcp:listen(Port, SockOpts) of
        {ok, LSock} ->
            {ok, Actual} = inet:port(LSock),
            Acceptor = spawn_link(?MODULE, accept_loop, [LSock, Opts]),
            ?LOG_NOTICE(#{what => "drover_agent: listening", ip => inet:ntoa(IP), port => Actual}),
            Opened = erlang:monotonic_time(millisecond),
            LastAnnounce = atomics:new(1, [{signed, true}]),
            atomics:put(LastAnnounce, 1, Opened - ?REANNOUNCE_GAP),
            persistent_term:put({?MODULE, reannounce}, {Opened, LastAnnounce}),
            _ = spawn(fun() -> drover_agent_announce:announce(up, Opts) end),
            {ok, #{lsock => LSock, port => Actual, acceptor => Acceptor, opts => Opts}};
        {error, Reason} ->
            {stop, {listen, Port, Reason}}
    end.

handle_call(port, _From, #{port := Port} = S) ->
    {reply, Port, S};
handle_call(_, _From, S) ->
    {reply, {error, unknown_call}, S}.

handle_cast(_, S) ->
    {noreply, S}.

handle_info({'EXIT', Pid, Reason}, #{acceptor := Pid} = S) ->
    {stop, {acceptor, Reason}, S};
handle_info(_, S) ->
    {noreply, S}.

terminate(_, #{lsock := LSock}) ->
    gen_tcp:close(LSock).

%% @private
accept_loop(LSock, Opts) ->
    case gen_tcp:accept(LSock) of
        {ok, Sock} ->
            Pid = spawn(?MODULE, connection, [Sock, Opts]),
            case gen_tcp:controlling_process(Sock, Pid) of
                ok -> Pid ! go;
                _ -> gen_tcp:close(Sock), exit(Pid, kill)
            end,
            accept_loop(LSock, Opts);
        {error, closed} ->
            exit(normal);
        {error, Reason} ->
            %% emfile and the like: back off a little instead of spinning.
            ?LOG_WARNING(#{what => "drover_agent: accept failed", reason => Reason}),
            timer:sleep(100),
            accept_loop(LSock, Opts)
    end.

%% @private One connection: requests one after another (keep-alive).
connection(Sock, Opts) ->
    receive go -> ok after 5000 -> exit(normal) end,
    try
        serve(Sock, Opts, maps:get(read_timeout, Opts))
    catch
        Class:Reason:Stack ->
            ?LOG_ERROR(#{what => "drover_agent: connection crashed", class => Class, reason => Reason, stack => Stack}),
            _ = send(Sock, 500, error_body(internal, <<"internal error">>), false, [])
    end,
    gen_tcp:close(Sock).

serve(Sock, Opts, FirstTimeout) ->
    case read_head(Sock, FirstTimeout, maps:get(read_timeout, Opts)) of
        {ok, Req} ->
            case handle(Sock, Req, Opts) of
                {keep_alive, true} -> serve(Sock, Opts, maps:get(idle_timeout, Opts));
                _ -> ok
            end;
        {error, {Status, Code, Msg}} ->
            _ = send(Sock, Status, error_body(Code, Msg), false, []),
            drain(Sock);
        {error, _} ->
            ok
    end.

%%% Reading

read_head(Sock, FirstTimeout, Timeout) ->
    case gen_tcp:recv(Sock, 0, FirstTimeout) of
        {ok, {http_request, Method, {abs_path, Path}, {1, Minor}}} ->
            read_headers(Sock, Timeout, #{method => Method, path => Path, minor => Minor,
                                          headers => #{}, count => 0});
        {ok, {http_request, _, _, _}} ->
            {error, {400, bad_request, <<"unsupported request target or version">>}};
        {ok, {http_error, _}} ->
            {error, {400, bad_request, <<"malformed request line">>}};
        {ok, _} ->
            {error, {400, bad_request, <<"malformed request">>}};
        {error, emsgsize} ->
            {error, {400, bad_request, <<"request line too long">>}};
        {error, _} = Err ->
            Err
    end.

read_headers(_, _, #{count := N}) when N > ?MAX_HEADERS ->
    {error, {400, bad_request, <<"too many headers">>}};
read_headers(Sock, Timeout, #{headers := H, count := N} = Req) ->
    case gen_tcp:recv(Sock, 0, Timeout) of
        {ok, {http_header, _, Name, _, Value}} ->
            Key = header_key(Name),
            case {Key, maps:find(Key, H)} of
                {<<"content-length">>, {ok, Old}} when Old =/= Value ->
                    {error, {400, bad_request, <<"conflicting content-length">>}};
                _ ->
                    read_headers(Sock, Timeout, Req#{headers := H#{Key => Value}, count := N + 1})
            end;
        {ok, http_eoh} ->
            {ok, Req};
        {ok, {http_error, _}} ->
            {error, {400, bad_request, <<"malformed header">>}};
        {error, emsgsize} ->
            {error, {400, bad_request, <<"header line too long">>}};
        {ok, _} ->
            {error, {400, bad_request, <<"malformed request">>}};
        {error, _} = Err ->
            Err
    end.

header_key(Name) when is_atom(Name) -> string:lowercase(atom_to_binary(Name, latin1));
header_key(Name) -> string:lowercase(Name).

%% Reads the body, at most Max bytes. {error, {Status, Code, Msg}} leaves
%% the connection unusable (the caller closes it).
read_body(Sock, #{headers := H}, Max, Timeout) ->
    TE = maps:get(<<"transfer-encoding">>, H, undefined),
    CL = maps:get(<<"content-length">>, H, undefined),
    case {TE, CL} of
        {undefined, undefined} -> {ok, <<>>};
        {undefined, _} -> read_fixed(Sock, CL, Max, Timeout);
        {_, undefined} ->
            case string:lowercase(string:trim(TE)) of
                <<"chunked">> ->
                    continue(Sock, H),
                    read_chunked(Sock, Max, Timeout, []);
                _ -> {error, {400, bad_request, <<"unsupported transfer-encoding">>}}
            end;
        _ -> {error, {400, bad_request, <<"both transfer-encoding and content-length">>}}
    end.

read_fixed(Sock, CL, Max, Timeout) ->
    case string:to_integer(string:trim(CL)) of
        {N, <<>>} when is_integer(N), N > Max ->
            {error, {413, too_large, too_large_msg(Max)}};
        {0, <<>>} -> {ok, <<>>};
        {N, <<>>} when is_integer(N), N > 0 ->
            continue(Sock, #{}),
            ok = inet:setopts(Sock, [{packet, raw}]),
            Result = gen_tcp:recv(Sock, N, Timeout),
            ok = inet:setopts(Sock, [{packet, http_bin}]),
            Result;
        _ -> {error, {400, bad_request, <<"bad content-length">>}}
    end.

read_chunked(Sock, Left, Timeout, Acc) ->
    ok = inet:setopts(Sock, [{packet, line}]),
    case gen_tcp:recv(Sock, 0, Timeout) of
        {ok, Line} ->
            [Hex | _] = binary:split(string:trim(Line), <<";">>),
            case catch binary_to_integer(string:trim(Hex), 16) of
                0 -> skip_trailers(Sock, Timeout, Acc);
                N when is_integer(N), N > Left ->
                    {error, {413, too_large, too_large_msg(Left)}};
                N when is_integer(N), N > 0 ->
                    ok = inet:setopts(Sock, [{packet, raw}]),
                    case gen_tcp:recv(Sock, N + 2, Timeout) of
                        {ok, <<Chunk:N/binary, "\r\n">>} ->
                            read_chunked(Sock, Left - N, Timeout, [Acc, Chunk]);
                        {ok, _} -> {error, {400, bad_request, <<"malformed chunk">>}};
                        Err -> Err
                    end;
                _ -> {error, {400, bad_request, <<"malformed chunk size">>}}
            end;
        Err -> Err
    end.

skip_trailers(Sock, Timeout, Acc) ->
    case gen_tcp:recv(Sock, 0, Timeout) of
        {ok, <<"\r\n">>} ->
            ok = inet:setopts(Sock, [{packet, http_bin}]),
            {ok, iolist_to_binary(Acc)};
        {ok, _} -> skip_trailers(Sock, Timeout, Acc);
        Err -> Err
    end.

too_large_msg(_) ->
    <<"request body larger than 1048576 bytes">>.

%% Answers `Expect: 100-continue' before the body is read.
continue(Sock, H) ->
    case string:lowercase(maps:get(<<"expect">>, H, <<>>)) of
        <<"100-continue">> -> _ = gen_tcp:send(Sock, <<"HTTP/1.1 100 Continue\r\n\r\n">>);
        _ -> ok
    end.

%% Discards what the client still sends after an early answer, so that the
%% close does not reset the connection before the client read the answer.
drain(Sock) ->
    _ = gen_tcp:shutdown(Sock, write),
    _ = inet:setopts(Sock, [{packet, raw}]),
    Deadline = erlang:monotonic_time(millisecond) + ?DRAIN_TIMEOUT,
    drain(Sock, ?MAX_DRAIN, Deadline).

drain(_, Left, _) when Left =< 0 -> ok;
drain(Sock, Left, Deadline) ->
    case gen_tcp:recv(Sock, 0, max(0, Deadline - erlang:monotonic_time(millisecond))) of
        {ok, Data} -> drain(Sock, Left - byte_size(Data), Deadline);
        _ -> ok
    end.

%%% Handling

%% @doc Re-announces "up" after a health probe was answered, while the
%% controller has not applied a peer set yet (revision 0, not leaving), at
%% most every ?REANNOUNCE_GAP ms, during the agent's first ?REANNOUNCE_FOR
%% ms. Rancher turns a container healthy right after the probe that passes
%% its healthy threshold; the announcement makes the controller read the
%% container at that moment instead of waiting for Cattle's next 1 s event
%% tick. Rancher still decides: the controller only reads.
maybe_reannounce(#{announce_url := undefined}) ->
    ok;
maybe_reannounce(Opts) ->
    Now = erlang:monotonic_time(millisecond),
    case {unapplied(), persistent_term:get({?MODULE, reannounce}, undefined)} of
        {true, {Started, Last}} when Now - Started < ?REANNOUNCE_FOR ->
            Prev = atomics:get(Last, 1),
            case Now - Prev >= ?REANNOUNCE_GAP andalso
                atomics:compare_exchange(Last, 1, Prev, Now) =:= ok of
                true -> _ = spawn(fun() -> drover_agent_announce:announce(up, Opts) end), ok;
                false -> ok
            end;
        _ ->
            ok
    end.

unapplied() ->
    try drover_agent_mesh:state() of
        #{revision := 0, leaving := false} -> true;
        _ -> false
    catch
        _:_ -> false
    end.

handle(Sock, #{method := Method, path := Path, headers := H, minor := Minor} = Req, Opts) ->
    KeepAlive = keep_alive(Minor, H),
    case dispatch(Method, Path, H, Opts) of
        {ok, health} ->
            Body = drover_agent_json:encode(#{status => ok, node => atom_to_binary(node(), utf8)}),
            Result = with_body(Sock, Req, Opts, KeepAlive, fun(_) -> {200, Body} end),
            maybe_reannounce(Opts),
            Result;
        {ok, Route} ->
            with_body(Sock, Req, Opts, KeepAlive, fun(B) -> answer(Route, B) end);
        {error, Status, Code, Msg, Extra} ->
            _ = send(Sock, Status, error_body(Code, Msg), false, Extra),
            drain(Sock),
            {keep_alive, false}
    end.

dispatch(Method, Path, H, #{token := Token}) ->
    Authorized = fun() ->
                         case drover_agent_rules:bearer_token(maps:get(<<"authorization">>, H, undefined)) of
                             {ok, Got} -> drover_agent_rules:token_equal(Token, Got);
                             error -> false
                         end
                 end,
    case drover_agent_rules:route(Method, Path) of
        {ok, health} -> {ok, health};
        Route ->
            case Authorized() of
                false -> {error, 401, unauthorized, <<"missing or wrong bearer token">>,
                          [{<<"WWW-Authenticate">>, <<"Bearer realm=\"drover\"">>}]};
                true -> authorized_route(Route, Path)
            end
    end.

authorized_route({ok, Route}, _) -> {ok, Route};
authorized_route({error, not_found}, Path) ->
    {error, 404, not_found, <<"no such path: ", (printable(Path))/binary>>, []};
authorized_route({error, method_not_allowed, Allow}, _) ->
    {error, 405, method_not_allowed, <<"method not allowed; allowed: ", Allow/binary>>,
     [{<<"Allow">>, Allow}]}.

printable(B) when byte_size(B) > 64 -> printable(binary:part(B, 0, 64));
printable(B) -> << <<(if C >= 16#20, C < 16#7F -> C; true -> $? end)>> || <<C>> <= B >>.

with_body(Sock, Req, #{max_body := Max, read_timeout := T}, KeepAlive, Fun) ->
    case read_body(Sock, Req, Max, T) of
        {ok, Body} ->
            {Status, RespBody} = Fun(Body),
            Sent = case maps:get(method, Req) of
                       'HEAD' -> send_head(Sock, Status, iolist_size(RespBody), KeepAlive);
                       _ -> send(Sock, Status, RespBody, KeepAlive, [])
                   end,
            ok_or_close(Sent, KeepAlive);
        {error, {Status, Code, Msg}} ->
            _ = send(Sock, Status, error_body(Code, Msg), false, []),
            drain(Sock),
            {keep_alive, false};
        {error, _} ->
            {keep_alive, false}
    end.

ok_or_close(ok, KeepAlive) -> {keep_alive, KeepAlive};
ok_or_close(_, _) -> {keep_alive, false}.

keep_alive(Minor, H) ->
    case {Minor, string:lowercase(maps:get(<<"connection">>, H, <<>>))} of
        {_, <<"close">>} -> false;
        {1, _} -> true;
        {_, <<"keep-alive">>} -> true;
        _ -> false
    end.

%% The protocol's three authenticated routes; returns {Status, Body}.
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
result({error, stopping}) ->
    {503, error_body(internal, <<"node is stopping">>)}.

error_body(Code, Msg) ->
    drover_agent_json:encode(#{code => atom_to_binary(Code, utf8), message => Msg}).

send_head(Sock, Status, Len, KeepAlive) ->
    Conn = case KeepAlive of true -> <<"keep-alive">>; false -> <<"close">> end,
    gen_tcp:send(Sock, [<<"HTTP/1.1 ">>, integer_to_binary(Status), $\s, reason(Status),
                        <<"\r\nContent-Type: application/json\r\nContent-Length: ">>,
                        integer_to_binary(Len), <<"\r\nConnection: ">>, Conn, <<"\r\n\r\n">>]).

send(Sock, Status, Body, KeepAlive, Extra) ->
    Conn = case KeepAlive of true -> <<"keep-alive">>; false -> <<"close">> end,
    Headers = [[N, <<": ">>, V, <<"\r\n">>] || {N, V} <- Extra],
    gen_tcp:send(Sock, [<<"HTTP/1.1 ">>, integer_to_binary(Status), $\s, reason(Status),
                        <<"\r\nContent-Type: application/json\r\nContent-Length: ">>,
                        integer_to_binary(iolist_size(Body)), <<"\r\nConnection: ">>, Conn,
                        <<"\r\n">>, Headers, <<"\r\n">>, Body]).

reason(200) -> <<"OK">>;
reason(400) -> <<"Bad Request">>;
reason(401) -> <<"Unauthorized">>;
reason(404) -> <<"Not Found">>;
reason(405) -> <<"Method Not Allowed">>;
reason(409) -> <<"Conflict">>;
reason(413) -> <<"Content Too Large">>;
reason(500) -> <<"Internal Server Error">>;
reason(503) -> <<"Service Unavailable">>;
reason(_) -> <<"Unknown">>.
