defmodule Hello.DNSCluster do
  @moduledoc """
  The original recipe, kept as the benchmark baseline: every `interval` ms,
  resolve the service's DNS name and `Node.connect/1` to `basename@IP` for
  every address that is not connected yet, one after another. It never
  disconnects anyone (a removed node stays until the TCP link dies).
  """
  use GenServer
  require Logger

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts) do
    send(self(), :poll)
    {:ok, Map.new(opts)}
  end

  @impl true
  def handle_info(:poll, s) do
    for node <- wanted(s), node != node(), node not in Node.list() do
      Node.connect(node)
    end

    Process.send_after(self(), :poll, s.interval)
    {:noreply, s}
  end

  defp wanted(s) do
    s.name
    |> String.to_charlist()
    |> :inet_res.lookup(:in, :a)
    |> Enum.map(fn ip -> :"#{s.basename}@#{:inet.ntoa(ip)}" end)
  end
end
