%% @doc drover_agent: the node side of drover. It serves drover's node
%% admin protocol (docs/nodeapi.md) inside a BEAM node, so that the drover
%% controller can tell the node which peers to hold.
%%
%% Embed it in a supervision tree with child_spec/1, from Erlang
%% (`drover_agent:child_spec(#{port => 4001, token => <<"...">>})') or from
%% Elixir (`{:drover_agent, port: 4001, token: "..."}'), or configure the
%% application environment (`port' set) and let the drover_agent
%% application start it. Run one agent per node.
%%
%% Options (a map or a proplist; unset options fall back to the
%% drover_agent application environment, then to the defaults):
%% <ul>
%% <li>`port' (4001): TCP port; 0 picks a free one (see port/0).</li>
%% <li>`ip' (any): address to listen on, a tuple or a string.</li>
%% <li>`token', or `token_file' (a file holding it), or `token_env' (an
%%     environment variable holding it): the bearer token. Without one,
%%     every authenticated call is refused.</li>
%% <li>`announce_url' (none): the controller's node-facing endpoint, e.g.
%%     "http://10.42.0.2:4002"; `announce_token' its bearer token.</li>
%% <li>`connect_timeout' (1500 ms): how long a peer set waits for its
%%     connects (net_kernel:connect_node/1 blocks 3-7 s on a dead host);
%%     below the controller's 2 s per-attempt timeout.</li>
%% <li>`announce_timeout' (1000 ms).</li>
%% <li>`head_timeout' (5000 ms): the TLS handshake and the whole request
%%     head must arrive within it; `body_timeout' (10000 ms): the whole
%%     body; `idle_timeout' (60000 ms): a kept-alive connection's wait for
%%     its next request.</li>
%% <li>`max_connections' (1024, lowered to fit the descriptor limit) and
%%     `max_connections_per_source' (64): connections beyond are closed at
%%     once.</li>
%% <li>`max_new_atoms' (100000): the atom budget of the VM (see
%%     drover_agent_atoms).</li>
%% <li>`before_leave' (none): the application's leave hook, an
%%     `{M, F, A}' or a fun of arity 0, called before the node leaves (on
%%     SIGTERM and on a controller's leave) while it is still meshed;
%%     `before_leave_timeout' (5000 ms) bounds it. A crash or a timeout is
%%     logged and the leave goes on.</li>
%% <li>`tls_certfile', `tls_keyfile' (PEM, none): serve HTTPS;
%%     `tls_cacertfile' (none): also require client certificates signed by
%%     these CAs. `announce_cacertfile' (none: the system's CAs): the CAs
%%     that an https:// announce URL's certificate is checked against.</li>
%% </ul>
-module(drover_agent).

-include_lib("kernel/include/logger.hrl").

-export([child_spec/1, start_link/1, status/0, flags/0, port/0,
         normalize_options/1, normalize_options/2]).

%% The defaults; docs/nodeapi.md and docs/agent.md state each limit.
-define(DEFAULTS, #{port => 4001, ip => {0, 0, 0, 0}, token => <<>>,
                    announce_url => undefined, announce_token => <<>>,
                    connect_timeout => 1500, announce_timeout => 1000,
                    head_timeout => 5000, body_timeout => 10000, idle_timeout => 60000,
                    max_body => 1048576,
                    max_connections => 1024, max_connections_per_source => 64,
                    max_new_atoms => 100000,
                    before_leave => undefined, before_leave_timeout => 5000,
                    tls_certfile => undefined, tls_keyfile => undefined,
                    tls_cacertfile => undefined, announce_cacertfile => undefined}).
%% Options holding integers, and options holding file paths.
-define(INTEGERS, [port, connect_timeout, announce_timeout, head_timeout, body_timeout,
                   idle_timeout, max_body, max_connections, max_connections_per_source,
                   max_new_atoms, before_leave_timeout]).
-define(PATHS, [tls_certfile, tls_keyfile, tls_cacertfile, announce_cacertfile]).

%% @doc A supervisor child spec for one agent.
-spec child_spec(map() | proplists:proplist()) -> supervisor:child_spec().
child_spec(Opts) ->
    #{id => drover_agent, start => {?MODULE, start_link, [Opts]},
      type => supervisor, restart => permanent, shutdown => infinity}.

%% @doc Starts an agent (its supervisor) linked to the caller.
-spec start_link(map() | proplists:proplist()) -> {ok, pid()} | {error, term()}.
start_link(Opts) ->
    drover_agent_sup:start_link(normalize_options(Opts)).

%% @doc The port the running agent listens on.
-spec port() -> inet:port_number().
port() ->
    drover_agent_http:port().

%% @doc The node's status (the protocol's Status object).
-spec status() -> map().
status() ->
    #{revision := Rev, managed := Managed, leaving := Leaving, failed := Failed} =
        drover_agent_mesh:state(),
    Connected = lists:sort([atom_to_binary(N, utf8) || N <- nodes()]),
    Base = #{node => atom_to_binary(node(), utf8), connected => Connected,
             managed => Managed, revision => Rev, leaving => Leaving,
             otpRelease => list_to_binary(erlang:system_info(otp_release)),
             flags => flags(),
             atoms_created => drover_agent_atoms:created(),
             atom_budget => drover_agent_mesh:atom_budget()},
    IsConnected = maps:from_keys(Connected, true),
    case [#{node => P, reason => Why} || {P, Why} <- Failed, not is_map_key(P, IsConnected)] of
        [] -> Base;
        F -> Base#{failed => F}
    end.

%% @doc The kernel flags that change how a mesh behaves, as global reads them.
-spec flags() -> #{connectAll := boolean(), preventOverlappingPartitions := boolean(),
                   netTicktime := integer()}.
flags() ->
    #{connectAll => connect_all(),
      preventOverlappingPartitions =>
          application:get_env(kernel, prevent_overlapping_partitions,
                              list_to_integer(erlang:system_info(otp_release)) >= 25),
      netTicktime => net_ticktime()}.

connect_all() ->
    case application:get_env(kernel, connect_all) of
        {ok, CA} when is_boolean(CA) -> CA;
        _ ->
            case init:get_argument(connect_all) of
                {ok, [["false" | _] | _]} -> false;
                _ -> true
            end
    end.

net_ticktime() ->
    case net_kernel:get_net_ticktime() of
        T when is_integer(T) -> T;
        {ongoing_change_to, T} -> T;
        ignored -> application:get_env(kernel, net_ticktime, 60)
    end.

%% @doc Options merged over the application environment and the defaults.
-spec normalize_options(map() | proplists:proplist()) -> map().
normalize_options(Opts) ->
    normalize_options(Opts, maps:from_list(application:get_all_env(drover_agent))).

%% @doc Options merged over Env and the defaults; pure except for reading
%% token_file and token_env.
-spec normalize_options(map() | proplists:proplist(), map()) -> map().
normalize_options(Opts, Env) when is_list(Opts) ->
    normalize_options(maps:from_list(proplists:unfold(Opts)), Env);
normalize_options(Opts, Env) ->
    M = maps:merge(maps:merge(?DEFAULTS, maps:with(maps:keys(?DEFAULTS) ++ [token_file, token_env], Env)),
                   Opts),
    Integers = maps:map(fun(_, V) -> integer(V) end, maps:with(?INTEGERS, M)),
    Paths = maps:map(fun(_, V) -> path(V) end, maps:with(?PATHS, M)),
    M1 = maps:merge(M, maps:merge(Integers, Paths)),
    M1#{ip := ip(maps:get(ip, M)),
        token := token(M),
        announce_url := announce_url(maps:get(announce_url, M)),
        announce_token := bin(maps:get(announce_token, M)),
        before_leave := before_leave(maps:get(before_leave, M))}.

%% The hook is checked at start, so that a typo fails the start, not the
%% leave. A module is not loaded here (it may come later in the boot).
before_leave(H) when H =:= undefined; H =:= nil; H =:= false -> undefined;
before_leave({M, F, A} = H) when is_atom(M), is_atom(F), is_list(A) -> H;
before_leave(H) when is_function(H, 0) -> H;
before_leave(H) -> erlang:error({before_leave, H, "expected {Module, Function, Args} or a fun of arity 0"}).

ip(T) when is_tuple(T) -> T;
ip(any) -> {0, 0, 0, 0};
ip(S) ->
    {ok, T} = inet:parse_address(str(S)),
    T.

integer(I) when is_integer(I) -> I;
integer(S) -> list_to_integer(str(S)).

token(#{token := T}) when T =/= <<>>, T =/= "", T =/= undefined, T =/= nil -> bin(T);
token(#{token_file := F}) when F =/= undefined, F =/= nil ->
    case file:read_file(F) of
        {ok, B} -> string:trim(B);
        {error, Reason} -> erlang:error({token_file, F, Reason})
    end;
token(#{token_env := V}) when V =/= undefined, V =/= nil ->
    case os:getenv(str(V)) of
        false -> <<>>;
        S -> bin(string:trim(S))
    end;
token(_) ->
    <<>>.

announce_url(U) when U =:= undefined; U =:= nil; U =:= ""; U =:= <<>>; U =:= false -> undefined;
announce_url(U) -> str(U).

path(P) when P =:= undefined; P =:= nil; P =:= ""; P =:= <<>>; P =:= false -> undefined;
path(P) -> str(P).

bin(undefined) -> <<>>;
bin(nil) -> <<>>;
bin(B) when is_binary(B) -> B;
bin(L) when is_list(L) -> unicode:characters_to_binary(L).

str(B) when is_binary(B) -> binary_to_list(B);
str(A) when is_atom(A) -> atom_to_list(A);
str(L) -> L.
