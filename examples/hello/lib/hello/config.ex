defmodule Hello.Config do
  @moduledoc """
  Reads the example's settings from the environment, once, at start.

    * `HELLO_MODE`: `agent` (default: the drover agent manages the peers),
      `dns` (the original recipe: poll DNS and connect, the benchmark
      baseline) or `both`.
    * `DROVER_AGENT_PORT` (4001), `DROVER_NODE_TOKEN`, `DROVER_ANNOUNCE_URL`,
      `DROVER_ANNOUNCE_TOKEN`: the agent's settings.
    * `DROVER_AGENT_TLS_CERTFILE`, `DROVER_AGENT_TLS_KEYFILE` (PEM files):
      the agent serves HTTPS; `DROVER_AGENT_TLS_CACERTFILE`: it also
      requires client certificates signed by these CAs;
      `DROVER_ANNOUNCE_CACERTFILE`: the CAs an https announce URL is
      checked against (default: the system's). See docs/agent.md.
    * `HELLO_HANDOFF` (`false`): `true` sets the agent's `before_leave` hook
      to `Hello.Handoff.run/0`, which hands this node's work to a peer before
      it leaves; `HELLO_BEFORE_LEAVE_TIMEOUT_MS` (5000) bounds it.
    * `HELLO_DNS_NAME` (`hello`), `HELLO_DNS_INTERVAL_MS` (5000): the recipe's.
  """

  @doc "The settings from an environment map (pure, for tests)."
  def from_env(env) do
    mode =
      case Map.get(env, "HELLO_MODE", "agent") do
        "dns" -> :dns
        "both" -> :both
        _ -> :agent
      end

    %{
      mode: mode,
      agent: [
        port: env |> Map.get("DROVER_AGENT_PORT", "4001") |> String.to_integer(),
        token: Map.get(env, "DROVER_NODE_TOKEN", ""),
        announce_url: Map.get(env, "DROVER_ANNOUNCE_URL"),
        announce_token: Map.get(env, "DROVER_ANNOUNCE_TOKEN", ""),
        tls_certfile: Map.get(env, "DROVER_AGENT_TLS_CERTFILE"),
        tls_keyfile: Map.get(env, "DROVER_AGENT_TLS_KEYFILE"),
        tls_cacertfile: Map.get(env, "DROVER_AGENT_TLS_CACERTFILE"),
        announce_cacertfile: Map.get(env, "DROVER_ANNOUNCE_CACERTFILE"),
        before_leave: before_leave(Map.get(env, "HELLO_HANDOFF", "false")),
        before_leave_timeout:
          env |> Map.get("HELLO_BEFORE_LEAVE_TIMEOUT_MS", "5000") |> String.to_integer()
      ],
      handoff: Map.get(env, "HELLO_HANDOFF", "false") == "true",
      dns: [
        name: Map.get(env, "HELLO_DNS_NAME", "hello"),
        basename: Map.get(env, "HELLO_NODE_BASENAME", "hello"),
        interval: env |> Map.get("HELLO_DNS_INTERVAL_MS", "5000") |> String.to_integer()
      ]
    }
  end

  defp before_leave("true"), do: {Hello.Handoff, :run, []}
  defp before_leave(_), do: nil
end
