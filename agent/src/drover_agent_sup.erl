%% @doc The supervisor of one agent: the mesh server first, then the HTTP
%% listener. rest_for_one: a new mesh server gets a new listener too.
-module(drover_agent_sup).
-behaviour(supervisor).

-include_lib("kernel/include/logger.hrl").

-export([start_link/1, init/1]).

start_link(Opts) ->
    supervisor:start_link(?MODULE, Opts).

init(#{token := Token} = Opts) ->
    case Token of
        <<>> -> ?LOG_WARNING(#{what => "drover_agent: no token configured, every authenticated call is refused"});
        _ -> ok
    end,
    Children = [#{id => mesh, start => {drover_agent_mesh, start_link, [Opts]}},
                #{id => http, start => {drover_agent_http, start_link, [Opts]}}],
    {ok, {#{strategy => rest_for_one, intensity => 5, period => 10}, Children}}.
