#!/usr/bin/env bash
# Builds the S3-compatible server the tests talk to: Versity's S3 gateway (versitygw, Apache-2.0; an S3 API over a
# POSIX folder), from the pinned wrapper module go/{go.mod,go.sum} through the Go module proxy, into a cache
# folder keyed by the SHA-256 of those two files: a changed pin builds anew, an unchanged one is a no-op.
# Cold: about 5 min on 2 cores; warm: instant. Prints the binary's path on stdout (last line).
# docs/adr/0013-s3-results.md says why this server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${SKYPORT_CACHE:-$HOME/.cache/skyport}
command -v go >/dev/null 2>&1 || { echo "[s3] go is required (Go 1.26 builds versitygw)" >&2; exit 1; }
command -v sha256sum >/dev/null 2>&1 || { echo "[s3] sha256sum is required" >&2; exit 1; }
key=$(cat "$here/go/go.mod" "$here/go/go.sum" | sha256sum | cut -c1-16)
out=$CACHE/s3-versitygw-$key
if [ ! -x "$out/bin/versitygw" ]; then
  # Resolve modules only as the committed go.sum says, verified against sum.golang.org; never another toolchain.
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly GOSUMDB=sum.golang.org GONOSUMDB= GOINSECURE=
  t0=$(date +%s)
  echo "[s3] building versitygw ($(awk '$1=="github.com/versity/versitygw"{print $2}' "$here/go/go.mod")) into $out (cold: about 5 min)" >&2
  mkdir -p "$out/bin"
  (cd "$here/go" && go build -trimpath -ldflags "-s -w" -o "$out/bin/versitygw.tmp" github.com/versity/versitygw/cmd/versitygw)
  mv "$out/bin/versitygw.tmp" "$out/bin/versitygw"
  echo "[s3] built in $(($(date +%s) - t0)) s" >&2
fi
echo "$out/bin/versitygw"
