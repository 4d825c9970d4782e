defmodule Hello.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    cfg = Hello.Config.from_env(System.get_env())
    Supervisor.start_link(children(cfg), strategy: :one_for_one, name: Hello.Supervisor)
  end

  defp children(%{mode: mode, agent: agent, dns: dns, handoff: handoff}) do
    # Hello.Handoff starts before the agent, so it is still there when the
    # agent's before_leave hook calls it.
    handoff_child = if handoff, do: [Hello.Handoff], else: []
    agent_child = if mode in [:agent, :both], do: [{:drover_agent, agent}], else: []
    dns_child = if mode in [:dns, :both], do: [{Hello.DNSCluster, dns}], else: []
    handoff_child ++ agent_child ++ dns_child
  end
end
