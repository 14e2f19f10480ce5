#!/usr/bin/env bash
# Installs everything skyport needs on a fresh machine, idempotently: Debian packages, npm dependencies and the
# local control plane (built from pinned upstream sources into ~/.cache/skyport). Safe to re-run: each step is
# skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\n[setup] %s\n' "$*" >&2; }
start=$(date +%s)

# Debian packages: servers the tests talk to for real, and the tools the build recipes call.
apt_pkgs=(redis-server postgresql openssl unzip curl ca-certificates debian-archive-keyring python3-venv
  chromium) # chromium: the real tier opens a lab in it (playwright-core drives it)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts the packaged servers as services; tests start their own on free loopback ports instead.

for tool in node npm go; do command -v "$tool" >/dev/null || { echo "setup: $tool is required (Node 20, Go 1.26)" >&2; exit 1; }; done

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The image builder's packages (buildah, mmdebstrap, runc, static gcc) when asked (the test command asks: its
# integration tier builds every image and runs each under runc); `npm run images` installs them itself too.
if [ "${SKYPORT_IMAGES:-0}" = 1 ]; then bash scripts/images.sh --deps-only; fi

log "building the local control plane (cached in ${SKYPORT_CACHE:-$HOME/.cache/skyport})"
# With SKYPORT_REAL_NODE=1 (the test command sets it) also the real node: kubelet, kube-proxy, containerd, CoreDNS,
# kube-router (NetworkPolicy agent) and their Debian packages.
bash e2e/cluster/build.sh

log "building the S3-compatible test server (versitygw; cached in ${SKYPORT_CACHE:-$HOME/.cache/skyport})"
bash e2e/services/s3/build.sh >/dev/null

log "set-up done in $(( $(date +%s) - start )) s"
