%% The benchmark's observer: a hidden node that watches nodes() inside
%% every VM it is told about. For each watched node it loads this module
%% there and spawns watcher/2, which reports (with the VM's own wall clock,
%% os:system_time in microseconds):
%%   init NODE T PEERS   when the watcher starts (PEERS: nodes() then)
%%   ready NODE T        when the hello application is running
%%   up NODE PEER T      nodeup of a visible PEER
%%   down NODE PEER T    nodedown of a visible PEER
%% Commands on stdin, one a line: "watch NODE COOKIE", "quit".
%% Output goes to stdout, one event a line. Event timestamps come from
%% net_kernel:monitor_nodes/2, so they are the instant nodes() changes,
%% without polling.
-module(bench_observer).
-export([main/0, watcher/2]).

main() ->
    Self = self(),
    spawn_link(fun() -> read_stdin(Self) end),
    io:format("observer ready ~s~n", [node()]),
    loop(#{}).

read_stdin(Parent) ->
    case io:get_line("") of
        eof -> Parent ! quit;
        {error, _} -> Parent ! quit;
        Line -> Parent ! {cmd, string:tokens(string:trim(Line), " ")}, read_stdin(Parent)
    end.

loop(W) ->
    receive
        quit -> halt(0);
        {cmd, ["quit"]} -> halt(0);
        {cmd, ["watch", N, Cookie]} ->
            Node = list_to_atom(N),
            erlang:set_cookie(Node, list_to_atom(Cookie)),
            Self = self(),
            Pid = spawn(fun() -> attach(Self, Node) end),
            loop(W#{Node => Pid});
        {cmd, Other} ->
            io:format("error bad-command ~p~n", [Other]), loop(W);
        {event, Line} ->
            io:put_chars([Line, $\n]), loop(W);
        _ -> loop(W)
    end.

%% attach tries to connect (every 5 ms, for up to 60 s), loads this module
%% in the VM and starts the watcher there.
attach(Obs, Node) -> attach(Obs, Node, 12000).
attach(Obs, Node, 0) ->
    Obs ! {event, io_lib:format("fail ~s connect", [Node])};
attach(Obs, Node, N) ->
    case registered(Node) andalso net_kernel:connect_node(Node) of
        true ->
            {Mod, Bin, File} = code:get_object_code(?MODULE),
            case rpc:call(Node, code, load_binary, [Mod, File, Bin], 5000) of
                {module, _} ->
                    _ = spawn(Node, ?MODULE, watcher, [Obs, node()]),
                    ok;
                Err ->
                    Obs ! {event, io_lib:format("fail ~s load ~p", [Node, Err])}
            end;
        _ ->
            timer:sleep(5),
            attach(Obs, Node, N - 1)
    end.

%% registered is a quick check (50 ms at most) that the node's name is in
%% its host's epmd, so that connect_node is not tried against a host that
%% is still being created (it would block for seconds).
registered(Node) ->
    [Name, Host] = string:split(atom_to_list(Node), "@"),
    {ok, IP} = inet:parse_address(Host),
    case gen_tcp:connect(IP, 4369, [binary, {active, false}], 50) of
        {ok, S} ->
            gen_tcp:close(S),
            case net_adm:names(IP) of
                {ok, Names} -> lists:keymember(Name, 1, Names);
                _ -> false
            end;
        _ -> false
    end.

now_us() -> os:system_time(microsecond).

%% watcher runs inside a watched VM.
watcher(Obs, ObsNode) ->
    ok = net_kernel:monitor_nodes(true, [{node_type, visible}]),
    erlang:monitor(process, Obs),
    Peers = [atom_to_list(P) || P <- nodes()],
    send(Obs, io_lib:format("init ~s ~b ~s", [node(), now_us(), string:join(Peers, ",")])),
    _ = ObsNode,
    Ready = is_ready(),
    Ready andalso send(Obs, io_lib:format("ready ~s ~b", [node(), now_us()])),
    watch(Obs, Ready).

is_ready() ->
    case catch application:which_applications(100) of
        Apps when is_list(Apps) -> lists:keymember(hello, 1, Apps);
        _ -> false
    end.

watch(Obs, Ready) ->
    Timeout = case Ready of true -> infinity; false -> 2 end,
    receive
        {nodeup, P, _} ->
            send(Obs, io_lib:format("up ~s ~s ~b", [node(), P, now_us()])),
            watch(Obs, Ready);
        {nodedown, P, _} ->
            send(Obs, io_lib:format("down ~s ~s ~b", [node(), P, now_us()])),
            watch(Obs, Ready);
        {'DOWN', _, process, Obs, _} ->
            ok
    after Timeout ->
        case is_ready() of
            true ->
                send(Obs, io_lib:format("ready ~s ~b", [node(), now_us()])),
                watch(Obs, true);
            false ->
                watch(Obs, false)
        end
    end.

send(Obs, Line) -> Obs ! {event, lists:flatten(Line)}.
