# The drover agent in your application's supervision tree (Elixir).
#
# mix.exs:   deps: [{:drover_agent, path: "../drover/agent"}]   (or a git dependency)
#            releases: [my_app: [applications: [drover_agent: :permanent, my_app: :permanent]]]
#
# lib/my_app/application.ex:
defmodule MyApp.Application do
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      # Start the agent first: the node announces "up" once it listens, and
      # Rancher's health check (GET /v1/health on this port) turns the
      # container healthy, which makes it a member of the mesh.
      {:drover_agent,
       port: String.to_integer(System.get_env("DROVER_AGENT_PORT", "4001")),
       # The controller's admin token: a Rancher secret file, or token_env.
       token_file: "/run/secrets/drover-node-token",
       # The controller's announce endpoint (spec.controller.announce), e.g.
       # http://drover.drover:4100; without it the node waits for Rancher's
       # events (about 0.5-1 s slower to join).
       announce_url: System.get_env("DROVER_ANNOUNCE_URL"),
       announce_token: secret("/run/secrets/drover-announce-token", "DROVER_ANNOUNCE_TOKEN")}
      # , ...your own children
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: MyApp.Supervisor)
  end

  # A token from a secret file, else from an environment variable, else "".
  defp secret(path, env) do
    case File.read(path) do
      {:ok, s} -> String.trim(s)
      {:error, _} -> System.get_env(env, "")
    end
  end
end

# Erlang (rebar3 release), in your top supervisor's child list:
#   drover_agent:child_spec(#{port => 4001,
#                             token_file => "/run/secrets/drover-node-token",
#                             announce_url => os:getenv("DROVER_ANNOUNCE_URL")})
# or sys.config:
#   {drover_agent, [{port, 4001}, {token_file, "/run/secrets/drover-node-token"}]}
