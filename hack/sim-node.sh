#!/usr/bin/env bash
# The command the simulator's ExecRuntime runs for each container: a real
# hello release (examples/hello) in its own network namespace whose IP is
# the container's. Stays in the foreground for the container's lifetime.
#
# Contract (env): CONTAINER_ID, CONTAINER_NAME, CONTAINER_IP, STACK_NAME,
# SERVICE_NAME, CREATE_INDEX, HOST_ID, RANCHER_METADATA_URL, RANCHER_DNS,
# plus the service's environment (DROVER_NODE_TOKEN, DROVER_ANNOUNCE_URL,
# HELLO_MODE, HELLO_CONNECT_ALL, ...), passed on to the release.
#   RANCHER_METADATA_URL and RANCHER_DNS say where this run's simulator
#   serves metadata and DNS (on the bridge, 10.42.0.1:PORT): the namespace
#   gets them at 169.254.169.250:80 and :53 (hack/netns.sh), with Rancher's
#   search list, and the release does not see them: it reads
#   http://rancher-metadata/... and resolves names as on Rancher.
#   SIGTERM (docker stop): forwarded to the VM (the agent announces
#   "stopping", leaves the cluster, the VM stops); then the namespace goes.
#   The VM's exit (container death) ends this script with its status.
#   SIGKILL of the process group leaves the namespace behind:
#   `hack/netns.sh del drv-...` or `hack/netns.sh down` removes it.
# HELLO_RELEASE overrides the release directory (default: the one built by
# `make hello`). SIM_NODE_EXEC (a command line, from the service's
# environment) runs that instead of the release, in the same namespace:
# e.g. a controller, for the standby scenario of test/e2e.
set -o errexit -o nounset -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
ip=${CONTAINER_IP:?CONTAINER_IP is required}
release=${HELLO_RELEASE:-$here/../examples/hello/_build/prod/rel/hello}
exec_cmd=${SIM_NODE_EXEC:-}
[ -n "$exec_cmd" ] || [ -x "$release/bin/hello" ] || { echo "sim-node: no release at $release (run make hello)" >&2; exit 1; }
ns=$("$here/netns.sh" name "$ip")

# target ADDR: HOST:PORT the namespace can reach; a simulator listening on
# every address is reached through the bridge.
target() {
  local addr=${1#http://}
  addr=${addr%%/*}
  case $addr in
    "") return 0 ;;
    0.0.0.0:* | :* | "[::]":*) echo "10.42.0.1:${addr##*:}" ;;
    127.* | localhost:*)
      echo "sim-node: the simulator serves $1 on loopback, which a namespace cannot reach: serve it on 10.42.0.1" >&2
      return 1
      ;;
    *) echo "$addr" ;;
  esac
}
metadata=$(target "${RANCHER_METADATA_URL:-}")
dns=$(target "${RANCHER_DNS:-}")
lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }
stack=$(lower "${STACK_NAME:-}")
service=$(lower "${SERVICE_NAME:-}")
search="rancher.internal"
[ -z "$stack" ] || search="$stack.rancher.internal${service:+ $service.$stack.rancher.internal} rancher.internal"

cleanup() { "$here/netns.sh" del "$ns" >/dev/null 2>&1 || true; }
trap cleanup EXIT
args=(--search "$search")
[ -z "$metadata" ] || args+=(--metadata "$metadata")
[ -z "$dns" ] || args+=(--dns "$dns")
"$here/netns.sh" add "$ns" "$ip" "${args[@]}"

# What a container on Rancher has: none of the simulator's addresses.
unset RANCHER_METADATA_URL RANCHER_DNS RANCHER_IP

if [ -n "$exec_cmd" ]; then
  # Word-split on purpose: a command and its flags.
  # shellcheck disable=SC2086
  ip netns exec "$ns" $exec_cmd &
else
  ip netns exec "$ns" "$release/bin/hello" start &
fi
vm=$!
trap 'kill -TERM "$vm" 2>/dev/null || true' TERM INT

# wait returns early when a trapped signal arrives: wait again until the VM
# is gone, and exit with its status.
rc=0
while :; do
  if wait "$vm"; then rc=0; else rc=$?; fi
  kill -0 "$vm" 2>/dev/null || break
done
exit "$rc"
