%% @doc Pure rules of the drover node protocol: request validation, node
%% names, and which revisions a node accepts. No I/O, no processes.
-module(drover_agent_rules).

-export([decide/3, decode_set_peers/1, decode_leave/1, valid_node_name/1,
         route/2, dispatch/3, bearer_token/1, token_equal/2, quote/1, max_peers/0]).

-export_type([applied/0, decision/0, route/0]).

%% What a node last applied: its revision, managed peers and leaving flag.
-type applied() :: #{revision := non_neg_integer(),
                     managed := [binary()],
                     leaving := boolean()}.
-type decision() :: apply | noop | stale.
-type route() :: health | status | peers | leave.

%% Revisions are uint64 on the Go side.
-define(MAX_REVISION, 18446744073709551615).
%% The methods of /v1/health and /v1/status.
-define(HEALTH_ALLOW, <<"GET, HEAD">>).
%% Erlang atoms (and so node names) are at most 255 characters.
-define(MAX_NODE_NAME, 255).
%% Peers per PUT /v1/peers (docs/nodeapi.md): bounds the connects, the
%% atoms and the work of one request; 1000 fit the controller's 2 s.
-define(MAX_PEERS, 1000).
%% Error messages quote at most this many bytes of any input.
-define(MAX_QUOTE, 64).

%% @doc The most peers one PUT /v1/peers may carry.
-spec max_peers() -> pos_integer().
max_peers() -> ?MAX_PEERS.

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
        ok when is_list(Peers), length(Peers) > ?MAX_PEERS ->
            {error, too_many_peers,
             <<"at most ", (integer_to_binary(?MAX_PEERS))/binary, " peers per request, got ",
               (integer_to_binary(length(Peers)))/binary>>};
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

bad_name_message(Bad) ->
    <<"bad node name \"", (quote(Bad))/binary, "\": want name@host">>.

%% @doc Input made fit to quote in an error message: at most the first 64
%% bytes (then "..."), every byte outside printable ASCII, `"' and `\'
%% replaced by `?'.
-spec quote(binary()) -> binary().
quote(B) when byte_size(B) > ?MAX_QUOTE ->
    <<(quote(binary:part(B, 0, ?MAX_QUOTE)))/binary, "...">>;
quote(B) ->
    << <<(safe_char(C))>> || <<C>> <= B >>.

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
    {error, bad_request, <<"unknown field \"", (quote(F))/binary, "\"">>}.

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

%% @doc Maps a method and a path (query string allowed) to a route.
-spec route(atom() | binary(), binary()) ->
          {ok, route()} | {error, not_found} | {error, method_not_allowed, binary()}.
route(Method, RawPath) ->
    case {path(RawPath), Method} of
        {<<"/v1/health">>, M} when M =:= 'GET'; M =:= 'HEAD' -> {ok, health};
        {<<"/v1/health">>, _} -> {error, method_not_allowed, ?HEALTH_ALLOW};
        {<<"/v1/status">>, M} when M =:= 'GET'; M =:= 'HEAD' -> {ok, status};
        {<<"/v1/status">>, _} -> {error, method_not_allowed, ?HEALTH_ALLOW};
        {<<"/v1/peers">>, 'PUT'} -> {ok, peers};
        {<<"/v1/peers">>, _} -> {error, method_not_allowed, <<"PUT">>};
        {<<"/v1/leave">>, 'POST'} -> {ok, leave};
        {<<"/v1/leave">>, _} -> {error, method_not_allowed, <<"POST">>};
        _ -> {error, not_found}
    end.

%% @doc Applies the protocol's check order (docs/nodeapi.md) to a request
%% line: /v1/health first (GET and HEAD answer, any other method is 405,
%% no token needed), then the token (401) for every other path, known or
%% not, then the path (404) and the method (405).
-spec dispatch(atom() | binary(), binary(), boolean()) ->
          {ok, route()} | {error, 401 | 404 | 405, atom(), binary(), [{binary(), binary()}]}.
dispatch(Method, RawPath, Authorized) ->
    case {path(RawPath), route(Method, RawPath)} of
        {<<"/v1/health">>, {ok, health}} -> {ok, health};
        {<<"/v1/health">>, {error, method_not_allowed, Allow}} -> method_not_allowed(Allow);
        _ when not Authorized -> unauthorized();
        {_, {ok, Route}} -> {ok, Route};
        {Path, {error, not_found}} ->
            {error, 404, not_found, <<"no such path: ", (quote(Path))/binary>>, []};
        {_, {error, method_not_allowed, Allow}} -> method_not_allowed(Allow)
    end.

unauthorized() ->
    {error, 401, unauthorized, <<"missing or wrong bearer token">>,
     [{<<"WWW-Authenticate">>, <<"Bearer realm=\"drover\"">>}]}.

method_not_allowed(Allow) ->
    {error, 405, method_not_allowed, <<"method not allowed; allowed: ", Allow/binary>>,
     [{<<"Allow">>, Allow}]}.

path(RawPath) ->
    [Path | _] = binary:split(RawPath, <<"?">>),
    Path.

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

%% @doc Compares two tokens in constant time: it compares their SHA-256
%% digests (always 32 bytes) with crypto:hash_equals/2, so neither where
%% they differ nor their lengths show in the time taken. An empty expected
%% token never matches (no token configured = no access).
-spec token_equal(binary(), binary()) -> boolean().
token_equal(Want, Got) ->
    Same = crypto:hash_equals(crypto:hash(sha256, Want), crypto:hash(sha256, Got)),
    Same andalso Want =/= <<>>.
