%% @doc The agent's state and the only process that connects and
%% disconnects peers. It applies peer sets and leaves one at a time, so two
%% requests never interleave their connects and disconnects, and publishes
%% its state in a protected ETS table so that status reads never wait for
%% a slow connect.
-module(drover_agent_mesh).
-behaviour(gen_server).

-include_lib("kernel/include/logger.hrl").

-export([start_link/1, set_peers/2, leave/1, stopping/0, stop_timeout/0, state/0, atom_budget/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-define(TABLE, drover_agent_state).
%% A peer set waits at most connect_timeout for its connects; the call
%% itself may take a little longer than that.
-define(CALL_MARGIN, 5000).
%% The leave itself (announce, global:disconnect/0) after the hook: the
%% stop sequence waits this much beyond before_leave_timeout.
-define(STOP_MARGIN, 3000).

%% @doc Starts the mesh server. Opts is the normalised option map of
%% drover_agent:normalize_options/1.
start_link(Opts) ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, Opts, []).

%% @doc Applies a peer set (valid names, sorted, no duplicates). Returns
%% ok, or {error, stale} for a refused revision, {error, atom_budget} when
%% new names do not fit the atom budget (drover_agent_atoms), or {error,
%% stopping} once the VM is stopping. A refused set changes nothing.
-spec set_peers(non_neg_integer(), [binary()]) -> ok | {error, stale | atom_budget | stopping}.
set_peers(Rev, Peers) ->
    gen_server:call(?MODULE, {set_peers, Rev, Peers}, call_timeout()).

%% @doc Leaves the cluster cleanly (see the protocol's LeaveRequest).
-spec leave(non_neg_integer()) -> ok | {error, stale | stopping}.
leave(Rev) ->
    gen_server:call(?MODULE, {leave, Rev}, call_timeout()).

%% @doc The stop sequence's first half: run the before_leave hook (if
%% any, bounded), announce "stopping" (async), leave the cluster at once,
%% wait briefly for the announcement. After this the
%% agent refuses peer sets, so nothing reconnects the node while it stops.
-spec stopping() -> ok.
stopping() ->
    gen_server:call(?MODULE, stopping, call_timeout()).

%% @doc The applied state as the status reports it, read without calling
%% the server.
-spec state() -> #{revision := non_neg_integer(), managed := [binary()],
                   leaving := boolean(), failed := [{binary(), binary()}]}.
state() ->
    [{state, S}] = ets:lookup(?TABLE, state),
    S.

%% @doc The atom budget the running agent applies.
-spec atom_budget() -> non_neg_integer().
atom_budget() ->
    [{max_new_atoms, B}] = ets:lookup(?TABLE, max_new_atoms),
    B.

%% @doc How long the stop sequence may take before the VM stops anyway:
%% the hook's bound plus the leave's (drover_agent_signal).
-spec stop_timeout() -> pos_integer().
stop_timeout() ->
    [{before_leave_timeout, H}] = ets:lookup(?TABLE, before_leave_timeout),
    H + ?STOP_MARGIN.

%% A call may wait behind a leave that runs the hook.
call_timeout() ->
    [{connect_timeout, T}] = ets:lookup(?TABLE, connect_timeout),
    [{before_leave_timeout, H}] = ets:lookup(?TABLE, before_leave_timeout),
    T + H + ?CALL_MARGIN.

init(Opts) ->
    process_flag(trap_exit, true),
    ?TABLE = ets:new(?TABLE, [named_table, protected, {read_concurrency, true}]),
    ets:insert(?TABLE, [{connect_timeout, maps:get(connect_timeout, Opts)},
                        {before_leave_timeout, hook_timeout(Opts)},
                        {max_new_atoms, maps:get(max_new_atoms, Opts)}]),
    Signal = drover_agent_signal:install(),
    %% pending: connects still running (ref => peer); inflight: the same
    %% by peer, so that a peer never has two connects at once.
    S = #{opts => Opts, signal => Signal, stopping => false, pending => #{}, inflight => #{},
          applied => #{revision => 0, managed => [], leaving => false, failed => []}},
    publish(S),
    {ok, S}.

handle_call({set_peers, _, _}, _From, #{stopping := true} = S) ->
    {reply, {error, stopping}, S};
handle_call({set_peers, Rev, Peers0}, _From, #{applied := A} = S) ->
    %% A node never manages itself (docs/nodeapi.md).
    Peers = lists:delete(atom_to_binary(node(), utf8), Peers0),
    case drover_agent_rules:decide(A, Rev, {Peers, false}) of
        stale ->
            {reply, {error, stale}, S};
        Decision ->
            case drover_agent_atoms:to_atoms(Peers, maps:get(max_new_atoms, maps:get(opts, S))) of
                {ok, Atoms} -> {reply, ok, apply_peers(Decision, Rev, lists:zip(Peers, Atoms), S)};
                {error, exhausted} -> {reply, {error, atom_budget}, S}
            end
    end;
handle_call({leave, _}, _From, #{stopping := true} = S) ->
    {reply, {error, stopping}, S};
handle_call({leave, Rev}, _From, #{applied := A, opts := Opts} = S) ->
    case drover_agent_rules:decide(A, Rev, {[], true}) of
        stale -> {reply, {error, stale}, S};
        noop -> {reply, ok, S};
        apply ->
            before_leave(leave, Opts),
            {reply, ok, do_leave(Rev, S)}
    end;
handle_call(stopping, _From, #{stopping := true} = S) ->
    {reply, ok, S};
handle_call(stopping, _From, #{applied := #{revision := Rev, leaving := Left}, opts := Opts} = S) ->
    %% The hook runs first, while the node is still meshed and the
    %% controller not yet told: peers still see it, so it can hand off.
    %% A node that has already left (a controller's leave ran it) is not
    %% meshed any more: no second call.
    Left orelse before_leave(sigterm, Opts),
    ?LOG_NOTICE(#{what => "drover_agent: stopping, leaving the cluster"}),
    {Pid, Ref} = spawn_monitor(fun() -> drover_agent_announce:announce(stopping, Opts) end),
    %% From now on refuse every new distribution connection, in either
    %% direction: a peer that has not yet been told that this node is gone
    %% (a push in flight, global's connect_all) must not reconnect it while
    %% the VM winds down.
    _ = (catch net_kernel:allow([node()])),
    S1 = do_leave(Rev, S#{stopping := true}),
    receive
        {'DOWN', Ref, process, Pid, _} -> ok
    after maps:get(announce_timeout, Opts) ->
        exit(Pid, kill)
    end,
    {reply, ok, S1};
handle_call(_, _From, S) ->
    {reply, {error, unknown_call}, S}.

handle_cast(_, S) ->
    {noreply, S}.

%% A connect that finished after its peer set stopped waiting: keep it
%% only if the peer is still managed.
handle_info({connected, Ref, Peer, Result}, #{applied := A} = S) ->
    late_connect(Peer, Result, A),
    {noreply, forget_pending([Ref], S)};
handle_info(_, S) ->
    {noreply, S}.

terminate(_Reason, #{signal := Signal, stopping := Stopping} = S) ->
    drover_agent_signal:uninstall(Signal),
    case {Stopping, init:get_status()} of
        {false, {stopping, _}} ->
            %% The VM stops without a SIGTERM (init:stop/0): still leave cleanly.
            _ = do_leave(maps:get(revision, maps:get(applied, S)), S);
        _ -> ok
    end,
    ok.

%%% Internal

%% Peers: [{Name, Atom}], sorted by name. Sets are maps: a set of 1000
%% peers costs no more than linear work here.
apply_peers(Decision, Rev, Peers, #{applied := A, opts := Opts} = S) ->
    Wanted = maps:from_list(Peers),
    Removed = [P || P <- maps:get(managed, A), not is_map_key(P, Wanted)],
    lists:foreach(fun disconnect/1, Removed),
    Connected = maps:from_keys(nodes(), true),
    Missing = [PA || {_, Atom} = PA <- Peers, not is_map_key(Atom, Connected)],
    {Failed, S1} = connect_all(Missing, maps:get(connect_timeout, Opts), S),
    case Decision of
        apply ->
            ?LOG_INFO(#{what => "drover_agent: peer set applied", revision => Rev,
                        peers => length(Peers), removed => length(Removed), failed => length(Failed)});
        noop -> ok
    end,
    S2 = S1#{applied := #{revision => Rev, managed => [P || {P, _} <- Peers], leaving => false,
                          failed => Failed}},
    publish(S2),
    S2.

do_leave(Rev, #{applied := A, stopping := Stopping} = S) ->
    {How, Global} = leave_global(Stopping),
    lists:foreach(fun(P) -> disconnect(P) end, maps:get(managed, A)),
    ?LOG_INFO(#{what => "drover_agent: left the cluster", revision => Rev, disconnected => Global,
                how => How}),
    S1 = S#{applied := #{revision => Rev, managed => [], leaving => true, failed => []}},
    publish(S1),
    S1.

hook_timeout(#{before_leave := undefined}) -> 0;
hook_timeout(#{before_leave_timeout := T}) -> T.

%% Runs the application's before_leave hook in a process of its own and
%% waits for it at most before_leave_timeout. Whatever the hook does
%% (returns, crashes, hangs), the leave goes on; without a hook this is a
%% no-op. Why is sigterm or leave (a controller's POST /v1/leave).
before_leave(_Why, #{before_leave := undefined}) ->
    ok;
before_leave(Why, #{before_leave := Hook, before_leave_timeout := Timeout}) ->
    Start = erlang:monotonic_time(millisecond),
    {Pid, Ref} = spawn_monitor(fun() -> exit(run_hook(Hook)) end),
    Took = fun() -> erlang:monotonic_time(millisecond) - Start end,
    receive
        {'DOWN', Ref, process, Pid, {hook_done, _}} ->
            ?LOG_INFO(#{what => "drover_agent: before_leave hook done", trigger => Why, ms => Took()});
        {'DOWN', Ref, process, Pid, {hook_crashed, C, E, St}} ->
            ?LOG_WARNING(#{what => "drover_agent: before_leave hook crashed, leaving anyway", trigger => Why,
                           ms => Took(), class => C, reason => E, stacktrace => St});
        {'DOWN', Ref, process, Pid, Other} ->
            ?LOG_WARNING(#{what => "drover_agent: before_leave hook crashed, leaving anyway", trigger => Why,
                           ms => Took(), reason => Other})
    after Timeout ->
        exit(Pid, kill),
        receive {'DOWN', Ref, process, Pid, _} -> ok end,
        ?LOG_WARNING(#{what => "drover_agent: before_leave hook timed out, leaving anyway", trigger => Why,
                       timeout_ms => Timeout})
    end,
    ok.

run_hook(Hook) ->
    try
        {hook_done, call_hook(Hook)}
    catch
        C:E:St -> {hook_crashed, C, E, St}
    end.

call_hook({M, F, A}) -> apply(M, F, A);
call_hook(Fun) -> Fun().

%% How long a leave waits for its peers to drop the node on request.
-define(PEERS_DROP_TIMEOUT, 1000).

%% Leaves global's cluster (Stopping: on SIGTERM). With connect_all and
%% prevent_overlapping_partitions on (OTP 25's defaults), a peer that sees
%% an unannounced nodedown multicasts a lost_connection to every node it
%% knows, and each receiver forwards every new one to all it knows: about
%% N^3 messages per leave in an N-node mesh (200,000 at 60 nodes), which is
%% what made leaves slow as meshes grew; global:disconnect/0 suppresses
%% only the leaver's own reports, not the peers'. So the leaver asks every
%% peer's global to drop it (global's own remove_connection, what a
%% peer's global sends a node it must leave, OTP 25+): each peer marks the
%% node as removed and disconnects it, in parallel, and reports nothing.
%% The leaver's global is suspended meanwhile, so that it sees none of
%% those nodedowns until every link is gone (it can then tell no one).
%% Peers that have not dropped it within PEERS_DROP_TIMEOUT are
%% disconnected here. Returns how it left and how many peers global knew.
leave_global(Stopping) ->
    case flags() of
        #{connectAll := true, preventOverlappingPartitions := true} when ?OTP_RELEASE >= 25 ->
            peers_drop_me(nodes(), Stopping, ?PEERS_DROP_TIMEOUT);
        _ ->
            {global_disconnect, global_disconnect()}
    end.

flags() ->
    try drover_agent:flags() catch _:_ -> #{} end.

%% Stopping: the VM stops and refuses every connection already
%% (net_kernel:allow/1), so a sync global still has under way cannot
%% reconnect it after the resume.
peers_drop_me([], _, _) ->
    {no_peers, 0};
peers_drop_me(Peers, Stopping, Timeout) ->
    case suspend_global() of
        idle ->
            peers_drop_me_idle(Peers, Timeout);
        busy when Stopping ->
            peers_drop_me_idle(Peers, Timeout);
        busy ->
            %% A sync or a lock with some node is under way: after a
            %% resume, global would go on with it and reconnect the node
            %% (it stays running). Leave the slow but clean way.
            resume_global(),
            {global_disconnect, global_disconnect()};
        failed ->
            {global_disconnect, global_disconnect()}
    end.

peers_drop_me_idle(Peers, Timeout) ->
    ok = net_kernel:monitor_nodes(true),
    Me = node(),
    lists:foreach(fun(P) -> erlang:send({global_name_server, P}, {remove_connection, Me}, [noconnect]) end,
                  Peers),
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    Left = await_nodedowns(maps:from_keys(Peers, true), Deadline),
    lists:foreach(fun erlang:disconnect_node/1, maps:keys(Left)),
    resume_global(),
    ok = net_kernel:monitor_nodes(false),
    flush_node_events(),
    {peers_dropped, length(Peers)}.

%% Suspends global's server and tells whether it is idle: nothing in its
%% mailbox and no sync with any node pending (its state's known map holds
%% no {pending, Node} key).
suspend_global() ->
    try sys:suspend(global_name_server, 1000) of
        ok ->
            Queue = process_info(whereis(global_name_server), message_queue_len),
            case Queue =:= {message_queue_len, 0} andalso not sync_pending(sys:get_state(global_name_server, 1000)) of
                true -> idle;
                false -> busy
            end
    catch _:_ -> failed
    end.

sync_pending(State) when is_tuple(State) ->
    lists:any(fun(M) when is_map(M) -> lists:any(fun({pending, _}) -> true; (_) -> false end, maps:keys(M));
                 (_) -> false
              end, tuple_to_list(State));
sync_pending(_) ->
    true.

resume_global() ->
    try sys:resume(global_name_server, 1000) catch _:_ -> ok end.

await_nodedowns(Left, _) when map_size(Left) =:= 0 ->
    Left;
await_nodedowns(Left, Deadline) ->
    receive
        {nodedown, N} -> await_nodedowns(maps:remove(N, Left), Deadline)
    after max(0, Deadline - erlang:monotonic_time(millisecond)) ->
        maps:filter(fun(N, _) -> lists:member(N, nodes()) end, Left)
    end.

flush_node_events() ->
    receive
        {nodeup, _} -> flush_node_events();
        {nodedown, _} -> flush_node_events()
    after 0 -> ok
    end.

%% global:disconnect/0 (OTP 25.1+) disconnects from every node known to
%% global without triggering prevent_overlapping_partitions on the others.
global_disconnect() ->
    case erlang:function_exported(global, disconnect, 0) of
        true -> length(global:disconnect());
        false -> 0
    end.

%% Only a managed peer is ever disconnected: its atom exists.
disconnect(Peer) ->
    case drover_agent_atoms:existing(Peer) of
        {ok, Node} ->
            case lists:member(Node, nodes()) of
                true -> erlang:disconnect_node(Node);
                false -> ok
            end;
        error ->
            ok
    end.

%% Connects every peer in its own process and waits up to Timeout for all
%% of them (net_kernel:connect_node/1 blocks for seconds on a dead host). A
%% peer whose connect from an earlier set still runs gets no second one:
%% this set waits for that one. Returns the failures, sorted.
connect_all([], _, S) ->
    {[], S};
connect_all(Peers, Timeout, #{pending := Pending, inflight := Inflight} = S) ->
    Self = self(),
    Started = [{P, spawn_connect(Self, P, A)} || {P, A} <- Peers, not is_map_key(P, Inflight)],
    Waiting = maps:merge(maps:from_list([{Ref, P} || {P, Ref} <- Started]),
                         maps:from_list([{map_get(P, Inflight), P} || {P, _} <- Peers,
                                                                      is_map_key(P, Inflight)])),
    S1 = S#{pending := maps:merge(Pending, maps:from_list([{Ref, P} || {P, Ref} <- Started])),
            inflight := maps:merge(Inflight, maps:from_list(Started))},
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    {Failed, Done} = collect(Waiting, [], [], Deadline),
    {lists:sort(Failed), forget_pending(Done, S1)}.

spawn_connect(Self, Peer, Node) ->
    Ref = make_ref(),
    _ = spawn(fun() -> Self ! {connected, Ref, Peer, connect(Node)} end),
    Ref.

%% Waits for the connects of Waiting (ref => peer) until Deadline. Returns
%% the failures (timeouts included) and the refs that finished.
collect(Waiting, Failed, Done, _) when map_size(Waiting) =:= 0 ->
    {Failed, Done};
collect(Waiting, Failed, Done, Deadline) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {connected, Ref, P, Result} when is_map_key(Ref, Waiting) ->
            Failed1 = case Result of
                          true -> Failed;
                          Other -> [{P, reason(Other)} | Failed]
                      end,
            collect(maps:remove(Ref, Waiting), Failed1, [Ref | Done], Deadline)
    after Left ->
        {[{P, <<"connect timed out">>} || P <- maps:values(Waiting)] ++ Failed, Done}
    end.

forget_pending(Refs, #{pending := Pending, inflight := Inflight} = S) ->
    Peers = [map_get(R, Pending) || R <- Refs, is_map_key(R, Pending)],
    S#{pending := maps:without(Refs, Pending), inflight := maps:without(Peers, Inflight)}.

connect(Node) ->
    try net_kernel:connect_node(Node)
    catch C:E -> {C, E}
    end.

reason(false) -> <<"connect failed">>;
reason(ignored) -> <<"this node is not distributed">>;
reason(Other) -> iolist_to_binary(io_lib:format("~0p", [Other])).

late_connect(Peer, true, #{managed := M}) ->
    case lists:member(Peer, M) of
        true -> ok;
        false -> disconnect(Peer)
    end;
late_connect(_, _, _) ->
    ok.

publish(#{applied := A}) ->
    ets:insert(?TABLE, {state, A}).
