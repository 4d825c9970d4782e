%% The application's before_leave hook: called before the node leaves (a
%% controller's POST /v1/leave, the SIGTERM stop sequence), bounded by
%% before_leave_timeout; a crash or a timeout never stops the leave.
-module(drover_agent_hook_tests).
-include_lib("eunit/include/eunit.hrl").

-export([record/1]).

-define(TOKEN, <<"s3cret">>).
-define(PEER, <<"a@127.0.0.1">>).

%% The hooks record into a public table owned by the test process.
hook_test_() ->
    {foreach, fun setup/0, fun cleanup/1,
     [{"controller leave: the hook runs before the node leaves", fun hook_runs_before_leave/0},
      {"stop sequence: the hook runs before the stopping announcement", fun hook_runs_before_announce/0},
      {"a hook that hangs is killed after before_leave_timeout and the leave proceeds", fun hook_timeout/0},
      {"a hook that crashes is logged and the leave proceeds", fun hook_crash/0},
      {"an {M, F, A} hook is applied with its arguments", fun hook_mfa/0},
      {"no hook: the leave is unchanged, no extra wait", fun no_hook/0},
      {"a node that has left already does not run the hook again on stop", fun hook_once/0}]}.

setup() ->
    ets:new(hook_calls, [named_table, public, ordered_set]),
    ok.

cleanup(_) ->
    drover_agent_test_client:stop_agent(),
    ets:delete(hook_calls).

%% record/1 is the {M, F, A} hook: it notes when it ran and what the
%% agent's state was then.
record(Tag) ->
    ets:insert(hook_calls, {erlang:unique_integer([monotonic]), Tag, drover_agent_mesh:state()}).

calls() -> [{Tag, St} || {_, Tag, St} <- ets:tab2list(hook_calls)].

start(Opts) ->
    Port = drover_agent_test_client:start_agent(Opts#{token => ?TOKEN}),
    {200, _} = drover_agent_test_client:put_peers(Port, ?TOKEN, 1, [?PEER]),
    Port.

leave(Port, Rev) ->
    Body = iolist_to_binary(drover_agent_json:encode(#{revision => Rev})),
    drover_agent_test_client:req(Port, post, "/v1/leave", ?TOKEN, Body).

timed(F) ->
    T0 = erlang:monotonic_time(millisecond),
    R = F(),
    {erlang:monotonic_time(millisecond) - T0, R}.

hook_runs_before_leave() ->
    Port = start(#{before_leave => {?MODULE, record, [leave]}}),
    {200, St} = leave(Port, 2),
    ?assertMatch(#{<<"leaving">> := true, <<"managed">> := []}, St),
    %% When the hook ran, the node still managed its peer and had not left.
    ?assertMatch([{leave, #{leaving := false, managed := [?PEER], revision := 1}}], calls()).

hook_runs_before_announce() ->
    Parent = self(),
    {ok, L} = gen_tcp:listen(0, [binary, {active, false}, {packet, raw}, {ip, {127, 0, 0, 1}}]),
    {ok, CtlPort} = inet:port(L),
    Ctl = spawn_link(fun() -> announcements(L, Parent) end),
    Hook = fun() -> record(sigterm), Parent ! {hook, erlang:monotonic_time()} end,
    _ = start(#{before_leave => Hook, announce_url => "http://127.0.0.1:" ++ integer_to_list(CtlPort)}),
    flush_announcements(),
    ok = drover_agent_mesh:stopping(),
    HookAt = receive {hook, T} -> T after 5000 -> error(no_hook_call) end,
    AnnouncedAt = receive {announced, <<"stopping">>, T2} -> T2 after 5000 -> error(no_announcement) end,
    ?assert(HookAt < AnnouncedAt),
    ?assertMatch([{sigterm, #{leaving := false, managed := [?PEER]}}], calls()),
    ?assertMatch(#{leaving := true, managed := []}, drover_agent_mesh:state()),
    unlink(Ctl),
    exit(Ctl, kill),
    gen_tcp:close(L).

hook_timeout() ->
    Parent = self(),
    Hook = fun() -> Parent ! {hook_pid, self()}, timer:sleep(infinity) end,
    Port = start(#{before_leave => Hook, before_leave_timeout => 300}),
    {Took, {200, St}} = timed(fun() -> leave(Port, 2) end),
    ?assertMatch(#{<<"leaving">> := true}, St),
    ?assert(Took >= 300),
    HookPid = receive {hook_pid, P} -> P after 1000 -> error(no_hook_call) end,
    ?assertNot(is_process_alive(HookPid)).

hook_crash() ->
    Port = start(#{before_leave => fun() -> error(handoff_failed) end}),
    {200, St} = leave(Port, 2),
    ?assertMatch(#{<<"leaving">> := true, <<"managed">> := []}, St),
    %% The agent is unharmed: a new set applies.
    ?assertMatch({200, _}, drover_agent_test_client:put_peers(Port, ?TOKEN, 3, [?PEER])).

hook_mfa() ->
    Port = start(#{before_leave => {?MODULE, record, [{handoff, 42}]}}),
    {200, _} = leave(Port, 2),
    ?assertMatch([{{handoff, 42}, _}], calls()).

no_hook() ->
    Port = start(#{}),
    ?assertEqual(3000, drover_agent_mesh:stop_timeout()),
    {200, St} = leave(Port, 2),
    ?assertMatch(#{<<"leaving">> := true, <<"managed">> := []}, St),
    ?assertEqual([], calls()).

hook_once() ->
    Port = start(#{before_leave => {?MODULE, record, [once]}}),
    {200, _} = leave(Port, 2),
    ok = drover_agent_mesh:stopping(),
    ?assertEqual(1, length(calls())).

%% A fake controller that reports each announcement to Parent with the
%% instant it arrived.
announcements(L, Parent) ->
    {ok, S} = gen_tcp:accept(L),
    {ok, Data} = drover_agent_test_client:read_request(fun() -> gen_tcp:recv(S, 0, 5000) end),
    At = erlang:monotonic_time(),
    [_, Body] = binary:split(Data, <<"\r\n\r\n">>),
    {ok, #{<<"event">> := Event}} = drover_agent_json:decode(Body),
    Parent ! {announced, Event, At},
    ok = gen_tcp:send(S, <<"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n">>),
    gen_tcp:close(S),
    announcements(L, Parent).

%% Drops the "up" announcements of the start.
flush_announcements() ->
    receive {announced, <<"up">>, _} -> flush_announcements() after 200 -> ok end.
