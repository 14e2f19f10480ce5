#!/usr/bin/env bash
# The README's run command: does all set-up itself, then brings up the local platform — the local control plane,
# skyport's CRDs, a sample NotebookProfile, the operator as a local process and two sample NotebookLabs — and
# prints them Ready with their URLs. Ctrl-C tears everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx tsx e2e/run-local.ts "$@"
