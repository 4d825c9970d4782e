# drover: make help lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -o errexit -o nounset -o pipefail -c
GO ?= go
BIN := bin
FUZZTIME ?= 30s
FUZZ ?= .

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the controller and the simulator into bin/
	$(GO) build -o $(BIN)/ ./cmd/...

.PHONY: deps
deps: ## Install what the tests need (Erlang, Elixir, podman, promtool, golangci-lint...) when missing; needs root
	hack/install-deps.sh

.PHONY: verify
verify: ## gofmt, go vet, go mod tidy, no init(), golangci-lint
	hack/verify.sh

.PHONY: unit
unit: ## Go unit tests (fast, no root, no Erlang)
	$(GO) test -count=1 ./...

.PHONY: fuzz
fuzz: ## Run every Go fuzz target for FUZZTIME each (default 30s; FUZZ=regexp picks targets; not in test)
	FUZZTIME=$(FUZZTIME) FUZZ=$(FUZZ) hack/fuzz.sh

.PHONY: agent-test
agent-test: ## eunit tests of the BEAM agent (agent/), built with plain erlc
	agent/eunit.sh

.PHONY: hello
hello: ## Build the example Elixir release and its tarball (examples/hello, offline)
	cd examples/hello && MIX_ENV=prod mix release --overwrite --quiet

.PHONY: e2e
e2e: ## End-to-end tests: simulator, controller binary, real BEAM nodes in network namespaces (root; ~5 min)
	hack/e2e.sh

.PHONY: demo
demo: ## The demo: simulator + real BEAM nodes (root; else Go agents) + controller; scale up, down, a failure; Ctrl-C ends it
	$(GO) build -o $(BIN)/drover-demo ./cmd/drover-demo
	$(BIN)/drover-demo $(DEMO_FLAGS)

.PHONY: soak
soak: ## Soak run: 20 min of random changes, kills and Rancher faults on Go agents, checking links, convergence, resources (not in test; docs/soak.md)
	$(GO) build -o $(BIN)/soak ./test/soak
	$(BIN)/soak $(SOAK_FLAGS)

.PHONY: soak-beam
soak-beam: ## The soak on real BEAM nodes for 10 min (root; waits for /tmp/drover-netns.lock)
	$(GO) build -o $(BIN)/soak ./test/soak
	flock /tmp/drover-netns.lock $(BIN)/soak -runtime exec $(SOAK_FLAGS)

.PHONY: check-artifacts
check-artifacts: ## Compose files (docker-compose config, rancher-compose keys), promtool check/test rules, Grafana dashboard
	hack/check-artifacts.sh

.PHONY: test-images
test-images: ## Build ./Dockerfile and examples/hello/Dockerfile with podman and run them (root; ~1.5 min)
	hack/test-images.sh

.PHONY: test
test: deps verify unit agent-test check-artifacts test-images e2e ## Everything CI runs: deps, verify, unit tests, agent eunit, artifacts, images, e2e

.PHONY: bench
bench: ## Benchmarks: real nodes vs the DNS recipe, Rancher load, 2,000 Go agents (root; ~30 min; not in test)
	$(GO) run ./test/bench -plot docs/benchmarks.png $(BENCH_FLAGS)
