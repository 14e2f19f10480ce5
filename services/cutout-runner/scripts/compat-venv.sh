#!/usr/bin/env bash
# Makes (once) the Python venv the format compatibility tests read results with, and prints its path.
# Cached under ~/.cache/skyport/ (SKYPORT_CACHE overrides) and keyed by the hash of the pinned requirements,
# so changing a pin makes a new venv. Needs python3 with venv (apt-get install -y python3-venv) and PyPI.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/../test/support/requirements-compat.txt"
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
