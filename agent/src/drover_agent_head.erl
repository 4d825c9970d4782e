%% @doc An incremental parser of HTTP/1.1 request heads, with the limits
%% of docs/nodeapi.md. Pure: the connection process feeds it the bytes it
%% reads and gets back a request, a verdict, or a request for more bytes.
%%
%% Lines are cut by the parser itself, not by the socket's `{packet,
%% http_bin}' mode: with that mode an over-long line makes the runtime
%% close the socket before an answer can be sent. Each line is then decoded
%% with erlang:decode_packet/3 (http_bin, httph_bin), which turns unknown
%% methods and header names into binaries, never into new atoms.
%%
%% Limits: a request line longer than 8192 bytes (without its CRLF) is 414;
%% a longer header line, more than 100 header lines, or a head over 64 KiB
%% in all is 431; folded (obs-fold) header lines and malformed lines are
%% 400. Each new byte is scanned once.
-module(drover_agent_head).

-export([new/0, feed/2, limits/0]).

-export_type([state/0, request/0, refusal/0]).

%% Longest request or header line, without its line end.
-define(MAX_LINE, 8192).
%% Longest head in all (request line, header lines, line ends).
-define(MAX_HEAD, 65536).
%% Most header lines per request.
-define(MAX_HEADERS, 100).

-record(head, {phase = request_line :: request_line | headers,
               buf = <<>> :: binary(),
               %% bytes of buf already searched for a line end
               scanned = 0 :: non_neg_integer(),
               %% bytes of the head consumed before buf
               consumed = 0 :: non_neg_integer(),
               request = #{} :: map(),
               headers = #{} :: #{binary() => binary()},
               count = 0 :: non_neg_integer()}).

-opaque state() :: #head{}.
-type request() :: #{method := atom() | binary(), path := binary(), minor := non_neg_integer(),
                     headers := #{binary() => binary()}}.
-type refusal() :: {error, 400 | 414 | 431, atom(), binary()}.

%% @doc A parser at the start of a request.
-spec new() -> state().
new() -> #head{}.

%% @doc The limits, for the docs and the tests.
-spec limits() -> #{max_line := pos_integer(), max_head := pos_integer(),
                    max_headers := pos_integer()}.
limits() -> #{max_line => ?MAX_LINE, max_head => ?MAX_HEAD, max_headers => ?MAX_HEADERS}.

%% @doc Feeds bytes. Answers the request with the bytes after its head (a
%% body, or a pipelined request), or `{more, State}', or a refusal.
-spec feed(binary(), state()) -> {ok, request(), binary()} | {more, state()} | refusal().
feed(Data, #head{buf = Buf} = S) ->
    parse(S#head{buf = <<Buf/binary, Data/binary>>}).

parse(#head{buf = Buf, scanned = From, consumed = Consumed} = S) ->
    case binary:match(Buf, <<"\n">>, [{scope, {From, byte_size(Buf) - From}}]) of
        nomatch when byte_size(Buf) > ?MAX_LINE + 1 -> too_long(S);
        nomatch when Consumed + byte_size(Buf) > ?MAX_HEAD -> head_too_large();
        nomatch -> {more, S#head{scanned = byte_size(Buf)}};
        {Pos, 1} ->
            <<Line:Pos/binary, $\n, _/binary>> = Buf,
            case content_size(Line) > ?MAX_LINE of
                true -> too_long(S);
                false when Consumed + Pos + 1 > ?MAX_HEAD -> head_too_large();
                false -> line(Line, Pos + 1, S)
            end
    end.

content_size(Line) ->
    case binary:last(<<0, Line/binary>>) of
        $\r -> byte_size(Line) - 1;
        _ -> byte_size(Line)
    end.

%% Line is the bytes before the LF; Size counts the LF too.
line(Line, Size, #head{phase = request_line} = S) ->
    case content_size(Line) of
        %% RFC 9112 2.2: ignore empty lines before the request line.
        0 -> parse(next(Size, S));
        _ -> request_line(erlang:decode_packet(http_bin, <<Line/binary, "\n">>, []), Size, S)
    end;
line(Line, Size, #head{buf = Buf} = S) ->
    case {content_size(Line), Buf} of
        {0, <<_:Size/binary, Rest/binary>>} ->
            {ok, (S#head.request)#{headers => S#head.headers}, Rest};
        {_, <<_:Size/binary>>} ->
            %% The next byte tells whether this header line is folded.
            {more, S#head{scanned = Size - 1}};
        {_, <<_:Size/binary, C, _/binary>>} when C =:= $\s; C =:= $\t ->
            {error, 400, bad_request, <<"folded header lines are not supported">>};
        _ when S#head.count >= ?MAX_HEADERS ->
            {error, 431, headers_too_large,
             <<"more than ", (integer_to_binary(?MAX_HEADERS))/binary, " header lines">>};
        _ ->
            %% An empty line after it: decode_packet needs to see that the
            %% header does not continue.
            header(erlang:decode_packet(httph_bin, <<Line/binary, "\n\r\n">>, []), Size, S)
    end.

request_line({ok, {http_request, Method, {abs_path, Path}, {1, Minor}}, _}, Size, S) ->
    parse((next(Size, S))#head{phase = headers,
                               request = #{method => Method, path => Path, minor => Minor}});
request_line({ok, {http_request, _, _, _}, _}, _, _) ->
    {error, 400, bad_request, <<"unsupported request target or HTTP version">>};
request_line(_, _, _) ->
    {error, 400, bad_request, <<"malformed request line">>}.

header({ok, {http_header, _, Name, _, Value}, _}, Size, #head{headers = H, count = N} = S) ->
    Key = key(Name),
    case maps:find(Key, H) of
        {ok, Old} when Key =:= <<"content-length">>, Old =/= Value ->
            {error, 400, bad_request, <<"conflicting content-length headers">>};
        {ok, _} when Key =:= <<"transfer-encoding">>; Key =:= <<"authorization">> ->
            {error, 400, bad_request, <<"repeated ", Key/binary, " header">>};
        _ ->
            parse((next(Size, S))#head{headers = H#{Key => Value}, count = N + 1})
    end;
header(_, _, _) ->
    {error, 400, bad_request, <<"malformed header line">>}.

%% Drops the first Size bytes of the buffer (a parsed line).
next(Size, #head{buf = Buf, consumed = C} = S) ->
    <<_:Size/binary, Rest/binary>> = Buf,
    S#head{buf = Rest, scanned = 0, consumed = C + Size}.

key(Name) when is_atom(Name) -> string:lowercase(atom_to_binary(Name, latin1));
key(Name) -> string:lowercase(Name).

too_long(#head{phase = request_line}) ->
    {error, 414, uri_too_long,
     <<"request line longer than ", (integer_to_binary(?MAX_LINE))/binary, " bytes">>};
too_long(#head{phase = headers}) ->
    {error, 431, headers_too_large,
     <<"header line longer than ", (integer_to_binary(?MAX_LINE))/binary, " bytes">>}.

head_too_large() ->
    {error, 431, headers_too_large,
     <<"request head larger than ", (integer_to_binary(?MAX_HEAD))/binary, " bytes">>}.
