%% @doc One face for the agent's two transports: plain TCP (gen_tcp) and
%% TLS (ssl). A socket is `{tcp, Port}' or `{ssl, SslSocket}'. Every read
%% takes a timeout; sockets are binary, passive and raw (the agent parses
%% HTTP itself, see drover_agent_head).
-module(drover_agent_sock).

-export([listen/3, accept/1, handshake/2, recv/3, send/2, peer_ip/1,
         controlling_process/2, shutdown_write/1, close/1, reset/1]).

-export_type([socket/0]).

-type socket() :: {tcp, gen_tcp:socket()} | {ssl, ssl:sslsocket()}.

%% A response that the client does not read blocks a send at most this
%% long; then the socket is closed.
-define(SEND_TIMEOUT, 5000).

%% @doc Opens the listening socket on IP:Port, TLS when Tls is a list of
%% ssl server options, plain TCP when it is `none'.
-spec listen(inet:port_number(), inet:ip_address(), none | [ssl:tls_server_option()]) ->
          {ok, socket()} | {error, term()}.
listen(Port, IP, Tls) ->
    Opts = [binary, {active, false}, {packet, raw}, {reuseaddr, true}, {ip, IP},
            {backlog, 4096}, {nodelay, true}, {send_timeout, ?SEND_TIMEOUT},
            {send_timeout_close, true}],
    case Tls of
        none -> wrap(tcp, gen_tcp:listen(Port, Opts));
        _ -> wrap(ssl, ssl:listen(Port, Opts ++ Tls))
    end.

%% @doc Accepts one connection (for TLS: before its handshake).
-spec accept(socket()) -> {ok, socket()} | {error, term()}.
accept({tcp, L}) -> wrap(tcp, gen_tcp:accept(L));
accept({ssl, L}) -> wrap(ssl, ssl:transport_accept(L)).

%% @doc Completes a TLS handshake; plain sockets pass through.
-spec handshake(socket(), timeout()) -> {ok, socket()} | {error, term()}.
handshake({tcp, _} = S, _) -> {ok, S};
handshake({ssl, S}, Timeout) -> wrap(ssl, ssl:handshake(S, Timeout)).

-spec recv(socket(), non_neg_integer(), timeout()) -> {ok, binary()} | {error, term()}.
recv({tcp, S}, Len, Timeout) -> gen_tcp:recv(S, Len, Timeout);
recv({ssl, S}, Len, Timeout) -> ssl:recv(S, Len, Timeout).

-spec send(socket(), iodata()) -> ok | {error, term()}.
send({tcp, S}, Data) -> gen_tcp:send(S, Data);
send({ssl, S}, Data) -> ssl:send(S, Data).

%% @doc The address of the connection's other end.
-spec peer_ip(socket()) -> {ok, inet:ip_address()} | {error, term()}.
peer_ip({tcp, S}) -> ip(inet:peername(S));
peer_ip({ssl, S}) -> ip(ssl:peername(S)).

-spec controlling_process(socket(), pid()) -> ok | {error, term()}.
controlling_process({tcp, S}, Pid) -> gen_tcp:controlling_process(S, Pid);
controlling_process({ssl, S}, Pid) -> ssl:controlling_process(S, Pid).

%% @doc Ends the sending half: the client reads the answer, then sees the
%% end of the stream.
-spec shutdown_write(socket()) -> ok | {error, term()}.
shutdown_write({tcp, S}) -> gen_tcp:shutdown(S, write);
shutdown_write({ssl, S}) -> ssl:shutdown(S, write).

-spec close(socket()) -> ok.
close({tcp, S}) -> _ = gen_tcp:close(S), ok;
close({ssl, S}) -> _ = ssl:close(S), ok.

%% @doc Closes with a TCP reset (no FIN handshake, no TIME_WAIT left on
%% this side): for connections refused at once.
-spec reset(socket()) -> ok.
reset({tcp, S}) ->
    _ = inet:setopts(S, [{linger, {true, 0}}]),
    close({tcp, S});
reset({ssl, S}) ->
    _ = ssl:setopts(S, [{linger, {true, 0}}]),
    close({ssl, S}).

wrap(Kind, {ok, S}) -> {ok, {Kind, S}};
wrap(_, {error, _} = E) -> E.

ip({ok, {IP, _Port}}) -> {ok, IP};
ip({error, _} = E) -> E.
