defmodule Hello.Handoff do
  @moduledoc """
  The example's use of the agent's `before_leave` hook (docs/agent.md).

  Every node runs one `Hello.Handoff` process holding this node's share of
  work (here: a counter of jobs). When the node is about to leave (SIGTERM,
  or the controller's leave), the agent calls `run/0` while the node is
  still meshed: it hands the share to a peer (the first by name), which adds
  it to its own and keeps a record of the hand-off. Each process also
  watches `nodedown` events (`:net_kernel.monitor_nodes/1`), so a record
  says when the peer saw the leaver go: `report/0` prints both instants
  (the e2e test checks that the hand-off came first).

  Enabled with `HELLO_HANDOFF=true` (`Hello.Config`):

      {:drover_agent, port: 4001, before_leave: {Hello.Handoff, :run, []},
       before_leave_timeout: 5000}
  """
  use GenServer
  require Logger

  # The hand-off must finish within the agent's before_leave_timeout.
  @call_timeout 2000

  def start_link(_opts), do: GenServer.start_link(__MODULE__, [], name: __MODULE__)

  @doc "The before_leave hook: hands this node's work to a peer."
  def run do
    at = System.os_time(:microsecond)
    jobs = GenServer.call(__MODULE__, :take_all)

    case Node.list() |> Enum.sort() do
      [] ->
        Logger.warning("hello: leaving with no peer to hand off to", jobs: jobs)

      [peer | _] ->
        :ok = GenServer.call({__MODULE__, peer}, {:hand_off, node(), jobs, at}, @call_timeout)
        Logger.info("hello: handed off", peer: peer, jobs: jobs, at_us: at)
    end
  end

  @doc "The hand-offs received: `[%{from, jobs, handed_at, down_at}]` (instants in µs)."
  def received, do: GenServer.call(__MODULE__, :received)

  @doc "Prints one line per hand-off received: `FROM JOBS HANDED_AT_US DOWN_AT_US` (0: no nodedown yet)."
  def report do
    for r <- received(), do: IO.puts("#{r.from} #{r.jobs} #{r.handed_at} #{r.down_at || 0}")
    :ok
  end

  @impl true
  def init(_) do
    :ok = :net_kernel.monitor_nodes(true)
    {:ok, %{jobs: 1, received: %{}}}
  end

  @impl true
  def handle_call(:take_all, _from, s), do: {:reply, s.jobs, %{s | jobs: 0}}

  def handle_call({:hand_off, from, jobs, at}, _from, s) do
    rec = %{from: from, jobs: jobs, handed_at: at, down_at: nil}
    {:reply, :ok, %{s | jobs: s.jobs + jobs, received: Map.put(s.received, from, rec)}}
  end

  def handle_call(:received, _from, s), do: {:reply, Map.values(s.received), s}

  @impl true
  def handle_info({:nodedown, node}, s) do
    case s.received do
      %{^node => %{down_at: nil} = rec} ->
        rec = %{rec | down_at: System.os_time(:microsecond)}
        {:noreply, %{s | received: Map.put(s.received, node, rec)}}

      _ ->
        {:noreply, s}
    end
  end

  def handle_info({:nodeup, _}, s), do: {:noreply, s}
end
