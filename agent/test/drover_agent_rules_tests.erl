-module(drover_agent_rules_tests).
-include_lib("eunit/include/eunit.hrl").

-import(drover_agent_rules, [decide/3, decode_set_peers/1, decode_leave/1,
                             valid_node_name/1, route/2, bearer_token/1, token_equal/2]).

applied(Rev, Managed, Leaving) -> #{revision => Rev, managed => Managed, leaving => Leaving}.

decide_test_() ->
    A = applied(5, [<<"a@1">>], false),
    L = applied(5, [], true),
    Cases = [{"higher revision applies", A, 6, {[<<"b@2">>], false}, apply},
             {"higher revision, same set, applies", A, 6, {[<<"a@1">>], false}, apply},
             {"retried push is a no-op", A, 5, {[<<"a@1">>], false}, noop},
             {"equal revision, other set, is stale", A, 5, {[<<"b@2">>], false}, stale},
             {"equal revision leave after a peer set is stale", A, 5, {[], true}, stale},
             {"lower revision is stale", A, 4, {[<<"a@1">>], false}, stale},
             {"retried leave is a no-op", L, 5, {[], true}, noop},
             {"peer set at the leave's revision is stale", L, 5, {[], false}, stale},
             {"peer set after a leave applies", L, 6, {[<<"a@1">>], false}, apply},
             {"revision 0 empty set at start is a no-op", applied(0, [], false), 0, {[], false}, noop}],
    [{Name, ?_assertEqual(Want, decide(S, Rev, Req))} || {Name, S, Rev, Req, Want} <- Cases].

decode_set_peers_test_() ->
    Ok = [{#{<<"revision">> => 1, <<"peers">> => [<<"b@2">>, <<"a@1">>, <<"b@2">>]},
           {ok, 1, [<<"a@1">>, <<"b@2">>]}},
          {#{<<"revision">> => 0, <<"peers">> => []}, {ok, 0, []}},
          {#{<<"revision">> => 18446744073709551615, <<"peers">> => []},
           {ok, 18446744073709551615, []}}],
    Bad = [{#{<<"revision">> => -1, <<"peers">> => []}, bad_request},
           {#{<<"revision">> => 18446744073709551616, <<"peers">> => []}, bad_request},
           {#{<<"revision">> => 1.0, <<"peers">> => []}, bad_request},
           {#{<<"revision">> => <<"1">>, <<"peers">> => []}, bad_request},
           {#{<<"revision">> => null, <<"peers">> => []}, bad_request},
           {#{<<"revision">> => 1, <<"peers">> => null}, bad_request},
           {#{<<"revision">> => 1, <<"peers">> => <<"a@1">>}, bad_request},
           {#{<<"revision">> => 1, <<"peers">> => [1]}, bad_request},
           {#{<<"revision">> => 1, <<"peers">> => [[<<"a@1">>]]}, bad_request},
           {#{<<"revision">> => 1}, bad_request},
           {#{<<"peers">> => []}, bad_request},
           {#{<<"revision">> => 1, <<"peers">> => [], <<"extra">> => 1}, bad_request},
           {[], bad_request}, {null, bad_request}, {<<"x">>, bad_request},
           {#{<<"revision">> => 1, <<"peers">> => [<<"a@1">>, <<"nohost">>]}, bad_node_name}],
    [?_assertEqual(Want, decode_set_peers(In)) || {In, Want} <- Ok] ++
        [?_assertMatch({error, Code, _}, decode_set_peers(In)) || {In, Code} <- Bad].

decode_leave_test_() ->
    [?_assertEqual({ok, 3}, decode_leave(#{<<"revision">> => 3})),
     ?_assertMatch({error, bad_request, _}, decode_leave(#{})),
     ?_assertMatch({error, bad_request, <<"unknown field \"force\"">>},
                   decode_leave(#{<<"revision">> => 3, <<"force">> => true})),
     ?_assertMatch({error, bad_request, _}, decode_leave(#{<<"revision">> => true})),
     ?_assertMatch({error, bad_request, _}, decode_leave([3]))].

node_name_test_() ->
    Good = [<<"hello@10.42.0.5">>, <<"a@b">>, <<"my_app-1@host.example.com">>, <<"A_b-9@h_-.x">>,
            <<"n@", (binary:copy(<<"h">>, 253))/binary>>],
    Bad = [<<>>, <<"@">>, <<"a@">>, <<"@b">>, <<"ab">>, <<"a@b@c">>, <<"a b@c">>,
           <<"a@b c">>, <<"a@b\n">>, <<"a.b@h">>, <<"x@::1">>, <<"a@127.0.0.1 ">>, <<"é@b"/utf8>>, <<"a@b'">>, <<"a@b/c">>,
           <<"n@", (binary:copy(<<"h">>, 254))/binary>>, "a@b", a@b, 1],
    [{binary_to_list(iolist_to_binary(io_lib:format("~0p", [G]))), ?_assert(valid_node_name(G))} || G <- Good] ++
        [?_assertNot(valid_node_name(B)) || B <- Bad].

route_test_() ->
    Cases = [{'GET', <<"/v1/health">>, {ok, health}},
             {'HEAD', <<"/v1/health">>, {ok, health}},
             {'GET', <<"/v1/status?x=1">>, {ok, status}},
             {'PUT', <<"/v1/peers">>, {ok, peers}},
             {'POST', <<"/v1/leave">>, {ok, leave}},
             {'POST', <<"/v1/peers">>, {error, method_not_allowed, <<"PUT">>}},
             {'DELETE', <<"/v1/status">>, {error, method_not_allowed, <<"GET, HEAD">>}},
             {'HEAD', <<"/v1/status">>, {ok, status}},
             {<<"BREW">>, <<"/v1/leave">>, {error, method_not_allowed, <<"POST">>}},
             {'GET', <<"/v1/peers/">>, {error, not_found}},
             {'GET', <<"/">>, {error, not_found}},
             {'GET', <<"/v2/status">>, {error, not_found}}],
    [?_assertEqual(Want, route(M, P)) || {M, P, Want} <- Cases].

bearer_test_() ->
    [?_assertEqual({ok, <<"tok">>}, bearer_token(<<"Bearer tok">>)),
     ?_assertEqual({ok, <<"tok">>}, bearer_token(<<"bearer  tok ">>)),
     ?_assertEqual(error, bearer_token(<<"Bearer ">>)),
     ?_assertEqual(error, bearer_token(<<"Basic dG9rOg==">>)),
     ?_assertEqual(error, bearer_token(<<"tok">>)),
     ?_assertEqual(error, bearer_token(undefined))].

token_equal_test_() ->
    [?_assert(token_equal(<<"secret">>, <<"secret">>)),
     ?_assertNot(token_equal(<<"secret">>, <<"secreT">>)),
     ?_assertNot(token_equal(<<"secret">>, <<"secret2">>)),
     ?_assertNot(token_equal(<<"secret">>, <<>>)),
     ?_assertNot(token_equal(<<>>, <<>>))].
