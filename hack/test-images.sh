#!/usr/bin/env bash
# Builds the repository's images with podman and runs them (make
# test-images, part of make test):
#
#   controller  the Dockerfile at the root (the one users build): --help,
#               the non-root user, then the image against the standalone
#               simulator (bin/ranchersim --runtime go: in-process Go agents)
#               with a mounted config and token, on the host network, until
#               /readyz is ok and the cluster is converged (3 members, then
#               4 after a scale-up); `controller status` from the image; a
#               clean exit on SIGTERM.
#   node        examples/hello/Dockerfile (the release tarball on Debian 12):
#               two containers on a private podman network, told their peers
#               with PUT /v1/peers, form a mesh (Node.list() in each, through
#               `bin/hello rpc`); a SIGTERM makes the other drop the node.
#
#   hack/test-images.sh [controller|node|all]     (default all; needs root)
#
# No registry is reachable in CI, so nothing is pulled: the bases are built
# here (hack/podman-lib.sh): Debian 12 by mmdebstrap from the machine's apt
# sources, and a stand-in for golang:1.26-bookworm from it plus the
# machine's Go toolchain. Everything lives in a private podman store under
# /tmp and is removed on exit, also on failure; podman's network uses
# 10.213.77.0/24, away from the e2e suite's drv0 bridge and 10.42.0.0/16.
# Run it under `flock /tmp/drover-netns.lock` when other runs that create
# network namespaces may run at the same time.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
case $what in
  controller | node | all) ;;
  *) echo "usage: hack/test-images.sh [controller|node|all]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "test-images: SKIPPED: podman with a private store and networks needs root; run: sudo make test-images" >&2
  exit 0
fi
hack/install-deps.sh

# shellcheck source=hack/podman-lib.sh
. hack/podman-lib.sh

started=$SECONDS
work=""
sim_pid=""
cleanup() {
  local rc=$?
  if [ -n "$sim_pid" ]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -n "$PM_DIR" ]; then
    local c
    for c in $(pm ps --all --format '{{.Names}}' 2>/dev/null); do
      echo "--- log of container $c"
      pm logs --tail 40 "$c" 2>&1 || true
    done
    [ -z "$work" ] || { echo "--- simulator log"; tail -n 40 "$work/sim.log" 2>/dev/null || true; }
  fi
  pm_cleanup
  [ -z "$work" ] || rm -rf "$work"
  echo "test-images: $( [ "$rc" -eq 0 ] && echo ok || echo FAILED ) in $((SECONDS - started)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "test-images: FAIL: $*" >&2
  exit 1
}
step() { echo "test-images: [$((SECONDS - started)) s] $*"; }

# wait_for SECONDS WHAT CMD...: runs CMD every 0.2 s until it succeeds.
wait_for() {
  local limit=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "no $what after ${limit} s"
    sleep 0.2
  done
}

# free_port prints a free TCP port on 127.0.0.1 from 19000-19999.
free_port() {
  local p
  for p in $(shuf -i 19000-19999 -n 50); do
    if ! ss -Htln "sport = :$p" | grep -q .; then echo "$p"; return 0; fi
  done
  return 1
}

work=$(mktemp -d /tmp/drover-images.XXXXXX)
pm_setup
step "building the bases: Debian 12 (mmdebstrap), Go $(go env GOVERSION | sed 's/^go//') builder"
pm_debian_base localhost/drover-test/debian:bookworm
if [ "$what" != node ]; then
  pm_go_builder localhost/drover-test/golang:bookworm localhost/drover-test/debian:bookworm
fi

# --- the controller image ---
test_controller() {
  local image=localhost/drover-test/controller:test
  step "building the controller image from ./Dockerfile"
  pm build --quiet --pull=never --network=none \
    --build-arg GO_IMAGE=localhost/drover-test/golang:bookworm -t "$image" . >/dev/null

  pm run --rm "$image" --help >"$work/help.txt" 2>&1 || fail "controller --help exited non-zero: $(cat "$work/help.txt")"
  grep -q -- "--config" "$work/help.txt" || fail "controller --help does not list --config"
  [ "$(pm image inspect --format '{{.Config.User}}' "$image")" = 65532:65532 ] || fail "the image's user is not 65532:65532"
  local size
  size=$(pm image inspect --format '{{.Size}}' "$image")
  step "controller image: --help ok, user 65532:65532, $((size / 1024 / 1024)) MiB"

  step "starting bin/ranchersim --runtime go (3 Go agents on 127.213.0.0/16)"
  go build -o "$work/" ./cmd/ranchersim
  local token=image-test-node-token
  DROVER_NODE_TOKEN=$token "$work/ranchersim" --api 127.0.0.1:0 --metadata "" --dns "" \
    --runtime go --ip-range 127.213.0.0/16 --fixture config/sim/demo.yaml \
    >"$work/sim.out" 2>"$work/sim.log" &
  sim_pid=$!
  wait_for 30 "simulator ready" grep -q "^ranchersim: ready" "$work/sim.out"
  local api
  api=$(awk '$2 == "api" {print $3}' "$work/sim.out")

  # The config and the token as a Rancher deployment mounts them: a file
  # under /run/secrets/, readable by the image's user.
  printf '%s' "$token" >"$work/node-token"
  chmod 0444 "$work/node-token"
  cat >"$work/config.yaml" <<'EOF'
apiVersion: drover.io/v1alpha1
kind: ClusteredServices
metadata:
  name: image-test
spec:
  clusters:
  - name: hello
    stack: demo
    services: [hello]
    admin:
      token:
        fromFile: /run/secrets/drover-node-token
EOF
  local port
  port=$(free_port) || fail "no free port in 19000-19999"
  pm run -d --name drover-controller --network host \
    -v "$work/config.yaml:/etc/drover/config.yaml:ro" \
    -v "$work/node-token:/run/secrets/drover-node-token:ro" \
    -e CATTLE_URL="$api" -e CATTLE_ACCESS_KEY=drover-access -e CATTLE_SECRET_KEY=drover-secret \
    "$image" --config /etc/drover/config.yaml --listen "127.0.0.1:$port" --log-format json >/dev/null
  local ops=http://127.0.0.1:$port
  wait_for 60 "/readyz 200 from the controller in the image" curl -fsS "$ops/readyz"
  step "controller in the image: /readyz ok"
  converged() { curl -fsS "$ops/metrics" | grep -qx "drover_cluster_converged{cluster=\"hello\"} 1" &&
    curl -fsS "$ops/metrics" | grep -qx "drover_cluster_members{cluster=\"hello\"} $1"; }
  wait_for 60 "converged cluster of 3 Go agents" converged 3

  local pid uid
  pid=$(pm inspect --format '{{.State.Pid}}' drover-controller)
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  [ "$uid" = 65532 ] || fail "the controller runs as uid $uid, want 65532"
  step "converged: 3 members; the process runs as uid $uid"

  curl -fsS -u drover-access:drover-secret -H 'Content-Type: application/json' \
    -d '{"stack":"demo","service":"hello","scale":4}' "$api/_sim/scale" >/dev/null
  wait_for 60 "converged cluster of 4 after the scale-up" converged 4
  pm run --rm --network host "$image" status --addr "$ops" >"$work/status.txt" 2>&1 ||
    fail "controller status from the image: $(cat "$work/status.txt")"
  grep -q "Converged=True" "$work/status.txt" || fail "controller status shows no Converged=True: $(cat "$work/status.txt")"
  step "scaled to 4: converged; controller status from the image agrees"

  pm stop --time 20 drover-controller >/dev/null
  local code
  code=$(pm inspect --format '{{.State.ExitCode}}' drover-controller)
  [ "$code" = 0 ] || fail "the controller exited with $code on SIGTERM, want 0"
  pm rm drover-controller >/dev/null
  kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=""
  step "controller image: SIGTERM -> exit 0"
}

# --- the node image ---
# rpc_nodes NAME prints Node.list() of the hello node in container NAME.
rpc_nodes() {
  pm exec "$1" /app/bin/hello rpc 'IO.puts(Enum.join(Enum.sort(Node.list()), ","))'
}
expect_nodes() {
  [ "$(rpc_nodes "$1" 2>/dev/null)" = "$2" ]
}

put_peers() {
  local ip=$1 rev=$2 peers=$3 token=$4 out
  out=$(curl -sS -o /dev/stderr -w '%{http_code}' -X PUT -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' --data "{\"revision\": $rev, \"peers\": [$peers]}" \
    "http://$ip:4001/v1/peers" 2>"$work/put.out") || fail "PUT /v1/peers to $ip: $(cat "$work/put.out")"
  [ "$out" = 200 ] || fail "PUT /v1/peers to $ip: status $out: $(head -c 300 "$work/put.out")"
}

test_node() {
  local image=localhost/drover-test/hello:test net=drover-images-$$ token=image-test-node-token
  local a=10.213.77.11 b=10.213.77.12
  step "building the hello release tarball (mix release) and examples/hello/Dockerfile"
  (cd examples/hello && MIX_ENV=prod mix release --overwrite --quiet >/dev/null)
  pm build --quiet --pull=never --network=none \
    --build-arg RUNTIME_IMAGE=localhost/drover-test/debian:bookworm -t "$image" examples/hello >/dev/null

  pm network create --internal --subnet 10.213.77.0/24 "$net" >/dev/null
  local n ip
  for n in a b; do
    ip=$([ "$n" = a ] && echo "$a" || echo "$b")
    pm run -d --name "hello-$n" --network "$net" --ip "$ip" -e RANCHER_IP="$ip" \
      -e DROVER_NODE_TOKEN="$token" -e RELEASE_COOKIE=image-test-cookie "$image" >/dev/null
  done
  for ip in "$a" "$b"; do
    wait_for 60 "agent health on $ip:4001" curl -fsS "http://$ip:4001/v1/health"
  done
  local pid uid
  pid=$(pm inspect --format '{{.State.Pid}}' hello-a)
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  [ "$uid" = 10001 ] || fail "the hello node runs as uid $uid, want 10001"
  expect_nodes hello-a "" || fail "hello@$a is connected before any peer set: $(rpc_nodes hello-a)"
  step "two hello containers up (agents healthy, uid $uid, no peers yet)"

  put_peers "$a" 1 "\"hello@$b\"" "$token"
  put_peers "$b" 1 "\"hello@$a\"" "$token"
  wait_for 30 "hello@$b in Node.list() of hello@$a" expect_nodes hello-a "hello@$b"
  wait_for 30 "hello@$a in Node.list() of hello@$b" expect_nodes hello-b "hello@$a"
  step "mesh formed: each node lists the other"

  pm stop --time 20 hello-a >/dev/null
  wait_for 30 "hello@$a dropped by hello@$b after its SIGTERM" expect_nodes hello-b ""
  step "SIGTERM to hello@$a: hello@$b dropped it"
  pm rm --force hello-a hello-b >/dev/null
  pm network rm "$net" >/dev/null
}

case $what in
  controller) test_controller ;;
  node) test_node ;;
  all) test_controller; test_node ;;
esac
