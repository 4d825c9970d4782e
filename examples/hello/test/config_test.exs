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
end
