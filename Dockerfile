# syntax=docker/dockerfile:1
#
# The vds command in a minimal image: a static binary (no cgo, -trimpath)
# on an empty base with a passwd entry, CA certificates for TLS to the
# database, and empty /data (the owner's directory) and /public (the public
# set-up files for storage servers and verifiers) owned by the non-root
# user, so that named volumes mounted there inherit that owner.
#
#   docker build -t vds .
#   docker run --rm vds version
#
# compose.yaml runs a whole deployment from this image (README "Deploy").

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/vds ./cmd/vds \
 && mkdir -p /out/data /out/public \
 && echo 'vds:x:65532:65532:vds:/data:/sbin/nologin' >/out/passwd \
 && echo 'vds:x:65532:' >/out/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /out/vds /usr/local/bin/vds
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/public /public
USER 65532:65532
WORKDIR /data
ENV VDS_DIR=/data
# owner, storage, verifier; metrics, /healthz and /readyz (-metrics :9090).
EXPOSE 5001 5002 5003 9090
# Alive as long as the metrics listener answers; compose.yaml asks /readyz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/vds", "health", "-q", "http://127.0.0.1:9090/healthz"]
ENTRYPOINT ["/usr/local/bin/vds"]
CMD ["version"]
