#!/usr/bin/env bash
# Checks the deployment artifacts with the tools that read them (make
# check-artifacts, part of make test; no root, no daemon):
#   - docker-compose config: both compose files parse and validate
#     (Debian's docker-compose, offline);
#   - controller validate: the config the image bakes in;
#   - promtool check rules and promtool test rules: the alerting rules and
#     their unit tests;
#   - go test ./test/artifacts: rancher-compose.yml keys against what
#     Rancher 1.6 reads, the secrets' owners, and that the rules and the
#     Grafana dashboard use only exported metrics.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

for tool in docker-compose promtool; do
  command -v "$tool" >/dev/null || { echo "check-artifacts: $tool is missing: run hack/install-deps.sh (as root)" >&2; exit 1; }
done

for f in config/rancher/docker-compose.yml config/node/docker-compose.yml; do
  docker-compose -f "$f" config --quiet
  echo "check-artifacts: $f: valid (docker-compose config)"
done

go build -o bin/controller ./cmd/controller
bin/controller validate --config config/rancher/config.yaml

(cd config/prometheus && promtool check rules drover-alerts.yml && promtool test rules drover-alerts.test.yml)

go test -count=1 ./test/artifacts/
