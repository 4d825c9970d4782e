defmodule Hello.ConfigTest do
  use ExUnit.Case, async: true

  test "defaults run the agent on 4001" do
    cfg = Hello.Config.from_env(%{})
    assert cfg.mode == :agent
    assert cfg.agent[:port] == 4001
    assert cfg.dns[:name] == "hello"
    assert cfg.dns[:interval] == 5000
  end

  test "dns mode and agent settings come from the environment" do
    cfg =
      Hello.Config.from_env(%{
        "HELLO_MODE" => "dns",
        "DROVER_AGENT_PORT" => "4100",
        "DROVER_NODE_TOKEN" => "t",
        "DROVER_ANNOUNCE_URL" => "http://10.42.0.1:4002"
      })

    assert cfg.mode == :dns
    assert cfg.agent[:port] == 4100
    assert cfg.agent[:token] == "t"
    assert cfg.agent[:announce_url] == "http://10.42.0.1:4002"
  end

  test "TLS files come from the environment, unset by default" do
    assert Hello.Config.from_env(%{}).agent[:tls_certfile] == nil

    cfg =
      Hello.Config.from_env(%{
        "DROVER_AGENT_TLS_CERTFILE" => "/etc/drover/tls/agent.pem",
        "DROVER_AGENT_TLS_KEYFILE" => "/etc/drover/tls/agent-key.pem",
        "DROVER_AGENT_TLS_CACERTFILE" => "/etc/drover/tls/clients-ca.pem",
        "DROVER_ANNOUNCE_CACERTFILE" => "/etc/drover/tls/controller-ca.pem"
      })

    assert cfg.agent[:tls_certfile] == "/etc/drover/tls/agent.pem"
    assert cfg.agent[:tls_keyfile] == "/etc/drover/tls/agent-key.pem"
    assert cfg.agent[:tls_cacertfile] == "/etc/drover/tls/clients-ca.pem"
    assert cfg.agent[:announce_cacertfile] == "/etc/drover/tls/controller-ca.pem"
  end

  test "HELLO_HANDOFF sets the agent's before_leave hook, off by default" do
    cfg = Hello.Config.from_env(%{})
    assert cfg.agent[:before_leave] == nil
    refute cfg.handoff

    cfg =
      Hello.Config.from_env(%{"HELLO_HANDOFF" => "true", "HELLO_BEFORE_LEAVE_TIMEOUT_MS" => "800"})

    assert cfg.agent[:before_leave] == {Hello.Handoff, :run, []}
    assert cfg.agent[:before_leave_timeout] == 800
    assert cfg.handoff
  end
end
