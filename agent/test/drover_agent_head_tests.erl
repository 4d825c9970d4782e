%% The request-head parser: limits, malformed input, incremental feeding.
-module(drover_agent_head_tests).
-include_lib("eunit/include/eunit.hrl").

parse(Bin) -> drover_agent_head:feed(Bin, drover_agent_head:new()).

%% Feeds Bin one byte at a time (a slow client).
trickle(Bin) -> trickle(Bin, {more, drover_agent_head:new()}).

trickle(<<C, Rest/binary>>, {more, S}) -> trickle(Rest, drover_agent_head:feed(<<C>>, S));
trickle(Unfed, {ok, Req, Rest}) -> {ok, Req, <<Rest/binary, Unfed/binary>>};
trickle(_, Result) -> Result.

line(N) -> binary:copy(<<"a">>, N).

parse_test_() ->
    Ok = {ok, #{method => 'GET', path => <<"/v1/health">>, minor => 1,
                headers => #{<<"host">> => <<"x">>}}, <<>>},
    Cases =
        [{"a complete head", <<"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n">>, Ok},
         {"bare LF line ends", <<"GET /v1/health HTTP/1.1\nHost: x\n\n">>, Ok},
         {"an empty line before the request line is ignored",
          <<"\r\nGET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n">>, Ok},
         {"the bytes after the head are returned",
          <<"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n{}GET">>,
          setelement(3, Ok, <<"{}GET">>)},
         {"header names are lowercased, values kept",
          <<"PUT /v1/peers HTTP/1.0\r\nContent-LENGTH: 25 \r\nX-Odd: A b\r\n\r\n">>,
          {ok, #{method => 'PUT', path => <<"/v1/peers">>, minor => 0,
                 headers => #{<<"content-length">> => <<"25 ">>, <<"x-odd">> => <<"A b">>}}, <<>>}},
         {"an unknown method stays a binary", <<"BREW /v1/leave HTTP/1.1\r\n\r\n">>,
          {ok, #{method => <<"BREW">>, path => <<"/v1/leave">>, minor => 1, headers => #{}}, <<>>}},
         {"an incomplete head asks for more", <<"GET /v1/health HTTP/1.1\r\nHost: x\r\n">>, more},
         {"a request line of 8192 bytes passes",
          <<"GET /", (line(8192 - 14))/binary, " HTTP/1.1\r\n\r\n">>, ok},
         {"a request line of 8193 bytes is 414",
          <<"GET /", (line(8192 - 13))/binary, " HTTP/1.1\r\n\r\n">>, {414, uri_too_long}},
         {"an endless request line is 414 before its end", <<"GET /", (line(9000))/binary>>,
          {414, uri_too_long}},
         {"a header line of 8193 bytes is 431",
          <<"GET / HTTP/1.1\r\nX: ", (line(8190))/binary, "\r\n\r\n">>, {431, headers_too_large}},
         {"an endless header line is 431 before its end", <<"GET / HTTP/1.1\r\nX: ", (line(9000))/binary>>,
          {431, headers_too_large}},
         {"a head over 64 KiB is 431",
          <<"GET / HTTP/1.1\r\n", (binary:copy(<<"X: ", (line(1000))/binary, "\r\n">>, 70))/binary, "\r\n">>,
          {431, headers_too_large}},
         {"101 header lines are 431",
          <<"GET / HTTP/1.1\r\n", (binary:copy(<<"X: y\r\n">>, 101))/binary, "\r\n">>,
          {431, headers_too_large}},
         {"100 header lines pass",
          <<"GET / HTTP/1.1\r\n", (binary:copy(<<"X: y\r\n">>, 100))/binary, "\r\n">>, ok},
         {"a folded header line is 400", <<"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n">>, {400, bad_request}},
         {"a header line without a colon is 400", <<"GET / HTTP/1.1\r\nX a\r\n\r\n">>, {400, bad_request}},
         {"a space before the colon is 400", <<"GET / HTTP/1.1\r\nHost : x\r\n\r\n">>, {400, bad_request}},
         {"two different content-lengths are 400",
          <<"PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n">>, {400, bad_request}},
         {"two authorization headers are 400",
          <<"GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n">>, {400, bad_request}},
         {"an absolute-form target is 400", <<"GET http://x/v1/health HTTP/1.1\r\n\r\n">>, {400, bad_request}},
         {"HTTP/2 is 400", <<"GET / HTTP/2.0\r\n\r\n">>, {400, bad_request}},
         {"HTTP/0.9 is 400", <<"GET /\r\n\r\n">>, {400, bad_request}},
         {"garbage is 400", <<"GARBAGE\r\n\r\n">>, {400, bad_request}}],
    [{Name, ?_assert(matches(Want, parse(In)))} || {Name, In, Want} <- Cases] ++
        [{"byte by byte: " ++ Name, ?_assert(matches(Want, trickle(In)))} || {Name, In, Want} <- Cases].

matches(ok, {ok, _, _}) -> true;
matches(more, {more, _}) -> true;
matches({Status, Code}, {error, Status, Code, Msg}) -> is_binary(Msg);
matches(Want, Got) when is_tuple(Want), element(1, Want) =:= ok -> Want =:= Got;
matches(Want, Got) -> ?debugFmt("want ~p, got ~P", [Want, Got, 12]), false.

limits_test() ->
    ?assertEqual(#{max_line => 8192, max_head => 65536, max_headers => 100}, drover_agent_head:limits()).
