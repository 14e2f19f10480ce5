#!/usr/bin/env bash
# Real Redis and PostgreSQL for tests and local work, on free loopback ports with data in a cache folder.
#   services.sh install   apt-get install redis-server and postgresql if missing (apt-get update first)
#   services.sh up        install if needed, start both, print and write REDIS_URL/DATABASE_URL to an env file
#   services.sh down      stop both by PID and remove their data
#   services.sh status    show PIDs and URLs
# The TypeScript module e2e/services/index.ts (startRedis/startPostgres) is the same code for tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

have_all() {
  command -v redis-server >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

install() {
  if have_all; then return 0; fi
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "[services] installing redis-server and postgresql (apt)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server postgresql >&2
  # The Debian packages start system-wide instances; tests use their own on free ports, so stop those.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now redis-server postgresql >/dev/null 2>&1 || true
  fi
}

cmd=${1:-}
case "$cmd" in
  install) install ;;
  up) install; cd "$root" && exec npx --no-install tsx e2e/services/cli.ts up ;;
  down | status) cd "$root" && exec npx --no-install tsx e2e/services/cli.ts "$cmd" ;;
  *) echo "usage: $0 install|up|down|status" >&2; exit 2 ;;
esac
