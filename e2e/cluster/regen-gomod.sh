#!/usr/bin/env bash
# Regenerates the wrapper module go/k8s/{go.mod,go.sum} for K8S_VERSION in versions.env.
#
# k8s.io/kubernetes requires every staging module (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and
# resolves them with replace directives that Go ignores in dependencies. So the wrapper replaces each
# staging module with its published v0.<minor>.<patch>. The list is read from upstream's own go.mod for
# that version, never hand-copied. Usage: e2e/cluster/regen-gomod.sh [--check]
#   --check  regenerate into a temp dir and fail if the committed files differ (CI drift guard)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOSUMDB=sum.golang.org GONOSUMDB= GOINSECURE=
out=$here/go/k8s
kv=$K8S_VERSION
sv=v0.${kv#v1.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gomod=$(go mod download -json "k8s.io/kubernetes@$kv" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[ -f "$gomod" ] || { echo "could not download k8s.io/kubernetes@$kv" >&2; exit 1; }
goline=$(awk '$1=="go"{print $2; exit}' "$gomod")
echo "[regen] k8s.io/kubernetes $kv (go $goline); staging modules -> $sv" >&2

cd "$work"
go mod init skyport.local/k8scp >/dev/null 2>&1
go mod edit -go="$goline"
n=0
for m in $(awk '$1 ~ /^k8s\.io\// && $2=="v0.0.0" {print $1}' "$gomod" | sort -u); do
  go mod edit -replace="$m=$m@$sv"
  n=$((n + 1))
done
go mod edit -require="k8s.io/kubernetes@$kv"
cp "$out/tools.go" .
go mod tidy >&2
echo "[regen] $n staging modules replaced" >&2

if [ "${1:-}" = "--check" ]; then
  diff -u "$out/go.mod" go.mod && diff -q "$out/go.sum" go.sum && echo "[regen] go.mod/go.sum are current" >&2
else
  cp go.mod go.sum "$out/"
  echo "[regen] wrote $out/go.mod and go.sum; rebuild with: npm run cluster:build" >&2
fi
