defmodule DroverAgent.MixProject do
  # Lets Elixir projects use the agent as a path or git dependency:
  #   {:drover_agent, path: "../agent"}
  # and start it with the child spec {:drover_agent, port: 4001, token: "..."}.
  # The Erlang sources in src/ are the whole application; no Hex packages.
  # TLS (the tls_* options) needs OTP's ssl application in the release:
  # it is started only when TLS is configured.
  use Mix.Project

  def project do
    [
      app: :drover_agent,
      version: "0.1.0",
      language: :erlang,
      erlc_paths: ["src"],
      erlc_options: [:debug_info, :warnings_as_errors],
      deps: []
    ]
  end

  def application do
    [
      mod: {:drover_agent_app, []},
      registered: [:drover_agent_app_sup, :drover_agent_mesh, :drover_agent_http],
      extra_applications: [:kernel, :stdlib, :crypto]
    ]
  end
end
