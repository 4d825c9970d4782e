# shellcheck shell=bash
# A private podman for the image tests, sourced by hack/test-images.sh.
#
# Everything podman keeps lives under one temp directory: images,
# containers, layers (storage driver vfs), networks, events, locks. The
# settings are the ones this kind of machine needs: runc (crun fails on
# hybrid cgroups), cgroupfs, no default ulimits (raising RLIMIT_NPROC is
# refused), netavark networks. pm_cleanup removes every container, network
# and image, the storage, and whatever podman created outside it (its
# run-time directories, netavark's iptables chains, net.ipv4.ip_forward),
# restoring what was there before. Nothing is ever pulled (--pull=never).

PM_DIR=""
pm_state_dirs=(/run/libpod /run/containers /etc/containers/networks /var/lib/containers)
pm_absent=()
pm_forward_before=""
pm_chains_before=""

pm() { podman "$@"; }

# pm_chains lists netavark's iptables chains (filter and nat).
pm_chains() {
  { iptables -S 2>/dev/null; iptables -t nat -S 2>/dev/null; } | awk '$1 == "-N" && $2 ~ /^NETAVARK/ {print $2}' | sort
}

# pm_setup creates the private store and records the state to restore.
pm_setup() {
  local d
  for d in "${pm_state_dirs[@]}"; do
    [ -e "$d" ] || pm_absent+=("$d")
  done
  pm_forward_before=$(sysctl -n net.ipv4.ip_forward)
  pm_chains_before=$(pm_chains)
  PM_DIR=$(mktemp -d /tmp/drover-podman.XXXXXX)
  mkdir -p "$PM_DIR/root" "$PM_DIR/run" "$PM_DIR/tmp" "$PM_DIR/networks"
  cat >"$PM_DIR/containers.conf" <<EOF
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM_DIR/events.log"
tmp_dir = "$PM_DIR/tmp"
volume_path = "$PM_DIR/root/volumes"
[network]
network_backend = "netavark"
network_config_dir = "$PM_DIR/networks"
EOF
  export CONTAINERS_CONF=$PM_DIR/containers.conf CONTAINERS_STORAGE_CONF=$PM_DIR/storage.conf
  # Layers written by builds go to the store's directory, not /var/tmp.
  export TMPDIR=$PM_DIR/tmp
  local driver=${PM_STORAGE_DRIVER:-}
  if [ -z "$driver" ]; then
    driver=vfs
    pm_storage_conf overlay
    if pm_overlay_works; then driver=overlay; fi
    pm system reset --force >/dev/null 2>&1 || true
    mkdir -p "$PM_DIR/root" "$PM_DIR/run" "$PM_DIR/tmp"
  fi
  pm_storage_conf "$driver"
  echo "podman: private store $PM_DIR (storage driver $driver)"
}

pm_storage_conf() {
  cat >"$PM_DIR/storage.conf" <<EOF
[storage]
driver = "$1"
graphroot = "$PM_DIR/root"
runroot = "$PM_DIR/run"
EOF
}

# pm_overlay_works builds a one-file image on overlay storage and mounts a
# container of it.
pm_overlay_works() {
  local ctx=$PM_DIR/probe ok=0
  mkdir -p "$ctx"
  printf 'FROM scratch\nCOPY probe /probe\n' >"$ctx/Containerfile"
  : >"$ctx/probe"
  { pm build --quiet --pull=never --network=none -t localhost/drover-probe "$ctx" &&
    pm create --name drover-probe localhost/drover-probe /probe &&
    pm mount drover-probe && pm umount drover-probe; } >/dev/null 2>&1 || ok=1
  pm rm --force drover-probe >/dev/null 2>&1 || true
  rm -rf "$ctx"
  return $ok
}

# pm_cleanup removes everything pm_setup and podman created. Safe to call
# twice and after a failed pm_setup.
pm_cleanup() {
  [ -n "$PM_DIR" ] || return 0
  set +o errexit
  local ids chain
  pm rm --all --force --time 0 >/dev/null 2>&1 || true
  ids=$(pm network ls --quiet 2>/dev/null | grep -vx podman || true)
  [ -z "$ids" ] || pm network rm --force $ids >/dev/null 2>&1 || true
  pm rmi --all --force >/dev/null 2>&1 || true
  # Build containers (buildah's) and anything left over.
  pm system reset --force >/dev/null 2>&1 || true
  findmnt -rn -o TARGET | grep -F "$PM_DIR" | sort -r | xargs -r umount -l 2>/dev/null || true
  rm -rf "$PM_DIR"
  PM_DIR=""
  if [ "$(sysctl -n net.ipv4.ip_forward)" != "$pm_forward_before" ]; then
    sysctl -q -w "net.ipv4.ip_forward=$pm_forward_before"
  fi
  for chain in $(comm -13 <(echo "$pm_chains_before") <(pm_chains)); do
    pm_drop_chain "$chain"
  done
  local d
  for d in "${pm_absent[@]}"; do
    rm -rf "$d"
  done
}

# pm_drop_chain removes the jumps to an iptables chain, then the chain.
pm_drop_chain() {
  local chain=$1 table rule
  for table in filter nat; do
    iptables -t "$table" -S "$chain" >/dev/null 2>&1 || continue
    { iptables -t "$table" -S | grep -E -- "-j $chain( |$)" || true; } | sed 's/^-A /-D /' | while read -r rule; do
      eval "iptables -t $table $rule" || true
    done
    iptables -t "$table" -F "$chain" || true
  done
  for table in filter nat; do
    iptables -t "$table" -X "$chain" >/dev/null 2>&1 || true
  done
}

# pm_debian_base TAG imports Debian 12 (minbase, plus libssl3 and the CA
# certificates) built by mmdebstrap from the machine's own apt sources.
pm_debian_base() {
  local tag=$1 mirror=()
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    mirror=(/etc/apt/sources.list.d/debian.sources)
  elif [ -s /etc/apt/sources.list ]; then
    mirror=(/etc/apt/sources.list)
  fi
  mmdebstrap --quiet --variant=minbase --include=libssl3,ca-certificates \
    bookworm "$PM_DIR/debian.tar" "${mirror[@]}"
  pm import --quiet --change 'CMD ["/bin/bash"]' "$PM_DIR/debian.tar" "$tag" >/dev/null
  rm -f "$PM_DIR/debian.tar"
}

# pm_go_builder TAG BASE builds a stand-in for golang:1.26-bookworm: BASE
# plus this machine's Go toolchain (GOROOT without its own tests) and a
# module cache with every module of go.mod, copied from the machine's
# cache (the module proxy only for what it lacks). GOPROXY=off inside.
pm_go_builder() {
  local tag=$1 base=$2 ctx goroot e
  ctx=$PM_DIR/go-builder
  goroot=$(go env GOROOT)
  mkdir -p "$ctx/go"
  for e in "$goroot"/*; do
    [ "$(basename "$e")" = test ] && continue
    cp -al "$e" "$ctx/go/" 2>/dev/null || cp -a "$e" "$ctx/go/"
  done
  GOFLAGS=-modcacherw GOMODCACHE=$ctx/mod \
    GOPROXY="file://$(go env GOMODCACHE)/cache/download,$(go env GOPROXY)" go mod download
  cat >"$ctx/Containerfile" <<EOF
FROM $base
COPY go /usr/local/go
COPY mod /go/pkg/mod
ENV GOPATH=/go GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-buildvcs=false \
    PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /go
EOF
  pm build --quiet --pull=never --network=none -t "$tag" "$ctx" >/dev/null
  rm -rf "$ctx"
}
