# drover controller image: a static binary on a distroless base.
#
#   docker build -t drover/controller:dev .
#   docker run --rm drover/controller:dev --help
#
# The image holds the controller only; nodes embed the BEAM agent (agent/)
# in their own release (see config/node/). Not built in CI (no Docker there).

# --- build: a static, stripped binary (no cgo, no libc) ---
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so source edits do not re-download them.
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY pkg/ pkg/
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false -ldflags="-s -w" \
      -o /out/controller ./cmd/controller

# --- run: no shell, no package manager, non-root ---
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/controller /usr/local/bin/controller
# A default config; mount your own at /etc/drover/config.yaml (or set
# DROVER_CONFIG / --config).
COPY config/rancher/config.yaml /etc/drover/config.yaml
# Rancher over HTTPS with a private CA: mount its PEM bundle and set
# RANCHER_CA_FILE (added to the system pool). The base image's system pool
# is /etc/ssl/certs/ca-certificates.crt; SSL_CERT_FILE replaces it.
USER 65532:65532
# 9090: ops server (/healthz, /readyz, /metrics, /status, mesh view).
# 4100: node-facing announce endpoint (when spec.controller.announce.listen is set).
EXPOSE 9090 4100
ENTRYPOINT ["/usr/local/bin/controller"]
CMD ["--config", "/etc/drover/config.yaml", "--listen", ":9090", "--log-format", "json"]
