%% @doc Replaces OTP's default SIGTERM handling (erl_signal_handler, which
%% calls init:stop/0) while the agent runs: on SIGTERM (docker stop) the
%% node announces "stopping", leaves the cluster at once, and only then
%% lets the VM stop. Every other signal keeps its default meaning.
-module(drover_agent_signal).
-behaviour(gen_event).

-include_lib("kernel/include/logger.hrl").

-export([install/0, uninstall/1, stop_sequence/0]).
-export([init/1, handle_event/2, handle_call/2, handle_info/2, terminate/2]).

%% @doc Installs the handler. Returns what uninstall/1 needs.
-spec install() -> swapped | added | none.
install() ->
    case gen_event:swap_handler(erl_signal_server, {erl_signal_handler, []},
                                {?MODULE, []}) of
        ok -> swapped;
        _ ->
            case gen_event:add_handler(erl_signal_server, ?MODULE, []) of
                ok -> added;
                _ -> none
            end
    end.

%% @doc Puts OTP's default handler back.
-spec uninstall(swapped | added | none) -> ok.
uninstall(swapped) ->
    _ = gen_event:swap_handler(erl_signal_server, {?MODULE, []},
                               {erl_signal_handler, []}),
    ok;
uninstall(added) ->
    _ = gen_event:delete_handler(erl_signal_server, ?MODULE, []),
    ok;
uninstall(none) ->
    ok.

%% @doc Run the before_leave hook, announce, leave, then stop the VM. Runs
%% in its own process. The leave must not hold the stop up for long
%% (Docker kills after its stop timeout, 10 s by default): it gets the
%% hook's bound plus 3 s (drover_agent_mesh:stop_timeout/0).
-spec stop_sequence() -> ok.
stop_sequence() ->
    Timeout = try drover_agent_mesh:stop_timeout() catch _:_ -> 3000 end,
    {Pid, Ref} = spawn_monitor(fun() -> drover_agent_mesh:stopping() end),
    receive
        {'DOWN', Ref, process, Pid, _} -> ok
    after Timeout ->
        exit(Pid, kill)
    end,
    init:stop().

init(_) ->
    {ok, #{}}.

handle_event(sigterm, S) ->
    ?LOG_NOTICE(#{what => "drover_agent: SIGTERM received, leaving the cluster and stopping"}),
    _ = spawn(fun stop_sequence/0),
    {ok, S};
handle_event(Signal, S) ->
    %% Keep OTP's meaning of the other signals (SIGUSR1, SIGQUIT, ...).
    {ok, Default} = erl_signal_handler:init([]),
    _ = erl_signal_handler:handle_event(Signal, Default),
    {ok, S}.

handle_call(_, S) ->
    {ok, ok, S}.

handle_info(_, S) ->
    {ok, S}.

terminate(_, _) ->
    ok.
