#!/usr/bin/env bash
# Builds the local control plane's binaries from pinned upstream sources into a cache outside the repo.
# Re-running is cheap: every artefact is keyed by version and skipped when present.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
CACHE=${SKYPORT_CACHE:-$HOME/.cache/skyport}
BIN=$CACHE/cp-$K8S_VERSION-kwok-$KWOK_VERSION-etcd-$ETCD_VERSION/bin
mkdir -p "$BIN"
# Never fetch another Go toolchain behind our back; resolve modules only as the committed go.sum says.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
log() { printf '[build] %s\n' "$*" >&2; }

build_k8s() {
  local want=(kube-apiserver kube-controller-manager kube-scheduler) missing=()
  for b in "${want[@]}"; do [ -x "$BIN/$b" ] || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "building ${missing[*]} $K8S_VERSION (cold build takes 15-30 min on 2 cores)"
  local minor; minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  local pkgs=(); for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  (cd "$here/go/k8s" && go build -trimpath -ldflags "$ld" -o "$BIN/" "${pkgs[@]}")
}

build_k8s
log "binaries in $BIN"
