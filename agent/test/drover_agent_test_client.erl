%% HTTP client helpers of the agent's eunit tests: raw requests over real
%% sockets, from a chosen source address, and the agent started in this
%% (non-distributed) VM.
-module(drover_agent_test_client).
-include_lib("eunit/include/eunit.hrl").

-export([start_agent/1, stop_agent/0, req/5, req/6, head/4, raw/2, raw/3, connect/2,
         response/1, status/2, put_peers/4, read_request/1]).

-define(RECV_TIMEOUT, 10000).

%% Starts an agent on 127.0.0.1 with Opts over short test timeouts, and
%% returns its port.
start_agent(Opts) ->
    Base = #{port => 0, ip => "127.0.0.1", head_timeout => 500, body_timeout => 500,
             connect_timeout => 200},
    {ok, Pid} = drover_agent:start_link(maps:merge(Base, Opts)),
    unlink(Pid),
    drover_agent:port().

%% Stops the agent started by start_agent/1 (its supervisor, the mesh
%% server's only link) and waits until it is gone. proc_lib:stop/3 works
%% from any process; an exit signal is taken only from the parent.
stop_agent() ->
    case whereis(drover_agent_mesh) of
        undefined -> ok;
        Mesh ->
            {links, [Sup]} = process_info(Mesh, links),
            ok = proc_lib:stop(Sup, shutdown, 10000)
    end.

req(Port, Method, Path, Token, Body) ->
    req(Port, Method, Path, Token, Body, []).

req(Port, Method, Path, Token, Body, Extra) ->
    raw(Port, [head(Method, Path, Token, [{"Content-Length", integer_to_list(iolist_size(Body))} | Extra]),
               Body]).

head(Method, Path, Token, Extra) ->
    Auth = case Token of none -> []; _ -> [{"Authorization", ["Bearer ", Token]}] end,
    [string:uppercase(atom_to_list(Method)), " ", Path, " HTTP/1.1\r\nHost: x\r\n",
     [[N, ": ", V, "\r\n"] || {N, V} <- Auth ++ Extra], "\r\n"].

raw(Port, Data) ->
    raw(Port, Data, {127, 0, 0, 1}).

%% Sends Data from source address From and reads one response.
raw(Port, Data, From) ->
    {ok, S} = connect(Port, From),
    _ = gen_tcp:send(S, Data),
    R = response(S),
    gen_tcp:close(S),
    R.

connect(Port, From) ->
    gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}, {packet, http_bin}, {ip, From}]).

%% Reads one response: {Status, DecodedJsonBody}.
response(S) ->
    {ok, {http_response, _, Code, _}} = gen_tcp:recv(S, 0, ?RECV_TIMEOUT),
    Len = headers(S, 0),
    ok = inet:setopts(S, [{packet, raw}]),
    {ok, Body} = case Len of 0 -> {ok, <<>>}; _ -> gen_tcp:recv(S, Len, ?RECV_TIMEOUT) end,
    ok = inet:setopts(S, [{packet, http_bin}]),
    {ok, Json} = case Body of <<>> -> {ok, #{}}; _ -> drover_agent_json:decode(Body) end,
    {Code, Json}.

headers(S, Len) ->
    case gen_tcp:recv(S, 0, ?RECV_TIMEOUT) of
        {ok, {http_header, _, 'Content-Length', _, V}} -> headers(S, binary_to_integer(V));
        {ok, {http_header, _, _, _, _}} -> headers(S, Len);
        {ok, http_eoh} -> Len
    end.

status(Port, Token) ->
    {200, S} = req(Port, get, "/v1/status", Token, <<>>),
    S.

put_peers(Port, Token, Rev, Peers) ->
    Body = iolist_to_binary(drover_agent_json:encode(#{revision => Rev, peers => Peers})),
    req(Port, put, "/v1/peers", Token, Body).

%% Reads one whole request (head and Content-Length body) with Recv, a
%% fun returning the next bytes: for the fake controllers.
read_request(Recv) ->
    read_request(Recv, <<>>).

read_request(Recv, Acc) ->
    case binary:split(Acc, <<"\r\n\r\n">>) of
        [Head, Rest] ->
            {match, [Len]} = re:run(Head, "Content-Length: ([0-9]+)", [{capture, all_but_first, binary}, caseless]),
            case byte_size(Rest) >= binary_to_integer(Len) of
                true -> {ok, Acc};
                false -> read_more(Recv, Acc)
            end;
        _ -> read_more(Recv, Acc)
    end.

read_more(Recv, Acc) ->
    {ok, D} = Recv(),
    read_request(Recv, <<Acc/binary, D/binary>>).
