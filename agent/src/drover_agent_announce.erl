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
announce(Event, #{announce_url := Url, announce_token := Token} = Opts) ->
    Body = iolist_to_binary(drover_agent_json:encode(
                              #{event => atom_to_binary(Event, utf8),
                                node => atom_to_binary(node(), utf8),
                                ip => node_ip()})),
    case request(Url, Token, Body, Opts) of
        ok ->
            ?LOG_INFO(#{what => "drover_agent: announced", event => Event});
        {error, Reason} = Err ->
            ?LOG_WARNING(#{what => "drover_agent: announcement failed, carrying on", event => Event, reason => Reason}),
            Err
    end.

%% @doc POSTs Body to Url (path /v1/announce when the URL has none) with a
%% bearer token; ok on any 2xx answer within the `announce_timeout' of
%% Opts (milliseconds). An https:// URL is reached over TLS, verifying the
%% controller's certificate (see drover_agent_tls:client_options/2).
-spec request(string() | binary(), binary(), binary(), map()) -> ok | {error, term()}.
request(Url, Token, Body, #{announce_timeout := Timeout} = Opts) ->
    case uri_string:parse(Url) of
        #{scheme := Scheme, host := Host} = U when Host =/= "", Host =/= <<>> ->
            Path = case maps:get(path, U, "") of
                       P when P =:= ""; P =:= <<>>; P =:= "/"; P =:= <<"/">> -> <<"/v1/announce">>;
                       P -> P
                   end,
            Req = [<<"POST ">>, Path, <<" HTTP/1.1\r\nHost: ">>, host_header(Host, U), <<"\r\n">>,
                   <<"Content-Type: application/json\r\nConnection: close\r\n">>,
                   <<"Authorization: Bearer ">>, Token, <<"\r\n">>,
                   <<"Content-Length: ">>, integer_to_binary(byte_size(Body)),
                   <<"\r\n\r\n">>, Body],
            Deadline = erlang:monotonic_time(millisecond) + Timeout,
            case string:lowercase(to_list(Scheme)) of
                "http" -> send(tcp, to_list(Host), maps:get(port, U, 80), Req, Deadline, Opts);
                "https" -> send(ssl, to_list(Host), maps:get(port, U, 443), Req, Deadline, Opts);
                _ -> {error, bad_url}
            end;
        _ -> {error, bad_url}
    end.

host_header(Host, #{port := Port}) -> [Host, $:, integer_to_binary(Port)];
host_header(Host, _) -> Host.

send(Kind, Host, Port, Req, Deadline, Opts) ->
    case connect(Kind, Host, Port, Deadline, Opts) of
        {ok, Sock} ->
            Result = case drover_agent_sock:send(Sock, Req) of
                         ok -> read_status(Sock, <<>>, Deadline);
                         Err -> Err
                     end,
            drover_agent_sock:close(Sock),
            Result;
        Err -> Err
    end.

connect(tcp, Host, Port, Deadline, _) ->
    Opts = [binary, {active, false}, {packet, raw}],
    case gen_tcp:connect(Host, Port, Opts, left(Deadline)) of
        {ok, S} -> {ok, {tcp, S}};
        Err -> Err
    end;
connect(ssl, Host, Port, Deadline, Opts) ->
    case drover_agent_tls:client_options(Host, Opts) of
        {ok, Address, TlsOpts} ->
            case ssl:connect(Address, Port, [binary, {active, false}, {packet, raw} | TlsOpts],
                             left(Deadline)) of
                {ok, S} -> {ok, {ssl, S}};
                Err -> Err
            end;
        Err -> Err
    end.

%% The status code of the answer's status line (at most 1 KiB read).
read_status(Sock, Acc, Deadline) ->
    case erlang:decode_packet(http_bin, Acc, []) of
        {ok, {http_response, _, Code, _}, _} when Code >= 200, Code < 300 -> ok;
        {ok, {http_response, _, Code, _}, _} -> {error, {status, Code}};
        {more, _} when byte_size(Acc) < 1024 ->
            case drover_agent_sock:recv(Sock, 0, left(Deadline)) of
                {ok, Data} -> read_status(Sock, <<Acc/binary, Data/binary>>, Deadline);
                Err -> Err
            end;
        _ -> {error, bad_answer}
    end.

left(Deadline) -> max(0, Deadline - erlang:monotonic_time(millisecond)).

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
