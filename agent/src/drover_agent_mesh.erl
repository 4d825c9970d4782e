%% @doc The agent's state and the only process that connects and
%% disconnects peers. It applies peer sets and leaves one at a time, so two
%% requests never interleave their connects and disconnects, and publishes
%% its state in a protected ETS table so that status reads never wait for
%% a slow connect.
-module(drover_agent_mesh).
-behaviour(gen_server).

-include_lib("kernel/include/logger.hrl").

-export([start_link/1, set_peers/2, leave/1, stopping/0, state/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-define(TABLE, drover_agent_state).
%% A peer set waits at most connect_timeout for its connects; the call
%% itself may take a little longer than that.
-define(CALL_MARGIN, 5000).

%% @doc Starts the mesh server. Opts is the normalised option map of
%% drover_agent:normalize_options/1.
start_link(Opts) ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, Opts, []).

%% @doc Applies a peer set. Returns ok, or {error, stale} for a refused
%% revision, or {error, stopping} once the VM is stopping.
-spec set_peers(non_neg_integer(), [binary()]) -> ok | {error, stale | stopping}.
set_peers(Rev, Peers) ->
    gen_server:call(?MODULE, {set_peers, Rev, Peers}, call_timeout()).

%% @doc Leaves the cluster cleanly (see the protocol's LeaveRequest).
-spec leave(non_neg_integer()) -> ok | {error, stale | stopping}.
leave(Rev) ->
    gen_server:call(?MODULE, {leave, Rev}, call_timeout()).

%% @doc The stop sequence's first half: announce "stopping" (async), leave
%% the cluster at once, wait briefly for the announcement. After this the
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

call_timeout() ->
    [{connect_timeout, T}] = ets:lookup(?TABLE, connect_timeout),
    T + ?CALL_MARGIN.

init(Opts) ->
    process_flag(trap_exit, true),
    ?TABLE = ets:new(?TABLE, [named_table, protected, {read_concurrency, true}]),
    ets:insert(?TABLE, {connect_timeout, maps:get(connect_timeout, Opts)}),
    Signal = drover_agent_signal:install(),
    S = #{opts => Opts, signal => Signal, stopping => false, pending => #{},
          applied => #{revision => 0, managed => [], leaving => false, failed => []}},
    publish(S),
    {ok, S}.

handle_call({set_peers, _, _}, _From, #{stopping := true} = S) ->
    {reply, {error, stopping}, S};
handle_call({set_peers, Rev, Peers0}, _From, #{applied := A} = S) ->
    %% A node never manages itself (docs/nodeapi.md).
    Peers = lists:delete(atom_to_binary(node(), utf8), Peers0),
    case drover_agent_rules:decide(A, Rev, {Peers, false}) of
        stale -> {reply, {error, stale}, S};
        Decision -> {reply, ok, apply_peers(Decision, Rev, Peers, S)}
    end;
handle_call({leave, _}, _From, #{stopping := true} = S) ->
    {reply, {error, stopping}, S};
handle_call({leave, Rev}, _From, #{applied := A} = S) ->
    case drover_agent_rules:decide(A, Rev, {[], true}) of
        stale -> {reply, {error, stale}, S};
        noop -> {reply, ok, S};
        apply -> {reply, ok, do_leave(Rev, S)}
    end;
handle_call(stopping, _From, #{stopping := true} = S) ->
    {reply, ok, S};
handle_call(stopping, _From, #{applied := #{revision := Rev}, opts := Opts} = S) ->
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
handle_info({connected, Ref, Peer, Result}, #{pending := P, applied := A} = S) ->
    late_connect(Peer, Result, A),
    {noreply, S#{pending := maps:remove(Ref, P)}};
handle_info({'DOWN', Ref, process, _, _}, #{pending := P} = S) ->
    {noreply, S#{pending := maps:remove(Ref, P)}};
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

apply_peers(Decision, Rev, Peers, #{applied := A} = S) ->
    Me = atom_to_binary(node(), utf8),
    Old = maps:get(managed, A),
    Removed = [P || P <- Old, not lists:member(P, Peers), P =/= Me],
    lists:foreach(fun(P) -> disconnect(P) end, Removed),
    Connected = [atom_to_binary(N, utf8) || N <- nodes()],
    Missing = [P || P <- Peers, P =/= Me, not lists:member(P, Connected)],
    {Failed, Pending} = connect_all(Missing, maps:get(connect_timeout, maps:get(opts, S))),
    case Decision of
        apply ->
            ?LOG_INFO(#{what => "drover_agent: peer set applied", revision => Rev,
                      peers => length(Peers), removed => Removed, failed => length(Failed)});
        noop -> ok
    end,
    S1 = S#{applied := #{revision => Rev, managed => Peers, leaving => false, failed => Failed},
            pending := maps:merge(maps:get(pending, S), Pending)},
    publish(S1),
    S1.

do_leave(Rev, #{applied := A} = S) ->
    Global = global_disconnect(),
    lists:foreach(fun(P) -> disconnect(P) end, maps:get(managed, A)),
    ?LOG_INFO(#{what => "drover_agent: left the cluster", revision => Rev, disconnected => Global}),
    S1 = S#{applied := #{revision => Rev, managed => [], leaving => true, failed => []}},
    publish(S1),
    S1.

%% global:disconnect/0 (OTP 25.1+) disconnects from every node known to
%% global without triggering prevent_overlapping_partitions on the others.
global_disconnect() ->
    case erlang:function_exported(global, disconnect, 0) of
        true -> length(global:disconnect());
        false -> 0
    end.

disconnect(Peer) ->
    Node = drover_agent_rules:node_atom(Peer),
    case lists:member(Node, nodes()) of
        true -> erlang:disconnect_node(Node);
        false -> ok
    end.

%% Connects every peer in its own process and waits up to Timeout for all
%% of them (net_kernel:connect_node/1 blocks for seconds on a dead host).
%% Returns the failures and the connects still running.
connect_all([], _) ->
    {[], #{}};
connect_all(Peers, Timeout) ->
    Self = self(),
    Refs = maps:from_list(
             [begin
                  Ref = make_ref(),
                  spawn(fun() -> Self ! {connected, Ref, P, connect(P)} end),
                  {Ref, P}
              end || P <- Peers]),
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    collect(Refs, [], Deadline).

collect(Refs, Failed, _) when map_size(Refs) =:= 0 ->
    {lists:sort(Failed), #{}};
collect(Refs, Failed, Deadline) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {connected, Ref, P, Result} when is_map_key(Ref, Refs) ->
            Failed1 = case Result of
                          true -> Failed;
                          Other -> [{P, reason(Other)} | Failed]
                      end,
            collect(maps:remove(Ref, Refs), Failed1, Deadline)
    after Left ->
        Timeouts = [{P, <<"connect timed out">>} || P <- maps:values(Refs)],
        {lists:sort(Timeouts ++ Failed), Refs}
    end.

connect(Peer) ->
    try net_kernel:connect_node(drover_agent_rules:node_atom(Peer))
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
