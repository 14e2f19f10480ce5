#!/usr/bin/env bash
# Makes (once) the Python venv a service's compatibility tests read its outputs with, and prints its path.
# Usage: scripts/compat-venv.sh REQUIREMENTS (a pinned requirements file). Cached under ~/.cache/skyport/
# (SKYPORT_CACHE overrides) and keyed by the hash of the requirements, so changing a pin makes a new venv and two
# services with the same pins share one. Needs python3 with venv (apt-get install -y python3-venv) and PyPI.
set -euo pipefail
req="${1:?usage: compat-venv.sh REQUIREMENTS}"
[[ -f "$req" ]] || { echo "compat-venv.sh: no requirements file at $req" >&2; exit 2; }
cache="${SKYPORT_CACHE:-$HOME/.cache/skyport}"
key="$(sha256sum "$req" | cut -c1-12)"
venv="$cache/compat-venv-$key"
if [[ ! -x "$venv/bin/python" || ! -f "$venv/.complete" ]]; then
  rm -rf "$venv"
  mkdir -p "$cache"
  # The marker is written last: an interrupted install is rebuilt, never taken for a finished venv.
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --disable-pip-version-check --no-input --quiet -r "$req" >&2
  touch "$venv/.complete"
fi
echo "$venv"
