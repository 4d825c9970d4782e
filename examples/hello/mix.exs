defmodule Hello.MixProject do
  # A real Elixir app clustered by drover: it includes the drover agent
  # (by path, no Hex packages) and boots as hello@<container IP> the way
  # the original Rancher recipe does (rel/env.sh.eex).
  use Mix.Project

  def project do
    [
      app: :hello,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [{:drover_agent, path: "../../agent"}],
      releases: [
        hello: [
          include_executables_for: [:unix],
          applications: [drover_agent: :permanent, hello: :permanent],
          # The tarball (_build/prod/hello-0.1.0.tar.gz) is what
          # examples/hello/Dockerfile puts into the node image.
          steps: [:assemble, :tar]
        ]
      ]
    ]
  end

  def application do
    [mod: {Hello.Application, []}, extra_applications: [:logger]]
  end
end
