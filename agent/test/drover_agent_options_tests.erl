-module(drover_agent_options_tests).
-include_lib("eunit/include/eunit.hrl").

defaults_test() ->
    M = drover_agent:normalize_options([], #{}),
    ?assertMatch(#{port := 4001, ip := {0, 0, 0, 0}, token := <<>>, announce_url := undefined,
                   connect_timeout := 1500, max_body := 1048576}, M).

proplist_over_env_test() ->
    M = drover_agent:normalize_options([{port, 4100}, {token, "abc"}, {ip, "127.0.0.1"}],
                                       #{port => 4002, announce_url => <<"http://c:1">>,
                                         announce_token => "t"}),
    ?assertMatch(#{port := 4100, token := <<"abc">>, ip := {127, 0, 0, 1},
                   announce_url := "http://c:1", announce_token := <<"t">>}, M).

elixir_nil_test() ->
    M = drover_agent:normalize_options([{token, nil}, {announce_url, nil}, {token_env, nil}], #{}),
    ?assertMatch(#{token := <<>>, announce_url := undefined}, M).

token_env_test() ->
    os:putenv("DROVER_AGENT_TEST_TOKEN", " envtok\n"),
    ?assertMatch(#{token := <<"envtok">>},
                 drover_agent:normalize_options(#{token_env => "DROVER_AGENT_TEST_TOKEN"}, #{})).

token_file_test() ->
    F = filename:join(os:getenv("TMPDIR", "/tmp"), "drover_agent_token_test"),
    ok = file:write_file(F, <<"filetok\n">>),
    ?assertMatch(#{token := <<"filetok">>}, drover_agent:normalize_options(#{token_file => F}, #{})),
    file:delete(F).

port_string_test() ->
    ?assertMatch(#{port := 4005}, drover_agent:normalize_options(#{port => "4005"}, #{})).

before_leave_default_test() ->
    ?assertMatch(#{before_leave := undefined, before_leave_timeout := 5000},
                 drover_agent:normalize_options([], #{})).

before_leave_forms_test() ->
    F = fun() -> ok end,
    ?assertMatch(#{before_leave := {m, f, [1]}, before_leave_timeout := 200},
                 drover_agent:normalize_options([{before_leave, {m, f, [1]}}, {before_leave_timeout, "200"}], #{})),
    ?assertMatch(#{before_leave := F}, drover_agent:normalize_options(#{before_leave => F}, #{})),
    ?assertMatch(#{before_leave := undefined}, drover_agent:normalize_options([{before_leave, nil}], #{})),
    ?assertMatch(#{before_leave := {m, f, []}}, drover_agent:normalize_options([], #{before_leave => {m, f, []}})).

before_leave_refused_test_() ->
    [?_assertError({before_leave, _, _}, drover_agent:normalize_options(#{before_leave => H}, #{}))
     || H <- [{m, f}, {"m", f, []}, fun(_) -> ok end, "Mod.fun"]].
