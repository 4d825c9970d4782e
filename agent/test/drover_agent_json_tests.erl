-module(drover_agent_json_tests).
-include_lib("eunit/include/eunit.hrl").

dec(B) -> drover_agent_json:decode_builtin(B).
enc(T) -> iolist_to_binary(drover_agent_json:encode_builtin(T)).

decode_values_test_() ->
    Cases = [{<<"0">>, 0}, {<<"-12">>, -12}, {<<"18446744073709551615">>, 18446744073709551615},
             {<<"1.5">>, 1.5}, {<<"-2e3">>, -2.0e3}, {<<"1E-2">>, 0.01}, {<<"0.25e+1">>, 2.5},
             {<<"true">>, true}, {<<"false">>, false}, {<<"null">>, null},
             {<<"\"\"">>, <<>>}, {<<"\"a\\\"b\\\\c\\/d\"">>, <<"a\"b\\c/d">>},
             {<<"\"\\b\\f\\n\\r\\t\"">>, <<"\b\f\n\r\t">>},
             {<<"\"\\u00e9\"">>, <<"é"/utf8>>}, {<<"\"\\ud83d\\ude00\"">>, <<"😀"/utf8>>},
             {<<"\"é\""/utf8>>, <<"é"/utf8>>},
             {<<" [ ] ">>, []}, {<<"{}">>, #{}}, {<<"[1, [2, []], {\"a\": null}]">>, [1, [2, []], #{<<"a">> => null}]},
             {<<"{\"revision\":7,\"peers\":[\"a@1\",\"b@2\"]}">>,
              #{<<"revision">> => 7, <<"peers">> => [<<"a@1">>, <<"b@2">>]}},
             {<<"{\"a\":1,\"a\":2}">>, #{<<"a">> => 2}}],
    [{binary_to_list(In), ?_assertEqual({ok, Want}, dec(In))} || {In, Want} <- Cases].

decode_malformed_test_() ->
    Bad = [<<>>, <<" ">>, <<"{">>, <<"}">>, <<"[1,]">>, <<"[,1]">>, <<"{\"a\"}">>,
           <<"{\"a\":1,}">>, <<"{a:1}">>, <<"{'a':1}">>, <<"01">>, <<"-">>, <<"1.">>, <<".5">>,
           <<"1e">>, <<"+1">>, <<"tru">>, <<"nul">>, <<"\"abc">>, <<"\"a\nb\"">>,
           <<"\"\\x\"">>, <<"\"\\u12\"">>, <<"\"\\uzzzz\"">>, <<"\"\\ud83d\"">>,
           <<"\"\\ude00\"">>, <<"\"\\ud83d\\u0041\"">>, <<"\"", 16#ff, "\"">>,
           <<"\"", 16#c3, "\"">>, <<"1 2">>, <<"{} x">>, <<"[1]]">>, <<"1e999">>,
           <<"NaN">>, <<"Infinity">>, <<0>>, <<"[\"a\" \"b\"]">>,
           binary:copy(<<"[">>, 100) , binary:copy(<<"[">>, 100000)],
    [?_assertMatch({error, _}, dec(B)) || B <- Bad].

decode_not_binary_test() ->
    ?assertMatch({error, _}, drover_agent_json:decode("[]")).

decode_depth_test() ->
    Deep = <<(binary:copy(<<"[">>, 64))/binary, (binary:copy(<<"]">>, 64))/binary>>,
    ?assertMatch({ok, _}, dec(Deep)),
    TooDeep = <<(binary:copy(<<"[">>, 65))/binary, (binary:copy(<<"]">>, 65))/binary>>,
    ?assertEqual({error, too_deep}, dec(TooDeep)).

encode_test_() ->
    Cases = [{#{}, <<"{}">>}, {[], <<"[]">>}, {true, <<"true">>}, {null, <<"null">>},
             {ok, <<"\"ok\"">>}, {42, <<"42">>}, {1.5, <<"1.5">>},
             {<<"a\"\\\n\t", 1>>, <<"\"a\\\"\\\\\\n\\t\\u0001\"">>},
             {#{b => 1, a => [<<"x">>]}, <<"{\"a\":[\"x\"],\"b\":1}">>},
             {#{<<"k">> => false}, <<"{\"k\":false}">>}],
    [?_assertEqual(Want, enc(In)) || {In, Want} <- Cases].

encode_unsupported_test() ->
    ?assertError({unsupported, _}, enc({tuple})),
    ?assertError({unsupported_key, _}, enc(#{1 => 2})).

round_trip_test_() ->
    Terms = [#{<<"node">> => <<"hello@10.42.0.5">>, <<"connected">> => [<<"a@b">>],
               <<"revision">> => 18446744073709551615, <<"leaving">> => false,
               <<"flags">> => #{<<"netTicktime">> => 60}},
             [1, -1, 0.5, <<"é😀"/utf8>>, <<0, 31, 127>>, null, [[[]]], #{}]],
    [?_assertEqual({ok, T}, dec(enc(T))) || T <- Terms].

%% The public entry points pick the codec by OTP release; on 25 they are
%% the built-in ones.
public_api_test() ->
    T = #{<<"a">> => [1, <<"x">>]},
    ?assertEqual({ok, T}, drover_agent_json:decode(iolist_to_binary(drover_agent_json:encode(T)))).

%% Random bytes never crash the decoder.
fuzz_test() ->
    rand:seed(exsss, {1, 2, 3}),
    Seeds = [<<"{\"revision\":1,\"peers\":[\"a@b\"]}">>, <<"[1.5e3,\"\\u00e9\",null]">>],
    lists:foreach(
      fun(_) ->
              S = lists:nth(rand:uniform(2), Seeds),
              B = mutate(S, rand:uniform(4)),
              R = dec(B),
              ?assert(element(1, R) =:= ok orelse element(1, R) =:= error)
      end, lists:seq(1, 3000)).

mutate(B, 0) -> B;
mutate(B, N) ->
    P = rand:uniform(byte_size(B)) - 1,
    <<H:P/binary, _, T/binary>> = B,
    mutate(<<H/binary, (rand:uniform(256) - 1), T/binary>>, N - 1).
