%% @doc A small, strict JSON codec (RFC 8259) for the drover node protocol.
%%
%% OTP 25 has no JSON module, so this one decodes objects to maps with
%% binary keys, arrays to lists, strings to UTF-8 binaries, numbers to
%% integers or floats, and true/false/null to atoms. On OTP 27 and later it
%% uses OTP's own `json' module, which yields the same shapes.
%%
%% Decoding never raises: any malformed input gives `{error, Reason}'.
-module(drover_agent_json).

-export([decode/1, encode/1]).
-export([decode_builtin/1, encode_builtin/1]).

%% Nesting deeper than this is refused: the protocol needs 3 levels.
-define(MAX_DEPTH, 64).

-type json() :: #{binary() => json()} | [json()] | binary() | number()
              | true | false | null.
-export_type([json/0]).

%% @doc Decodes a JSON document.
-spec decode(binary()) -> {ok, json()} | {error, term()}.
decode(Bin) when is_binary(Bin) ->
    case has_otp_json() of
        true -> decode_otp(Bin);
        false -> decode_builtin(Bin)
    end;
decode(_) ->
    {error, not_binary}.

%% @doc Encodes a term as JSON. Map keys may be binaries or atoms; atoms
%% other than true/false/null become strings.
-spec encode(term()) -> iodata().
encode(Term) ->
    case has_otp_json() of
        true -> encode_otp(Term);
        false -> encode_builtin(Term)
    end.

has_otp_json() ->
    list_to_integer(erlang:system_info(otp_release)) >= 27.

%% xref: json exists only on OTP 27+; called only there.
decode_otp(Bin) ->
    Json = json,
    try Json:decode(Bin) of
        Term -> {ok, Term}
    catch
        error:Reason -> {error, Reason}
    end.

encode_otp(Term) ->
    Json = json,
    Json:encode(Term).

%%% Decoder

%% @doc The codec's own decoder (used below OTP 27; exported for tests).
-spec decode_builtin(binary()) -> {ok, json()} | {error, term()}.
decode_builtin(Bin) ->
    try value(ws(Bin), 0) of
        {Value, Rest} ->
            case ws(Rest) of
                <<>> -> {ok, Value};
                _ -> {error, trailing_data}
            end
    catch
        throw:{json, Reason} -> {error, Reason};
        error:_ -> {error, invalid}
    end.

ws(<<C, Rest/binary>>) when C =:= $\s; C =:= $\t; C =:= $\n; C =:= $\r -> ws(Rest);
ws(Bin) -> Bin.

fail(Reason) -> throw({json, Reason}).

value(<<C, _/binary>>, Depth) when Depth >= ?MAX_DEPTH, (C =:= ${ orelse C =:= $[) ->
    fail(too_deep);
value(<<${, Rest/binary>>, Depth) -> object(ws(Rest), Depth + 1, #{});
value(<<$[, Rest/binary>>, Depth) -> array(ws(Rest), Depth + 1, []);
value(<<$", Rest/binary>>, _) -> string(Rest, <<>>);
value(<<"true", Rest/binary>>, _) -> {true, Rest};
value(<<"false", Rest/binary>>, _) -> {false, Rest};
value(<<"null", Rest/binary>>, _) -> {null, Rest};
value(<<C, _/binary>> = Bin, _) when C =:= $-; C >= $0, C =< $9 -> number(Bin);
value(<<>>, _) -> fail(unexpected_end);
value(_, _) -> fail(invalid).

object(<<$}, Rest/binary>>, _, Acc) when map_size(Acc) =:= 0 -> {Acc, Rest};
object(<<$", Rest/binary>>, Depth, Acc) ->
    {Key, R1} = string(Rest, <<>>),
    case ws(R1) of
        <<$:, R2/binary>> ->
            {Val, R3} = value(ws(R2), Depth),
            Acc1 = Acc#{Key => Val},
            case ws(R3) of
                <<$,, R4/binary>> -> object_key(ws(R4), Depth, Acc1);
                <<$}, R4/binary>> -> {Acc1, R4};
                _ -> fail(invalid_object)
            end;
        _ -> fail(invalid_object)
    end;
object(_, _, _) -> fail(invalid_object).

object_key(<<$", _/binary>> = Bin, Depth, Acc) -> object(Bin, Depth, Acc);
object_key(_, _, _) -> fail(invalid_object).

array(<<$], Rest/binary>>, _, []) -> {[], Rest};
array(Bin, Depth, Acc) ->
    {Val, R1} = value(Bin, Depth),
    case ws(R1) of
        <<$,, R2/binary>> -> array(ws(R2), Depth, [Val | Acc]);
        <<$], R2/binary>> -> {lists:reverse([Val | Acc]), R2};
        _ -> fail(invalid_array)
    end.

string(<<$", Rest/binary>>, Acc) ->
    case unicode:characters_to_binary(Acc) of
        Acc -> {Acc, Rest};
        _ -> fail(invalid_utf8)
    end;
string(<<$\\, E, Rest/binary>>, Acc) when E =/= $u ->
    C = case E of
            $" -> $";
            $\\ -> $\\;
            $/ -> $/;
            $b -> $\b;
            $f -> $\f;
            $n -> $\n;
            $r -> $\r;
            $t -> $\t;
            _ -> fail(invalid_escape)
        end,
    string(Rest, <<Acc/binary, C>>);
string(<<"\\u", H:4/binary, Rest/binary>>, Acc) ->
    case hex(H) of
        Hi when Hi >= 16#D800, Hi =< 16#DBFF ->
            case Rest of
                <<"\\u", L:4/binary, R2/binary>> ->
                    case hex(L) of
                        Lo when Lo >= 16#DC00, Lo =< 16#DFFF ->
                            Cp = 16#10000 + ((Hi - 16#D800) bsl 10) + (Lo - 16#DC00),
                            string(R2, <<Acc/binary, Cp/utf8>>);
                        _ -> fail(invalid_surrogate)
                    end;
                _ -> fail(invalid_surrogate)
            end;
        Lo when Lo >= 16#DC00, Lo =< 16#DFFF -> fail(invalid_surrogate);
        Cp -> string(Rest, <<Acc/binary, Cp/utf8>>)
    end;
string(<<$\\, _/binary>>, _) -> fail(invalid_escape);
string(<<C, _/binary>>, _) when C < 16#20 -> fail(control_character);
string(<<C, Rest/binary>>, Acc) -> string(Rest, <<Acc/binary, C>>);
string(<<>>, _) -> fail(unexpected_end).

hex(H) ->
    try binary_to_integer(H, 16) of
        N -> N
    catch
        error:badarg -> fail(invalid_escape)
    end.

%% number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
number(Bin) ->
    {Sign, R0} = case Bin of
                     <<$-, Neg/binary>> -> {<<"-">>, Neg};
                     _ -> {<<>>, Bin}
                 end,
    {Int, R1} = case R0 of
                    <<$0, AfterZero/binary>> -> {<<"0">>, AfterZero};
                    <<C, _/binary>> when C >= $1, C =< $9 -> digits(R0, <<>>);
                    _ -> fail(invalid_number)
                end,
    {Frac, R2} = case R1 of
                     <<$., D, _/binary>> when D >= $0, D =< $9 ->
                         <<_, FR/binary>> = R1,
                         digits(FR, <<>>);
                     <<$., _/binary>> -> fail(invalid_number);
                     _ -> {none, R1}
                 end,
    {Exp, R3} = exponent(R2),
    {to_number(Sign, Int, Frac, Exp), R3}.

exponent(<<E, Rest/binary>>) when E =:= $e; E =:= $E ->
    {S, R1} = case Rest of
                  <<$+, Pos/binary>> -> {<<>>, Pos};
                  <<$-, Neg/binary>> -> {<<"-">>, Neg};
                  _ -> {<<>>, Rest}
              end,
    case R1 of
        <<D, _/binary>> when D >= $0, D =< $9 ->
            {Ds, R2} = digits(R1, <<>>),
            {<<S/binary, Ds/binary>>, R2};
        _ -> fail(invalid_number)
    end;
exponent(Bin) -> {none, Bin}.

digits(<<D, Rest/binary>>, Acc) when D >= $0, D =< $9 -> digits(Rest, <<Acc/binary, D>>);
digits(Rest, Acc) -> {Acc, Rest}.

to_number(Sign, Int, none, none) ->
    binary_to_integer(<<Sign/binary, Int/binary>>);
to_number(Sign, Int, Frac, Exp) ->
    F = case Frac of none -> <<"0">>; _ -> Frac end,
    E = case Exp of none -> <<>>; _ -> <<"e", Exp/binary>> end,
    try binary_to_float(<<Sign/binary, Int/binary, ".", F/binary, E/binary>>)
    catch error:badarg -> fail(number_out_of_range)
    end.

%%% Encoder

%% @doc The codec's own encoder (used below OTP 27; exported for tests).
-spec encode_builtin(term()) -> iodata().
encode_builtin(true) -> <<"true">>;
encode_builtin(false) -> <<"false">>;
encode_builtin(null) -> <<"null">>;
encode_builtin(A) when is_atom(A) -> encode_string(atom_to_binary(A, utf8));
encode_builtin(B) when is_binary(B) -> encode_string(B);
encode_builtin(I) when is_integer(I) -> integer_to_binary(I);
encode_builtin(F) when is_float(F) -> float_to_binary(F, [short]);
encode_builtin(L) when is_list(L) ->
    [$[, join([encode_builtin(E) || E <- L]), $]];
encode_builtin(M) when is_map(M) ->
    Pairs = [[encode_key(K), $:, encode_builtin(V)] || {K, V} <- lists:sort(maps:to_list(M))],
    [${, join(Pairs), $}];
encode_builtin(Other) ->
    erlang:error({unsupported, Other}).

encode_key(K) when is_binary(K) -> encode_string(K);
encode_key(K) when is_atom(K) -> encode_string(atom_to_binary(K, utf8));
encode_key(K) -> erlang:error({unsupported_key, K}).

join([]) -> [];
join([H | T]) -> [H | [[$,, E] || E <- T]].

encode_string(B) -> [$", escape(B, <<>>), $"].

escape(<<$", R/binary>>, Acc) -> escape(R, <<Acc/binary, "\\\"">>);
escape(<<$\\, R/binary>>, Acc) -> escape(R, <<Acc/binary, "\\\\">>);
escape(<<$\n, R/binary>>, Acc) -> escape(R, <<Acc/binary, "\\n">>);
escape(<<$\r, R/binary>>, Acc) -> escape(R, <<Acc/binary, "\\r">>);
escape(<<$\t, R/binary>>, Acc) -> escape(R, <<Acc/binary, "\\t">>);
escape(<<C, R/binary>>, Acc) when C < 16#20 ->
    H = iolist_to_binary(io_lib:format("\\u~4.16.0b", [C])),
    escape(R, <<Acc/binary, H/binary>>);
escape(<<C, R/binary>>, Acc) -> escape(R, <<Acc/binary, C>>);
escape(<<>>, Acc) -> Acc.
