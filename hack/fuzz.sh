#!/usr/bin/env bash
# Runs every Go native fuzz target of the module for FUZZTIME each
# (default 30s), one after another. FUZZ=regexp picks targets by name.
# A failure leaves its input in the package's testdata/fuzz/<target>/,
# which plain `go test` then runs as a seed: commit it with the fix.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-30s}
only=${FUZZ:-.}
status=0
targets=$(grep -rE --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' pkg cmd internal 2>/dev/null |
  sed -E 's/^(.*)\/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*).*/\1 \2/' | sort -u)
if [ -z "$targets" ]; then
  echo "no fuzz targets found" >&2
  exit 1
fi
while read -r dir name; do
  if ! [[ $name =~ $only ]]; then continue; fi
  echo "== ./$dir $name for $fuzztime"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir"; then
    echo "FAIL: ./$dir $name (see ./$dir/testdata/fuzz/$name/)" >&2
    status=1
  fi
done <<< "$targets"
exit $status
