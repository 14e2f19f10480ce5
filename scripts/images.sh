#!/usr/bin/env bash
# `npm run images`: installs the daemonless image tools when missing (Debian's buildah, mmdebstrap, runc, gcc with
# static glibc), then builds skyport's images (e2e/images/cli.ts; `--help` lists them). `--deps-only` stops after
# the packages, for scripts/setup.sh. Idempotent: installed packages and cached images are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(buildah mmdebstrap runc gcc libc6-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  printf '\n[images] installing Debian packages: %s\n' "${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
[ "${1:-}" = "--deps-only" ] && exit 0
# buildah's chroot isolation, mmdebstrap's root mode and the chown of image files need root.
[ "$(id -u)" -eq 0 ] || { echo "images: run as root (sudo npm run images)" >&2; exit 1; }
exec npx tsx e2e/images/cli.ts "$@"
