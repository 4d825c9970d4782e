%% The soak's probe: a hidden node that reads erlang:system_info(process_count)
%% inside the VMs it is asked about (hidden: it never shows in their
%% nodes(), and global ignores it).
%% Commands on stdin, one a line:
%%   probe SEQ NODE...  answers "count SEQ NODE N" or "error SEQ NODE REASON"
%%                      for each node (in parallel, 5 s at most), then
%%                      "done SEQ"
%%   quit
-module(soak_probe).
-export([main/0]).

main() ->
    io:format("probe ready ~s~n", [node()]),
    loop().

loop() ->
    case io:get_line("") of
        eof -> halt(0);
        {error, _} -> halt(0);
        Line ->
            case string:tokens(string:trim(Line), " ") of
                ["quit"] -> halt(0);
                ["probe", Seq | Nodes] -> probe(Seq, Nodes), io:format("done ~s~n", [Seq]);
                _ -> io:format("error bad-command~n")
            end,
            loop()
    end.

probe(Seq, Nodes) ->
    flush(),
    Self = self(),
    Ref = make_ref(),
    [spawn(fun() -> Self ! {Ref, N, count(N)} end) || N <- Nodes],
    collect(Seq, Ref, length(Nodes), erlang:monotonic_time(millisecond) + 5000).

collect(_, _, 0, _) -> ok;
collect(Seq, Ref, Left, Deadline) ->
    Wait = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {Ref, N, {ok, C}} ->
            io:format("count ~s ~s ~b~n", [Seq, N, C]),
            collect(Seq, Ref, Left - 1, Deadline);
        {Ref, N, {error, Why}} ->
            io:format("error ~s ~s ~0p~n", [Seq, N, Why]),
            collect(Seq, Ref, Left - 1, Deadline)
    after Wait -> ok
    end.

%% flush drops the answers that came after an earlier probe gave up.
flush() ->
    receive _ -> flush() after 0 -> ok end.

count(N) ->
    case rpc:call(list_to_atom(N), erlang, system_info, [process_count], 3000) of
        C when is_integer(C) -> {ok, C};
        Other -> {error, Other}
    end.
