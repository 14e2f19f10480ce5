#!/usr/bin/env bash
# The README's run command: does all set-up itself (Debian packages, the local control plane and its real node, the
# images), then brings up the local platform — the local control plane with one real node, the operator as a real
# Deployment (helm install), a sample NotebookProfile and two NotebookLabs running real JupyterLab servers — and
# prints a URL on 127.0.0.1 for each lab. Ctrl-C (or SIGTERM, SIGHUP, the parent dying) tears everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
SKYPORT_IMAGES=1 SKYPORT_REAL_NODE=1 bash scripts/setup.sh
# Cached by content: seconds when nothing changed.
bash scripts/images.sh pause operator jupyterlab
# node itself replaces this shell (no npx/tsx launcher in between): a signal to the script reaches run-local, and
# run-local's parent is the script's parent, whose death it watches.
exec node --import tsx e2e/run-local.ts "$@"
