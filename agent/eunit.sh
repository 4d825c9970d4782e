#!/usr/bin/env bash
# Builds drover_agent with plain erlc (no rebar3 needed) into _build/eunit
# and runs its eunit tests. Exits non-zero when a test fails.
#   agent/eunit.sh          build + test
#   agent/eunit.sh build    build only (ebin: agent/_build/eunit/ebin)
#   agent/eunit.sh build DIR    build only, into DIR (an absolute path)
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")"

out=_build/eunit/ebin
if [ -n "${2:-}" ]; then
  out=$2
else
  rm -rf "$out"
fi
mkdir -p "$out"
erlc -Wall -Werror +debug_info -o "$out" src/*.erl
cp src/drover_agent.app.src "$out/drover_agent.app"
modules=$(cd "$out" && ls *.beam | sed 's/\.beam$//' | paste -sd, -)
sed -i "s/{registered,/{modules, [$modules]},\n  {registered,/" "$out/drover_agent.app"
[ "${1:-}" = build ] && exit 0

erlc -Wall +debug_info -o "$out" test/*.erl
tests=$(cd test && ls *_tests.erl | sed 's/\.erl$//' | paste -sd, -)
erl -noshell -kernel logger_level warning -pa "$out" -eval "
  case eunit:test([$tests], [verbose]) of
    ok -> halt(0);
    _ -> halt(1)
  end."
