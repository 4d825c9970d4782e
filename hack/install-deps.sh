#!/usr/bin/env bash
# Installs what drover's tests and demo need, when missing: Debian's
# Erlang/OTP and Elixir, iproute2, Chromium (the mesh view's headless
# browser test), podman with runc, netavark and iptables, mmdebstrap (the
# image tests' bases), docker-compose (compose files checked offline),
# prometheus (promtool), and golangci-lint at the version pinned in
# hack/golangci-lint.sh (built from the Go module proxy, no root needed).
# Idempotent; needs root to install packages.
set -o errexit -o nounset -o pipefail

pkgs=(erlang-base erlang-dev erlang-inets erlang-eunit erlang-crypto erlang-ssl
  erlang-public-key erlang-asn1 erlang-syntax-tools erlang-tools erlang-runtime-tools
  erlang-parsetools elixir iproute2 procps psmisc chromium
  podman runc netavark aardvark-dns iptables mmdebstrap docker-compose prometheus curl)

hack_dir=$(dirname "$0")
"$hack_dir/golangci-lint.sh" --install-only

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
