-module(drover_agent_rules_tests).
-include_lib("eunit/include/eunit.hrl").

-import(drover_agent_rules, [decide/3, decode_set_peers/1, decode_leave/1,
                             valid_node_name/1, route/2, dispatch/3, bearer_token/1, token_equal/2,
                             quote/1]).

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
           {#{<<"revision">> => 1, <<"peers">> => [<<"a@1">>, <<"nohost">>]}, bad_node_name},
           {#{<<"revision">> => 1, <<"peers">> => peers(1001)}, too_many_peers},
           {#{<<"revision">> => 1, <<"peers">> => [<<"bad">> | peers(1000)]}, too_many_peers},
           {#{<<"Revision">> => 1, <<"peers">> => []}, bad_request},
           {#{<<"revision">> => 1, <<"Peers">> => []}, bad_request}],
    [?_assertEqual(Want, decode_set_peers(In)) || {In, Want} <- Ok] ++
        [?_assertMatch({ok, 1, [_ | _]}, decode_set_peers(#{<<"revision">> => 1, <<"peers">> => peers(1000)}))] ++
        [?_assertMatch({error, Code, _}, decode_set_peers(In)) || {In, Code} <- Bad].

peers(N) -> [<<"n", (integer_to_binary(I))/binary, "@h">> || I <- lists:seq(1, N)].

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

%% The check order of docs/nodeapi.md: health first, then the token, then
%% path and method.
dispatch_test_() ->
    Cases = [{"health without a token", 'GET', <<"/v1/health">>, false, {ok, health}},
             {"health with a query", 'HEAD', <<"/v1/health?x">>, false, {ok, health}},
             {"non-GET health without a token is 405", 'POST', <<"/v1/health">>, false, 405},
             {"non-GET health with a token is 405", <<"BREW">>, <<"/v1/health">>, true, 405},
             {"status without a token is 401", 'GET', <<"/v1/status">>, false, 401},
             {"wrong method without a token is 401", 'POST', <<"/v1/status">>, false, 401},
             {"unknown path without a token is 401", 'GET', <<"/nope">>, false, 401},
             {"unknown path with a token is 404", 'GET', <<"/nope">>, true, 404},
             {"wrong method with a token is 405", 'GET', <<"/v1/peers">>, true, 405},
             {"peers with a token", 'PUT', <<"/v1/peers">>, true, {ok, peers}}],
    [{Name, ?_assert(dispatched(Want, dispatch(M, P, Auth)))} || {Name, M, P, Auth, Want} <- Cases].

dispatched({ok, _} = Want, Got) -> Want =:= Got;
dispatched(Status, {error, Status, _, Msg, _}) -> is_binary(Msg);
dispatched(_, _) -> false.

quote_test_() ->
    Long = binary:copy(<<"x">>, 1000),
    [?_assertEqual(<<"a?b?c">>, quote(<<"a\"b", 0, "c">>)),
     ?_assertEqual(<<(binary:copy(<<"x">>, 64))/binary, "...">>, quote(Long)),
     ?_assertEqual(binary:copy(<<"x">>, 64), quote(binary:copy(<<"x">>, 64)))].

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
     ?_assertNot(token_equal(<<"secret">>, binary:copy(<<"secret">>, 1000))),
     ?_assertNot(token_equal(<<>>, <<>>))].
