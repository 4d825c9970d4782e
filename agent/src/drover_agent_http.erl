%% @doc The agent's HTTP/1.1 server: a listener process that owns the
%% listening socket (plain TCP, or TLS with the `tls_*' options) and the
%% connection counts, and one acceptor per scheduler (drover_agent_acceptor)
%% that accepts, counts and limits the connections.
%%
%% Limits (docs/nodeapi.md): at most `max_connections_per_source' (64)
%% connections at once from one address and `max_connections' (1024) in
%% all, lowered to fit the process's file-descriptor limit. A connection
%% beyond them is closed at once with a TCP reset, before anything is read,
%% so one source cannot keep another's health checks from being answered.
%% The counts live in an ETS table owned by the listener: when an acceptor
%% dies, its connections die with it (linked) and the listener stops (it
%% is linked too), so counts and connections always end together.
-module(drover_agent_http).
-behaviour(gen_server).

-include_lib("kernel/include/logger.hrl").

-export([start_link/1, port/0, connections/0, health_answered/1, connection_limits/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

%% Until the controller has applied a peer set, a health probe answered
%% re-announces "up", at most every REANNOUNCE_GAP ms and only during the
%% first REANNOUNCE_FOR ms after the listener opened (see health_answered/1).
-define(REANNOUNCE_GAP, 500).
-define(REANNOUNCE_FOR, 120000).
%% File descriptors left to the rest of the VM (distribution, epmd, files)
%% when the connection cap is fitted to the descriptor limit.
-define(FD_RESERVE, 64).
%% At most this many acceptors (one per online scheduler): under a flood
%% of connections, every scheduler thread takes its share of the CPU.
-define(MAX_ACCEPTORS, 8).

%% @doc Starts the listener. Opts: see drover_agent:normalize_options/1.
start_link(Opts) ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, Opts, []).

%% @doc The port the agent listens on (useful with port 0).
-spec port() -> inet:port_number().
port() ->
    gen_server:call(?MODULE, port).

%% @doc How many connections are open now (the acceptors' count).
-spec connections() -> non_neg_integer().
connections() ->
    gen_server:call(?MODULE, connections).

%% @doc The connection caps for the options and a descriptor limit
%% (undefined: unknown): `{PerSource, Total}'. Total is lowered to leave
%% ?FD_RESERVE descriptors to the rest of the VM.
-spec connection_limits(map(), pos_integer() | undefined) -> {pos_integer(), pos_integer()}.
connection_limits(#{max_connections := Max, max_connections_per_source := PerSource}, MaxFds) ->
    Total = case MaxFds of
                undefined -> Max;
                _ -> max(1, min(Max, MaxFds - ?FD_RESERVE))
            end,
    {max(1, min(PerSource, Total)), Total}.

init(#{port := Port, ip := IP} = Opts) ->
    process_flag(trap_exit, true),
    case listen(Port, IP, Opts) of
        {ok, LSock, Actual, Scheme} ->
            {PerSource, Total} = connection_limits(Opts, max_fds()),
            Counts = drover_agent_acceptor:new_counts(PerSource, Total),
            N = min(?MAX_ACCEPTORS, erlang:system_info(schedulers_online)),
            Acceptors = [drover_agent_acceptor:start_link(LSock, Counts, Opts) || _ <- lists:seq(1, N)],
            ?LOG_NOTICE(#{what => "drover_agent: listening", ip => inet:ntoa(IP), port => Actual,
                          scheme => Scheme, max_connections => Total,
                          max_connections_per_source => PerSource, acceptors => N}),
            Opened = erlang:monotonic_time(millisecond),
            LastAnnounce = atomics:new(1, [{signed, true}]),
            atomics:put(LastAnnounce, 1, Opened - ?REANNOUNCE_GAP),
            persistent_term:put({?MODULE, reannounce}, {Opened, LastAnnounce}),
            _ = spawn(fun() -> drover_agent_announce:announce(up, Opts) end),
            {ok, #{lsock => LSock, port => Actual, acceptors => Acceptors, counts => Counts}};
        {error, Reason} ->
            {stop, Reason}
    end.

handle_call(port, _From, #{port := Port} = S) ->
    {reply, Port, S};
handle_call(connections, _From, #{counts := Counts} = S) ->
    {reply, drover_agent_acceptor:count(Counts), S};
handle_call(_, _From, S) ->
    {reply, {error, unknown_call}, S}.

handle_cast(_, S) ->
    {noreply, S}.

handle_info({'EXIT', Pid, Reason}, #{acceptors := As} = S) ->
    case lists:member(Pid, As) of
        true -> {stop, {acceptor, Reason}, S};
        false -> {noreply, S}
    end;
handle_info(_, S) ->
    {noreply, S}.

terminate(_, #{lsock := LSock}) ->
    drover_agent_sock:close(LSock).

%%% Listening

listen(Port, IP, Opts) ->
    case drover_agent_tls:server_options(Opts) of
        {ok, Tls} ->
            case drover_agent_sock:listen(Port, IP, Tls) of
                {ok, LSock} ->
                    Scheme = case Tls of none -> http; _ -> https end,
                    {ok, LSock, local_port(LSock), Scheme};
                {error, Reason} ->
                    {error, {listen, Port, Reason}}
            end;
        {error, _} = Err ->
            Err
    end.

local_port({tcp, L}) -> {ok, P} = inet:port(L), P;
local_port({ssl, L}) -> {ok, {_, P}} = ssl:sockname(L), P.

max_fds() ->
    case [F || PollSet <- erlang:system_info(check_io), {max_fds, F} <- PollSet,
               is_integer(F)] of
        [F | _] -> F;
        [] -> undefined
    end.

%%% Re-announcements

%% @doc Called after a health probe was answered: re-announces "up" while
%% the controller has not applied a peer set yet (revision 0, not leaving),
%% at most every ?REANNOUNCE_GAP ms, during the agent's first
%% ?REANNOUNCE_FOR ms. Rancher turns a container healthy right after the
%% probe that passes its healthy threshold; the announcement makes the
%% controller read the container at that moment instead of waiting for
%% Cattle's next 1 s event tick. Rancher still decides: the controller only
%% reads.
-spec health_answered(map()) -> ok.
health_answered(#{announce_url := undefined}) ->
    ok;
health_answered(Opts) ->
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
