%% @doc Tells the controller that this node is up or stopping (POST
%% /v1/announce on the controller's node-facing endpoint). An announcement
%% is only a hint: failures are logged and otherwise ignored.
-module(drover_agent_announce).

-include_lib("kernel/include/logger.hrl").

-export([announce/2, request/4, node_ip/0]).

%% @doc Sends one announcement; returns ok or {error, Reason}. Does
%% nothing when no announce_url is configured.
-spec announce(up | stopping, map()) -> ok | {error, term()}.
announce(_Event, #{announce_url := undefined}) ->
    ok;
announce(Event, #{announce_url := Url, announce_token := Token, announce_timeout := Timeout}) ->
    Body = iolist_to_binary(drover_agent_json:encode(
                              #{event => atom_to_binary(Event, utf8),
                                node => atom_to_binary(node(), utf8),
                                ip => node_ip()})),
    case request(Url, Token, Body, Timeout) of
        ok ->
            ?LOG_INFO(#{what => "drover_agent: announced", event => Event});
        {error, Reason} = Err ->
            ?LOG_WARNING(#{what => "drover_agent: announcement failed, carrying on", event => Event, reason => Reason}),
            Err
    end.

%% @doc POSTs Body to Url (path /v1/announce when the URL has none) with a
%% bearer token; ok on any 2xx answer within Timeout milliseconds.
-spec request(string() | binary(), binary(), binary(), timeout()) -> ok | {error, term()}.
request(Url, Token, Body, Timeout) ->
    case uri_string:parse(Url) of
        #{scheme := Scheme, host := Host} = U when Scheme =:= "http"; Scheme =:= <<"http">> ->
            Port = maps:get(port, U, 80),
            Path = case maps:get(path, U, "") of
                       P when P =:= ""; P =:= <<>>; P =:= "/"; P =:= <<"/">> -> <<"/v1/announce">>;
                       P -> P
                   end,
            send(to_list(Host), Port, Path, Token, Body, Timeout);
        _ -> {error, bad_url}
    end.

send(Host, Port, Path, Token, Body, Timeout) ->
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    case gen_tcp:connect(Host, Port, [binary, {active, false}, {packet, raw}], Timeout) of
        {ok, Sock} ->
            Req = [<<"POST ">>, Path, <<" HTTP/1.1\r\nHost: ">>, Host, <<"\r\n">>,
                   <<"Content-Type: application/json\r\nConnection: close\r\n">>,
                   <<"Authorization: Bearer ">>, Token, <<"\r\n">>,
                   <<"Content-Length: ">>, integer_to_binary(byte_size(Body)),
                   <<"\r\n\r\n">>, Body],
            Result = case gen_tcp:send(Sock, Req) of
                         ok -> read_status(Sock, Deadline);
                         Err -> Err
                     end,
            gen_tcp:close(Sock),
            Result;
        Err -> Err
    end.

read_status(Sock, Deadline) ->
    ok = inet:setopts(Sock, [{packet, http_bin}]),
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    case gen_tcp:recv(Sock, 0, Left) of
        {ok, {http_response, _, Code, _}} when Code >= 200, Code < 300 -> ok;
        {ok, {http_response, _, Code, _}} -> {error, {status, Code}};
        {ok, Other} -> {error, Other};
        Err -> Err
    end.

%% @doc This node's IP: the host part of its name when that is an IPv4
%% address, else the first non-loopback IPv4 address of an interface.
-spec node_ip() -> binary().
node_ip() ->
    [_, Host] = string:split(atom_to_list(node()), "@"),
    case inet:parse_ipv4strict_address(Host) of
        {ok, _} -> list_to_binary(Host);
        _ -> first_interface_ip()
    end.

first_interface_ip() ->
    case inet:getifaddrs() of
        {ok, Ifs} ->
            Addrs = [A || {_, Opts} <- Ifs, {addr, {_, _, _, _} = A} <- Opts,
                          element(1, A) =/= 127],
            case Addrs of
                [A | _] -> list_to_binary(inet:ntoa(A));
                [] -> <<>>
            end;
        _ -> <<>>
    end.

to_list(B) when is_binary(B) -> binary_to_list(B);
to_list(L) -> L.
