#!/usr/bin/env bash
# End-to-end tests with real BEAM nodes: the Rancher simulator (exec
# runtime: hello releases in network namespaces), the controller binary and
# the agent, driven by test/e2e (build tag e2e). Needs root, Erlang/OTP and
# Elixir (hack/install-deps.sh). Leaves nothing behind: the tests clean up
# after themselves, and the trap below removes the bridge and restores the
# sysctls if this run created the bridge and nobody else uses it. Inside each
# host, rancher-metadata and Rancher DNS answer at 169.254.169.250 (DNAT
# rules in the host's own namespace, gone with it: hack/netns.sh), leading
# to this run's simulator on bridge ports of its own, so a benchmark may
# share the bridge.
#
#   hack/e2e.sh [go test flags...]     e.g. hack/e2e.sh -run Scenarios/scale
# Environment: E2E_LOG_DIR keeps every process's log (default: a temp dir,
# printed at the end); E2E_TIMEOUT (default 25m).
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "e2e: SKIPPED: the end-to-end tests need root (network namespaces); run: sudo make e2e" >&2
  exit 0
fi
hack/install-deps.sh

bridge_before=no
ip link show drv0 >/dev/null 2>&1 && bridge_before=yes
export E2E_LOG_DIR=${E2E_LOG_DIR:-$(mktemp -d /tmp/drover-e2e.XXXXXX)}

cleanup() {
  local rc=$?
  if [ "$bridge_before" = no ] && ip link show drv0 >/dev/null 2>&1; then
    # The tests removed their hosts; any host left belongs to another run
    # (a benchmark) that shares the bridge: then it stays.
    if [ -z "$(hack/netns.sh list)" ]; then
      hack/netns.sh down || true
    else
      echo "e2e: bridge drv0 left up: other namespace hosts use it"
    fi
  fi
  echo "e2e: logs in $E2E_LOG_DIR"
  exit "$rc"
}
trap cleanup EXIT

echo "e2e: running test/e2e (builds the binaries and the hello release, then real BEAM nodes; ~5 min)"
go test -tags e2e -count=1 -timeout "${E2E_TIMEOUT:-25m}" -v "$@" ./test/e2e/
