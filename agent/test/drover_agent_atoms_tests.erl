%% The atom budget: counted, all or nothing, existing atoms free.
-module(drover_agent_atoms_tests).
-include_lib("eunit/include/eunit.hrl").

%% Names that are no atom yet (unique per call).
fresh(N) ->
    U = integer_to_binary(erlang:unique_integer([positive])),
    [<<"atoms", U/binary, "x", (integer_to_binary(I))/binary, "@h">> || I <- lists:seq(1, N)].

existing_names_are_free_test() ->
    Before = drover_agent_atoms:created(),
    ?assertEqual({ok, ['kernel@x', node()]},
                 begin _ = 'kernel@x', drover_agent_atoms:to_atoms([<<"kernel@x">>, atom_to_binary(node())], 0) end),
    ?assertEqual(Before, drover_agent_atoms:created()).

new_names_are_counted_test() ->
    Names = fresh(5),
    Before = drover_agent_atoms:created(),
    {ok, Atoms} = drover_agent_atoms:to_atoms(Names, Before + 5),
    ?assertEqual([binary_to_atom(N) || N <- Names], Atoms),
    ?assertEqual(Before + 5, drover_agent_atoms:created()),
    %% The same names again: they exist now, nothing more is counted.
    ?assertEqual({ok, Atoms}, drover_agent_atoms:to_atoms(Names, Before + 5)),
    ?assertEqual(Before + 5, drover_agent_atoms:created()).

over_the_budget_nothing_is_created_test() ->
    Names = fresh(5),
    Before = drover_agent_atoms:created(),
    ?assertEqual({error, exhausted}, drover_agent_atoms:to_atoms(Names, Before + 4)),
    ?assertEqual(Before, drover_agent_atoms:created()),
    ?assertEqual([error || _ <- Names], [drover_agent_atoms:existing(N) || N <- Names]).

existing_test() ->
    ?assertEqual({ok, node()}, drover_agent_atoms:existing(atom_to_binary(node()))),
    [New] = fresh(1),
    ?assertEqual(error, drover_agent_atoms:existing(New)).
