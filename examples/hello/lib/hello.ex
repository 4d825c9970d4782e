defmodule Hello do
  @moduledoc """
  The example application's helpers, handy from `bin/hello rpc`.
  """

  @doc "The visible connected nodes, sorted, one line separated by spaces."
  def nodes_line do
    Node.list() |> Enum.map(&Atom.to_string/1) |> Enum.sort() |> Enum.join(" ")
  end

  @doc "Prints nodes_line/0 (for `bin/hello rpc \"Hello.print_nodes()\"`)."
  def print_nodes, do: IO.puts(nodes_line())
end
