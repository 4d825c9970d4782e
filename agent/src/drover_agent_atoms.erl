%% @doc The atom budget: node names become atoms (net_kernel needs atoms),
%% atoms are never garbage collected, and a full atom table ends the VM.
%% So the agent counts every atom it creates and refuses a name that is not
%% already an atom once the count would pass the budget (app env
%% `max_new_atoms', default 100000 per VM), or once the atom table would be
%% more than ?TABLE_SHARE percent full (a VM started with a small `+t').
%% Names that already are atoms always pass and cost nothing.
%%
%% The count lives in an atomics array kept in persistent_term, so it
%% survives restarts of the agent: the atoms it created do too.
-module(drover_agent_atoms).

-include_lib("kernel/include/logger.hrl").

-export([to_atoms/2, existing/1, created/0]).

%% Refuse new atoms once the atom table would be fuller than this share
%% (percent) of erlang:system_info(atom_limit): the rest is the host
%% application's.
-define(TABLE_SHARE, 90).
-define(KEY, {?MODULE, counter}).
%% atomics slots: created atoms, "exhaustion logged" flag.
-define(CREATED, 1).
-define(WARNED, 2).

%% @doc The atoms of Names (valid node names, no duplicates), creating the missing ones
%% within Budget. All or nothing: when the missing ones do not fit, nothing
%% is created and the answer is {error, exhausted}; the first refusal in
%% the VM's life is logged (a warning), later ones are not.
-spec to_atoms([binary()], non_neg_integer()) -> {ok, [atom()]} | {error, exhausted}.
to_atoms(Names, Budget) ->
    Ref = counter(),
    Missing = [N || N <- Names, existing(N) =:= error],
    Created = atomics:get(Ref, ?CREATED),
    case fits(length(Missing), Created, Budget) of
        true ->
            atomics:add(Ref, ?CREATED, length(Missing)),
            {ok, [binary_to_atom(N, utf8) || N <- Names]};
        false ->
            warn_once(Ref, Created, Budget, length(Missing)),
            {error, exhausted}
    end.

%% @doc The atom of Name when it already exists; never creates one.
-spec existing(binary()) -> {ok, atom()} | error.
existing(Name) ->
    try binary_to_existing_atom(Name, utf8) of
        A -> {ok, A}
    catch
        error:badarg -> error
    end.

%% @doc How many atoms the agent has created in this VM.
-spec created() -> non_neg_integer().
created() ->
    case persistent_term:get(?KEY, undefined) of
        undefined -> 0;
        Ref -> atomics:get(Ref, ?CREATED)
    end.

fits(0, _, _) ->
    true;
fits(N, Created, Budget) ->
    Limit = erlang:system_info(atom_limit),
    Created + N =< Budget andalso
        erlang:system_info(atom_count) + N =< Limit * ?TABLE_SHARE div 100.

warn_once(Ref, Created, Budget, Wanted) ->
    case atomics:compare_exchange(Ref, ?WARNED, 0, 1) of
        ok ->
            ?LOG_WARNING(#{what => "drover_agent: atom budget exhausted, refusing new node names",
                           atoms_created => Created, atom_budget => Budget, wanted => Wanted,
                           atom_count => erlang:system_info(atom_count),
                           atom_limit => erlang:system_info(atom_limit)});
        _ ->
            ok
    end.

%% The VM-wide counter, created on first use. Two processes creating it at
%% once would each put their own; the mesh server is the only caller that
%% creates atoms, so that cannot happen.
counter() ->
    case persistent_term:get(?KEY, undefined) of
        undefined ->
            Ref = atomics:new(2, [{signed, false}]),
            persistent_term:put(?KEY, Ref),
            Ref;
        Ref ->
            Ref
    end.
