#!/bin/bash
# Entrypoint of the hello node image (examples/hello/Dockerfile), as in the
# original Rancher recipe: the node is named hello@<the container's primary
# IP>, read from rancher-metadata, then the release starts.
#
#   RANCHER_IP            the IP to name the node after; skips the metadata
#                         lookup (for a container without Rancher, e.g. the
#                         image test: podman run -e RANCHER_IP=10.213.77.11)
#   HELLO_NODE_BASENAME   the part before the @ (default hello; drover's
#                         default nodeName is {{service}}@{{primaryIP}})
#   RANCHER_METADATA_URL  default http://rancher-metadata (Rancher 1.6
#                         resolves it to 169.254.169.250 in every container)
#   Secrets, when mounted (Rancher 1.6 secrets land in /run/secrets/):
#   drover-node-token -> DROVER_NODE_TOKEN, drover-announce-token ->
#   DROVER_ANNOUNCE_TOKEN, erlang-cookie -> RELEASE_COOKIE; a variable that
#   is already set wins.
#
# Arguments go to the release script (default: start); `bin/hello rpc ...`
# with podman/docker exec needs RANCHER_IP in the container's environment
# or rancher-metadata, as the release's env.sh reads it again.
set -o errexit -o nounset -o pipefail

secret() {
  local var=$1 file=/run/secrets/$2
  if [ -z "${!var:-}" ] && [ -r "$file" ]; then
    export "$var=$(tr -d '\r\n' <"$file")"
  fi
}
secret DROVER_NODE_TOKEN drover-node-token
secret DROVER_ANNOUNCE_TOKEN drover-announce-token
secret RELEASE_COOKIE erlang-cookie

# metadata_ip prints the primary IP that rancher-metadata answers, with a
# plain HTTP/1.0 GET over bash's /dev/tcp (the image has no curl).
metadata_ip() {
  local base=${RANCHER_METADATA_URL:-http://rancher-metadata}
  local hostport=${base#http://} host port reply
  hostport=${hostport%%/*}
  host=${hostport%%:*}
  port=80
  [ "$hostport" = "$host" ] || port=${hostport#*:}
  reply=$(timeout 2 bash -c '
    exec 3<>"/dev/tcp/$1/$2"
    printf "GET /latest/self/container/primary_ip HTTP/1.0\r\nHost: %s\r\nAccept: text/plain\r\n\r\n" "$1" >&3
    cat <&3' _ "$host" "$port" 2>/dev/null) || return 1
  case $reply in
    "HTTP/1."?" 200"*) ;;
    *) return 1 ;;
  esac
  printf '%s' "${reply#*$'\r\n\r\n'}" | tr -d ' \r\n'
}

if [ -z "${RANCHER_IP:-}" ]; then
  for _ in $(seq 1 20); do
    RANCHER_IP=$(metadata_ip) && [ -n "$RANCHER_IP" ] && break
    RANCHER_IP=""
    sleep 0.25
  done
  if [ -z "$RANCHER_IP" ]; then
    echo "hello: could not read the container's primary IP from ${RANCHER_METADATA_URL:-http://rancher-metadata}/latest/self/container/primary_ip; outside Rancher, set RANCHER_IP" >&2
    exit 1
  fi
fi
if ! [[ $RANCHER_IP =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
  echo "hello: RANCHER_IP \"${RANCHER_IP:0:64}\" is not an IPv4 address" >&2
  exit 1
fi
export RANCHER_IP
echo "hello: starting as ${HELLO_NODE_BASENAME:-hello}@$RANCHER_IP" >&2
exec /app/bin/hello "${@:-start}"
