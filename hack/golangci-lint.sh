#!/usr/bin/env bash
# Runs golangci-lint at the version pinned here (v2, built from the Go module
# proxy into bin/tools/ on first use; about a minute once, then cached), with
# the repository's .golangci.yml. Arguments go to golangci-lint:
#
#   hack/golangci-lint.sh run ./...
#   hack/golangci-lint.sh --install-only     (what hack/install-deps.sh does)
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

version=v2.15.0
dir=$PWD/bin/tools
bin=$dir/golangci-lint-$version

if [ ! -x "$bin" ]; then
  echo "golangci-lint: building $version into $dir (once)" >&2
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # GOFLAGS from the caller (e.g. -mod=vendor) must not apply to the tool.
  GOFLAGS= GOBIN=$tmp go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version"
  mv "$tmp/golangci-lint" "$bin"
fi
if [ "${1:-}" = --install-only ]; then
  exit 0
fi
exec "$bin" "$@"
