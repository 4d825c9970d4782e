#!/usr/bin/env bash
# Checks what every commit must keep clean: gofmt, go vet, go mod tidy,
# golangci-lint (.golangci.yml; the version pinned in hack/golangci-lint.sh).
# Works on a temporary copy of go.mod/go.sum and diffs, so it changes nothing.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

fail=0
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; fail=1
fi

go vet ./... || fail=1
if [ -n "$(find test -name "*.go" 2>/dev/null)" ]; then go vet -tags e2e ./test/... || fail=1; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp go.mod go.sum "$tmp/"
go mod tidy
if ! diff -u "$tmp/go.mod" go.mod || ! diff -u "$tmp/go.sum" go.sum; then
  echo "go mod tidy changes go.mod/go.sum: run it and commit the result"
  cp "$tmp/go.mod" "$tmp/go.sum" .
  fail=1
fi

if grep -rn --include='*.go' -E '^func init\(\)' . ; then
  echo "init() functions are not allowed"; fail=1
fi

hack/golangci-lint.sh run ./... || fail=1

exit $fail
