#!/usr/bin/env bash
# Network-namespace "hosts" for drover's end-to-end tests: each namespace has
# its own IP in 10.42.0.0/16 (as Rancher's overlay gives each container),
# joined by the bridge drv0 (10.42.0.1). Idempotent; needs root.
#
#   netns.sh up                 bridge drv0 + raised ARP table limits
#   netns.sh add NAME IP [--metadata HOST:PORT] [--dns HOST:PORT] [--search "DOMAIN..."]
#                               namespace NAME with IP/16 (runs `up` first)
#   netns.sh name IP            prints the canonical namespace name for IP
#   netns.sh del NAME           kills every process in NAME, deletes it
#   netns.sh isolate IP on|off  silent cut: host-side veth down (on) or up
#   netns.sh exec NAME CMD...   runs CMD inside NAME (ip netns exec)
#   netns.sh list               namespaces with their IPs
#   netns.sh down               deletes every drv-* namespace and the bridge,
#                               restores the sysctls
#
# Rancher's network services, as a container sees them: rancher-metadata at
# 169.254.169.250:80 and Rancher DNS at 169.254.169.250:53. Inside the
# namespace, iptables DNAT rules (nat OUTPUT, the namespace's own netfilter:
# they vanish with it, and nothing is ever added to the root namespace)
# send those to --metadata and --dns, the simulator of the run that owns the
# host (e.g. 10.42.0.1 on a port of its own), so that several runs can
# share the bridge, each with its own simulator. /etc/netns/NAME/resolv.conf
# (bind-mounted over /etc/resolv.conf by `ip netns exec`) names
# 169.254.169.250 with Rancher's search list (--search, e.g. "demo.rancher.internal
# hello.demo.rancher.internal rancher.internal"), so rancher-metadata resolves
# through DNS as on Rancher; without --dns, /etc/netns/NAME/hosts maps
# rancher-metadata[.rancher.internal] to 169.254.169.250 instead.
set -o errexit -o nounset -o pipefail

BRIDGE=drv0
GATEWAY=10.42.0.1
# Where Rancher serves metadata (80) and DNS (53) in every container.
SERVICES_IP=169.254.169.250
PREFIX=16
STATE=/run/drover-netns
SYSCTLS=(net.ipv4.neigh.default.gc_thresh1 net.ipv4.neigh.default.gc_thresh2
  net.ipv4.neigh.default.gc_thresh3)
# Enough neighbour entries for a full mesh of a few thousand hosts.
SYSCTL_VALUES=(8192 32768 65536)

die() { echo "netns.sh: $*" >&2; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root"; }

# check_ip IP: IP must be a host address in 10.42.0.0/16 other than the gateway.
check_ip() {
  local ip=$1
  [[ $ip =~ ^10\.42\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || die "IP $ip is not in 10.42.0.0/16"
  local c=${BASH_REMATCH[1]} d=${BASH_REMATCH[2]}
  ((c <= 255 && d <= 255)) || die "IP $ip is not a valid address"
  [ "$ip" != "$GATEWAY" ] || die "IP $ip is the bridge's address"
}

# ns_name IP: drv-C-D from the last two octets, unique inside 10.42.0.0/16.
ns_name() { local IFS=.; set -- $1; echo "drv-$3-$4"; }

# veth_host IP: host-side veth name (at most 15 characters).
veth_host() { local IFS=.; set -- $1; echo "dh-$3-$4"; }

cmd_up() {
  need_root
  mkdir -p "$STATE"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  if ! ip -4 addr show dev "$BRIDGE" | grep -q "inet $GATEWAY/$PREFIX"; then
    ip addr add "$GATEWAY/$PREFIX" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  if [ ! -f "$STATE/sysctl.saved" ]; then
    local tmp="$STATE/sysctl.saved.tmp" i
    : >"$tmp"
    for i in "${!SYSCTLS[@]}"; do
      echo "${SYSCTLS[$i]}=$(sysctl -n "${SYSCTLS[$i]}")" >>"$tmp"
    done
    mv "$tmp" "$STATE/sysctl.saved"
    # thresh3 first: the kernel wants thresh1 <= thresh2 <= thresh3.
    for i in 2 1 0; do
      sysctl -q -w "${SYSCTLS[$i]}=${SYSCTL_VALUES[$i]}"
    done
  fi
}

# check_target WHAT HOST:PORT: an address in 10.42.0.0/16 (reachable from a
# namespace host) with a port.
check_target() {
  local what=$1 target=$2
  [[ $target =~ ^10\.42\.([0-9]{1,3})\.([0-9]{1,3}):([0-9]{1,5})$ ]] ||
    die "$what $target is not HOST:PORT with HOST in 10.42.0.0/16 (the simulator must listen on the bridge, e.g. $GATEWAY:PORT)"
  ((BASH_REMATCH[1] <= 255 && BASH_REMATCH[2] <= 255 && BASH_REMATCH[3] >= 1 && BASH_REMATCH[3] <= 65535)) ||
    die "$what $target is not a valid address"
}

# check_search DOMAINS: space-separated DNS names.
check_search() {
  [[ $1 =~ ^[A-Za-z0-9.-]+( [A-Za-z0-9.-]+){0,5}$ ]] && [ ${#1} -le 256 ] ||
    die "search list \"$1\" is not up to 6 space-separated domain names"
}

# nat NAME ARGS...: iptables on the nat table of namespace NAME.
nat() {
  local name=$1
  shift
  ip netns exec "$name" iptables -w 5 -t nat "$@"
}

# services NAME METADATA DNS SEARCH: resolv.conf, hosts and the DNAT rules
# of Rancher's network services inside the namespace (replacing earlier ones).
services() {
  local name=$1 metadata=$2 dns=$3 search=$4
  {
    [ -z "$search" ] || echo "search $search"
    # Without a DNS server behind $SERVICES_IP, a lookup there would wait
    # for its timeout (5 s, twice: every VM boot and rpc resolves the
    # machine's name); the namespace's own loopback refuses at once.
    if [ -n "$dns" ]; then echo "nameserver $SERVICES_IP"; else echo "nameserver 127.0.0.1"; fi
  } >"/etc/netns/$name/resolv.conf"
  {
    echo "127.0.0.1 localhost"
    # No DNS to ask: the names rancher-metadata resolves to on Rancher.
    [ -n "$dns" ] || echo "$SERVICES_IP rancher-metadata rancher-metadata.rancher.internal"
  } >"/etc/netns/$name/hosts"
  [ -n "$metadata$dns" ] || return 0
  command -v iptables >/dev/null ||
    die "iptables is missing (redirects $SERVICES_IP inside the namespace): run hack/install-deps.sh or apt-get install iptables"
  nat "$name" -F OUTPUT
  if [ -n "$metadata" ]; then
    nat "$name" -A OUTPUT -d "$SERVICES_IP/32" -p tcp --dport 80 -j DNAT --to-destination "$metadata"
  fi
  if [ -n "$dns" ]; then
    nat "$name" -A OUTPUT -d "$SERVICES_IP/32" -p udp --dport 53 -j DNAT --to-destination "$dns"
    nat "$name" -A OUTPUT -d "$SERVICES_IP/32" -p tcp --dport 53 -j DNAT --to-destination "$dns"
  fi
}

cmd_add() {
  local name=$1 ip=$2 metadata="" dns="" search=""
  shift 2
  while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "add: $1 needs a value"
    case $1 in
      --metadata) check_target "--metadata" "$2"; metadata=$2 ;;
      --dns) check_target "--dns" "$2"; dns=$2 ;;
      --search) check_search "$2"; search=$2 ;;
      *) die "add: unknown option $1 (--metadata HOST:PORT, --dns HOST:PORT, --search \"DOMAIN...\")" ;;
    esac
    shift 2
  done
  check_ip "$ip"
  [[ $name =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || die "bad namespace name $name"
  cmd_up
  local host ns_if
  host=$(veth_host "$ip")
  ns_if="dn-${host#dh-}"
  if ip netns list | awk '{print $1}' | grep -qx "$name"; then
    if ip netns exec "$name" ip -4 addr show | grep -q "inet $ip/$PREFIX"; then
      services "$name" "$metadata" "$dns" "$search" # already set up with this IP
      return 0
    fi
    die "namespace $name exists with another IP"
  fi
  ip link del "$host" >/dev/null 2>&1 || true
  ip netns add "$name"
  # A half-made host is removed again if any step below fails.
  # shellcheck disable=SC2064
  trap "cmd_del '$name' >/dev/null 2>&1 || true" EXIT
  echo "$ip" >"$STATE/$name.ip"
  mkdir -p "/etc/netns/$name"
  ip link add "$host" type veth peer name "$ns_if"
  ip link set "$ns_if" netns "$name"
  ip link set "$host" master "$BRIDGE" up
  ip netns exec "$name" ip link set lo up
  ip netns exec "$name" ip link set "$ns_if" name eth0
  ip netns exec "$name" ip addr add "$ip/$PREFIX" dev eth0
  ip netns exec "$name" ip link set eth0 up
  ip netns exec "$name" ip route add default via "$GATEWAY"
  services "$name" "$metadata" "$dns" "$search"
  trap - EXIT
}

# kill_all NAME: SIGKILL every process of the namespace, by PID, until none is left.
kill_all() {
  local name=$1 pids tries=0
  while :; do
    pids=$(ip netns pids "$name" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    tries=$((tries + 1))
    ((tries < 100)) || die "processes of $name survive: $pids"
    sleep 0.05
  done
}

cmd_del() {
  need_root
  local name=$1 ip=""
  [ -f "$STATE/$name.ip" ] && ip=$(cat "$STATE/$name.ip")
  if ip netns list | awk '{print $1}' | grep -qx "$name"; then
    kill_all "$name"
    ip netns del "$name"
  fi
  if [ -n "$ip" ]; then
    ip link del "$(veth_host "$ip")" >/dev/null 2>&1 || true
  fi
  rm -rf "/etc/netns/$name" "$STATE/$name.ip"
}

cmd_isolate() {
  need_root
  local ip=$1 mode=$2 host
  check_ip "$ip"
  host=$(veth_host "$ip")
  case $mode in
    on) ip link set "$host" down ;;
    off) ip link set "$host" up ;;
    *) die "isolate IP on|off" ;;
  esac
}

cmd_list() {
  local name
  for name in $(ip netns list | awk '{print $1}' | grep '^drv-' || true); do
    echo "$name $(cat "$STATE/$name.ip" 2>/dev/null || echo '?')"
  done
}

cmd_down() {
  need_root
  local name line
  for name in $(ip netns list | awk '{print $1}' | grep '^drv-' || true); do
    cmd_del "$name"
  done
  # Host-side veths whose namespace vanished some other way.
  for name in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^dh-' || true); do
    ip link del "$name" >/dev/null 2>&1 || true
  done
  ip link del "$BRIDGE" >/dev/null 2>&1 || true
  if [ -f "$STATE/sysctl.saved" ]; then
    # Restore in the saved order (thresh1 first) after lowering is safe:
    # the saved values are ordered already.
    while IFS= read -r line; do
      sysctl -q -w "$line" || true
    done <"$STATE/sysctl.saved"
    rm -f "$STATE/sysctl.saved"
  fi
  rm -f "$STATE"/*.ip
}

main() {
  [ $# -ge 1 ] || die "usage: netns.sh up|add NAME IP [--metadata HOST:PORT] [--dns HOST:PORT] [--search DOMAINS]|name IP|del NAME|isolate IP on|off|exec NAME CMD...|list|down"
  local cmd=$1
  shift
  case $cmd in
    up) cmd_up ;;
    add) [ $# -ge 2 ] || die "usage: add NAME IP [--metadata HOST:PORT] [--dns HOST:PORT] [--search DOMAINS]"; need_root; cmd_add "$@" ;;
    name) [ $# -eq 1 ] || die "usage: name IP"; check_ip "$1"; ns_name "$1" ;;
    del) [ $# -eq 1 ] || die "usage: del NAME"; cmd_del "$1" ;;
    isolate) [ $# -eq 2 ] || die "usage: isolate IP on|off"; cmd_isolate "$1" "$2" ;;
    exec) [ $# -ge 2 ] || die "usage: exec NAME CMD..."; local n=$1; shift; exec ip netns exec "$n" "$@" ;;
    list) cmd_list ;;
    down) cmd_down ;;
    *) die "unknown command $cmd" ;;
  esac
}

main "$@"
