# drover controller image: one static binary in an image FROM scratch.
#
#   docker build -t drover/controller:dev .
#   docker run --rm drover/controller:dev --help
#
# The image holds the controller only; nodes embed the BEAM agent (agent/)
# in their own release (config/node/, examples/hello/Dockerfile).
#
# CI builds this very file with podman and runs the image against the
# simulator (hack/test-images.sh, part of make test). No registry is
# reachable there, so CI sets GO_IMAGE to a local image with the same
# contents as golang:1.26-bookworm (Debian 12 from mmdebstrap plus the
# machine's Go toolchain and a module cache); anywhere else the default
# below is pulled as usual.
ARG GO_IMAGE=golang:1.26-bookworm

# --- build: a static, stripped binary (no cgo, no libc) ---
FROM ${GO_IMAGE} AS build
WORKDIR /src
# Modules first, so source edits do not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY pkg/ pkg/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false -ldflags="-s -w" \
      -o /out/controller ./cmd/controller
# What the static binary needs besides itself: a passwd and group entry for
# the non-root user (uid/gid 65532, as distroless' "nonroot"), a writable
# /tmp (mode 1777) and the CA bundle (to reach Rancher over https).
RUN mkdir -p /out/rootfs/etc/ssl/certs /out/rootfs/tmp /out/rootfs/etc/drover \
 && chmod 1777 /out/rootfs/tmp \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' \
      > /out/rootfs/etc/passwd \
 && printf 'root:x:0:\nnonroot:x:65532:\n' > /out/rootfs/etc/group \
 && cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ca-certificates.crt

# --- run: no shell, no package manager, non-root ---
FROM scratch
COPY --from=build /out/rootfs/ /
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
