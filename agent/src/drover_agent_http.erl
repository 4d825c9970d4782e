%% @doc The agent's HTTP/1.1 server: a listener process that owns the
%% listening socket (plain TCP, or TLS with the `tls_*' options), and one
%% acceptor that accepts, counts and limits the connections, after
%% ninenines/ranch's ranch_conns_sup: every connection process is linked to
%% the acceptor, which traps their exits, so the count cannot leak when one
%% crashes or is killed.
%%
%% Limits (docs/nodeapi.md): at most `max_connections_per_source' (64)
%% connections at once from one address and `max_connections' (1024) in
%% all, lowered to fit the process's file-descriptor limit. A connection
%% beyond them is closed at once with a TCP reset, before anything is read,
%% so one source cannot keep another's health checks from being answered.
%% An accept that fails for want of file descriptors (emfile) is retried
%% after 100 ms; accepting never stops while the listener lives.
-module(drover_agent_http).
-behaviour(gen_server).

-include_lib("kernel/include/logger.hrl").

-export([start_link/1, port/0, health_answered/1, connection_limits/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

%% Until the controller has applied a peer set, a health probe answered
%% re-announces "up", at most every REANNOUNCE_GAP ms and only during the
%% first REANNOUNCE_FOR ms after the listener opened (see health_answered/1).
-define(REANNOUNCE_GAP, 500).
-define(REANNOUNCE_FOR, 120000).
%% File descriptors left to the rest of the VM (distribution, epmd, files)
%% when the connection cap is fitted to the descriptor limit.
-define(FD_RESERVE, 64).
%% An accept that failed for want of resources is retried after this.
-define(ACCEPT_BACKOFF, 100).
%% Refused connections and failed accepts are logged at most this often.
-define(LOG_EVERY, 10000).

%% @doc Starts the listener. Opts: see drover_agent:normalize_options/1.
start_link(Opts) ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, Opts, []).

%% @doc The port the agent listens on (useful with port 0).
-spec port() -> inet:port_number().
port() ->
    gen_server:call(?MODULE, port).

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
            Limits = connection_limits(Opts, max_fds()),
            Self = self(),
            Acceptor = proc_lib:spawn_link(fun() -> acceptor(Self, LSock, Limits, Opts) end),
            ?LOG_NOTICE(#{what => "drover_agent: listening", ip => inet:ntoa(IP), port => Actual,
                          scheme => Scheme, max_connections => element(2, Limits),
                          max_connections_per_source => element(1, Limits)}),
            Opened = erlang:monotonic_time(millisecond),
            LastAnnounce = atomics:new(1, [{signed, true}]),
            atomics:put(LastAnnounce, 1, Opened - ?REANNOUNCE_GAP),
            persistent_term:put({?MODULE, reannounce}, {Opened, LastAnnounce}),
            _ = spawn(fun() -> drover_agent_announce:announce(up, Opts) end),
            {ok, #{lsock => LSock, port => Actual, acceptor => Acceptor}};
        {error, Reason} ->
            {stop, Reason}
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

%%% The acceptor: accepts, counts, limits

-record(acc, {parent :: pid(),
              lsock :: drover_agent_sock:socket(),
              opts :: map(),
              per_source :: pos_integer(),
              total_max :: pos_integer(),
              conns = #{} :: #{pid() => inet:ip_address()},
              sources = #{} :: #{inet:ip_address() => pos_integer()},
              %% refusals and accept failures since the last log line
              refused = 0 :: non_neg_integer(),
              failed = 0 :: non_neg_integer(),
              logged = -?LOG_EVERY * 2 :: integer()}).

acceptor(Parent, LSock, {PerSource, Total}, Opts) ->
    process_flag(trap_exit, true),
    accept_loop(#acc{parent = Parent, lsock = LSock, opts = Opts,
                     per_source = PerSource, total_max = Total}).

accept_loop(#acc{lsock = LSock} = A0) ->
    A = reap(A0),
    case drover_agent_sock:accept(LSock) of
        {ok, Sock} -> accept_loop(admit(Sock, A));
        {error, closed} -> exit(normal);
        {error, Reason} -> accept_loop(accept_failed(Reason, A))
    end.

%% Counts down the connections that ended while the acceptor waited in
%% accept: the counts are read only when a connection is admitted, right
%% after this.
reap(#acc{parent = Parent, conns = Conns, sources = Sources} = A) ->
    receive
        {'EXIT', Parent, Reason} ->
            exit(Reason);
        {'EXIT', Pid, _} when is_map_key(Pid, Conns) ->
            IP = map_get(Pid, Conns),
            Sources1 = case map_get(IP, Sources) of
                           1 -> maps:remove(IP, Sources);
                           N -> Sources#{IP := N - 1}
                       end,
            reap(A#acc{conns = maps:remove(Pid, Conns), sources = Sources1});
        {'EXIT', _, _} ->
            reap(A)
    after 0 ->
        A
    end.

admit(Sock, #acc{conns = Conns, sources = Sources, per_source = PerSource,
                 total_max = Total} = A) ->
    case drover_agent_sock:peer_ip(Sock) of
        {ok, IP} ->
            Count = maps:get(IP, Sources, 0),
            if
                map_size(Conns) >= Total -> refuse(Sock, total, IP, A);
                Count >= PerSource -> refuse(Sock, per_source, IP, A);
                true -> start(Sock, IP, Count, A)
            end;
        {error, _} ->
            drover_agent_sock:close(Sock),
            A
    end.

start(Sock, IP, Count, #acc{conns = Conns, sources = Sources, opts = Opts} = A) ->
    Accepted = erlang:monotonic_time(millisecond),
    Pid = proc_lib:spawn_link(drover_agent_http_conn, start, [Opts, Accepted]),
    case drover_agent_sock:controlling_process(Sock, Pid) of
        ok ->
            Pid ! {socket, Sock},
            A#acc{conns = Conns#{Pid => IP}, sources = Sources#{IP => Count + 1}};
        {error, _} ->
            drover_agent_sock:close(Sock),
            unlink(Pid),
            exit(Pid, kill),
            A
    end.

refuse(Sock, Limit, IP, #acc{refused = R} = A) ->
    drover_agent_sock:reset(Sock),
    maybe_log(A#acc{refused = R + 1}, Limit, IP).

accept_failed(Reason, #acc{failed = F} = A) ->
    A1 = maybe_log(A#acc{failed = F + 1}, Reason, undefined),
    %% Out of descriptors or memory: wait for connections to end. Anything
    %% else (a client that reset before the accept, a TLS set-up error):
    %% go on at once.
    case lists:member(Reason, [emfile, enfile, enobufs, enomem, system_limit]) of
        true -> timer:sleep(?ACCEPT_BACKOFF);
        false -> ok
    end,
    A1.

%% One warning per ?LOG_EVERY ms at most, with the counts since the last.
maybe_log(#acc{logged = Logged, refused = R, failed = F, per_source = PerSource,
               total_max = Total} = A, Why, IP) ->
    Now = erlang:monotonic_time(millisecond),
    case Now - Logged >= ?LOG_EVERY of
        true ->
            ?LOG_WARNING(#{what => "drover_agent: connections refused or accepts failed",
                           last_reason => Why, last_source => format_ip(IP),
                           refused => R, accept_failures => F,
                           connections => map_size(A#acc.conns),
                           max_connections => Total, max_connections_per_source => PerSource}),
            A#acc{logged = Now, refused = 0, failed = 0};
        false ->
            A
    end.

format_ip(undefined) -> undefined;
format_ip(IP) -> list_to_binary(inet:ntoa(IP)).

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
