%% @doc Pure rules of the drover node protocol: request validation, node
%% names, and which revisions a node accepts. No I/O, no processes.
-module(drover_agent_rules).

-export([decide/3, decode_set_peers/1, decode_leave/1, valid_node_name/1,
         node_atom/1, route/2, bearer_token/1, token_equal/2]).

-export_type([applied/0, decision/0, route/0]).

%% What a node last applied: its revision, managed peers and leaving flag.
-type applied() :: #{revision := non_neg_integer(),
                     managed := [binary()],
                     leaving := boolean()}.
-type decision() :: apply | noop | stale.
-type route() :: health | status | peers | leave.

%% Revisions are uint64 on the Go side.
-define(MAX_REVISION, 18446744073709551615).
%% Erlang atoms (and so node names) are at most 255 characters.
-define(MAX_NODE_NAME, 255).

%% @doc Decides what a request does to the applied state. The request is
%% the revision it carries and the state it asks for ({Managed, Leaving}).
%% A higher revision applies; an equal revision asking for the same state
%% is a no-op (a retried push); anything else is stale (409).
-spec decide(applied(), non_neg_integer(), {[binary()], boolean()}) -> decision().
decide(#{revision := Cur}, Rev, _) when Rev > Cur -> apply;
decide(#{revision := Cur, managed := M, leaving := L}, Cur, {M, L}) -> noop;
decide(_, _, _) -> stale.

%% @doc Validates a decoded SetPeersRequest. Peers come back sorted and
%% without duplicates.
-spec decode_set_peers(term()) ->
          {ok, non_neg_integer(), [binary()]} | {error, atom(), binary()}.
decode_set_peers(#{<<"revision">> := _, <<"peers">> := _} = M) when map_size(M) > 2 ->
    unknown_fields(M, [<<"revision">>, <<"peers">>]);
decode_set_peers(#{<<"revision">> := Rev, <<"peers">> := Peers}) ->
    case check_revision(Rev) of
        ok when is_list(Peers) -> check_peers(Rev, Peers);
        ok -> {error, bad_request, <<"peers must be an array of strings">>};
        Err -> Err
    end;
decode_set_peers(#{<<"revision">> := _}) ->
    {error, bad_request, <<"peers is required">>};
decode_set_peers(M) when is_map(M) ->
    {error, bad_request, <<"revision is required">>};
decode_set_peers(_) ->
    {error, bad_request, <<"body must be a JSON object">>}.

check_peers(Rev, Peers) ->
    case lists:all(fun is_binary/1, Peers) of
        false ->
            {error, bad_request, <<"peers must be an array of strings">>};
        true ->
            case [P || P <- Peers, not valid_node_name(P)] of
                [] -> {ok, Rev, lists:usort(Peers)};
                [Bad | _] -> {error, bad_node_name, bad_name_message(Bad)}
            end
    end.

bad_name_message(Bad) when byte_size(Bad) =< 64 ->
    <<"bad node name \"", (printable(Bad))/binary, "\": want name@host">>;
bad_name_message(_) ->
    <<"bad node name (too long or malformed): want name@host">>.

printable(B) -> << <<(safe_char(C))>> || <<C>> <= B >>.

safe_char(C) when C >= 16#20, C < 16#7F, C =/= $", C =/= $\\ -> C;
safe_char(_) -> $?.

%% @doc Validates a decoded LeaveRequest.
-spec decode_leave(term()) -> {ok, non_neg_integer()} | {error, atom(), binary()}.
decode_leave(#{<<"revision">> := _} = M) when map_size(M) > 1 ->
    unknown_fields(M, [<<"revision">>]);
decode_leave(#{<<"revision">> := Rev}) ->
    case check_revision(Rev) of
        ok -> {ok, Rev};
        Err -> Err
    end;
decode_leave(M) when is_map(M) ->
    {error, bad_request, <<"revision is required">>};
decode_leave(_) ->
    {error, bad_request, <<"body must be a JSON object">>}.

unknown_fields(M, Known) ->
    [F | _] = lists:sort(maps:keys(M) -- Known),
    Name = case byte_size(F) =< 32 of
               true -> printable(F);
               false -> <<(printable(binary:part(F, 0, 32)))/binary, "...">>
           end,
    {error, bad_request, <<"unknown field \"", Name/binary, "\"">>}.

check_revision(Rev) when is_integer(Rev), Rev >= 0, Rev =< ?MAX_REVISION -> ok;
check_revision(_) ->
    {error, bad_request, <<"revision must be an integer between 0 and 2^64-1">>}.

%% @doc A node name the agent accepts (docs/nodeapi.md): `name@host', one
%% `@', the name of ASCII letters, digits, `_' and `-', the host of ASCII
%% letters, digits, `.', `_' and `-', at most 255 bytes.
-spec valid_node_name(term()) -> boolean().
valid_node_name(B) when is_binary(B), byte_size(B) >= 3, byte_size(B) =< ?MAX_NODE_NAME ->
    case binary:split(B, <<"@">>, [global]) of
        [Name, Host] when Name =/= <<>>, Host =/= <<>> ->
            all_chars(Name, fun name_char/1) andalso all_chars(Host, fun host_char/1);
        _ -> false
    end;
valid_node_name(_) ->
    false.

all_chars(B, Pred) -> lists:all(Pred, binary_to_list(B)).

name_char(C) -> alnum(C) orelse C =:= $_ orelse C =:= $-.
host_char(C) -> name_char(C) orelse C =:= $..

alnum(C) -> (C >= $a andalso C =< $z) orelse (C >= $A andalso C =< $Z)
                orelse (C >= $0 andalso C =< $9).

%% @doc The atom of a node name that passed valid_node_name/1. An existing
%% atom is reused; only validated names ever become new atoms.
-spec node_atom(binary()) -> node().
node_atom(B) ->
    true = valid_node_name(B),
    try binary_to_existing_atom(B, utf8)
    catch error:badarg -> binary_to_atom(B, utf8)
    end.

%% @doc Maps a method and a path (query string allowed) to a route.
-spec route(atom() | binary(), binary()) ->
          {ok, route()} | {error, not_found} | {error, method_not_allowed, binary()}.
route(Method, RawPath) ->
    [Path | _] = binary:split(RawPath, <<"?">>),
    case {Path, Method} of
        {<<"/v1/health">>, M} when M =:= 'GET'; M =:= 'HEAD' -> {ok, health};
        {<<"/v1/health">>, _} -> {error, method_not_allowed, <<"GET, HEAD">>};
        {<<"/v1/status">>, M} when M =:= 'GET'; M =:= 'HEAD' -> {ok, status};
        {<<"/v1/status">>, _} -> {error, method_not_allowed, <<"GET, HEAD">>};
        {<<"/v1/peers">>, 'PUT'} -> {ok, peers};
        {<<"/v1/peers">>, _} -> {error, method_not_allowed, <<"PUT">>};
        {<<"/v1/leave">>, 'POST'} -> {ok, leave};
        {<<"/v1/leave">>, _} -> {error, method_not_allowed, <<"POST">>};
        _ -> {error, not_found}
    end.

%% @doc The token of an `Authorization: Bearer TOKEN' header value.
-spec bearer_token(binary() | undefined) -> {ok, binary()} | error.
bearer_token(<<S:6/binary, " ", Rest/binary>>) ->
    case string:lowercase(S) of
        <<"bearer">> ->
            case string:trim(Rest) of
                <<>> -> error;
                T -> {ok, T}
            end;
        _ -> error
    end;
bearer_token(_) ->
    error.

%% @doc Compares two tokens in time independent of where they differ. An
%% empty expected token never matches (no token configured = no access).
-spec token_equal(binary(), binary()) -> boolean().
token_equal(<<>>, _) -> false;
token_equal(Want, Got) when byte_size(Want) =/= byte_size(Got) -> false;
token_equal(Want, Got) ->
    Diff = lists:foldl(fun({A, B}, Acc) -> Acc bor (A bxor B) end, 0,
                       lists:zip(binary_to_list(Want), binary_to_list(Got))),
    Diff =:= 0.
