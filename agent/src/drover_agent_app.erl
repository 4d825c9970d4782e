%% @doc The drover_agent application. It starts an agent itself only when
%% its environment sets `port'; otherwise it starts nothing and the host
%% application embeds an agent with drover_agent:child_spec/1.
-module(drover_agent_app).
-behaviour(application).
-behaviour(supervisor).

-export([start/2, stop/1, init/1]).

start(_Type, _Args) ->
    supervisor:start_link({local, drover_agent_app_sup}, ?MODULE, []).

stop(_State) ->
    ok.

init([]) ->
    Children = case application:get_env(drover_agent, port) of
                   {ok, _} -> [drover_agent:child_spec(#{})];
                   undefined -> []
               end,
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}, Children}}.
