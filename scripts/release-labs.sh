#!/usr/bin/env bash
# Releases NotebookLabs stuck in deletion once the operator is gone (after `helm uninstall`, `kubectl delete
# notebooklab` waits forever on the skyport.io/home-volume finalizer that only the operator removes). For each lab
# being deleted that still has the finalizer, it confirms the lab's home PVC is kept — the PVC carries no
# ownerReference, so the garbage collector will not delete it — and removes only that finalizer (a merge patch
# guarded by the lab's resourceVersion). The garbage collector then deletes the lab's Pod, Service, Secret and
# NetworkPolicy, which the lab owns. Labs not being deleted are left alone: delete them first.
#
# Every home PVC is kept, whatever its profile's home.retainPolicy says; delete unwanted homes by hand afterwards:
#   kubectl get pvc -A -l app.kubernetes.io/name=notebooklab,app.kubernetes.io/component=home
# With the operator running, do not use this: `kubectl delete` then finishes by itself and applies retainPolicy.
#
# Usage: scripts/release-labs.sh [-n NAMESPACE | -A] [--dry-run]
# Exit: 0 every stuck lab released (or none found), 1 some lab refused or failed, 2 bad usage.
# Environment: KUBECTL (default kubectl), KUBECONFIG as kubectl reads it.
set -euo pipefail

FINALIZER=skyport.io/home-volume
KUBECTL=${KUBECTL:-kubectl}
scope=(-A)
dry=false
while [ $# -gt 0 ]; do
  case "$1" in
    -n | --namespace)
      [ $# -ge 2 ] || { echo "release-labs: $1 needs a namespace" >&2; exit 2; }
      scope=(-n "$2"); shift 2 ;;
    -A | --all-namespaces) scope=(-A); shift ;;
    --dry-run) dry=true; shift ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release-labs: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# One line per lab being deleted that still carries our finalizer: namespace, name, resourceVersion, finalizers.
# shellcheck disable=SC2016 # a Go template, not a shell expansion
template='{{range .items}}{{if .metadata.deletionTimestamp}}{{$lab := .}}{{range .metadata.finalizers}}{{if eq . "'$FINALIZER'"}}{{$lab.metadata.namespace}} {{$lab.metadata.name}} {{$lab.metadata.resourceVersion}} {{range $lab.metadata.finalizers}}{{.}},{{end}}{{"\n"}}{{end}}{{end}}{{end}}{{end}}'
stuck=$("$KUBECTL" get notebooklabs.skyport.io "${scope[@]}" -o go-template="$template")
if [ -z "$stuck" ]; then
  echo "No NotebookLab is waiting on the $FINALIZER finalizer"
  exit 0
fi

failed=0
while read -r ns name rv finalizers; do
  # The lab's home claims (normally one, <lab>-home), each with "owned" when it has any ownerReference.
  homes=$("$KUBECTL" get pvc -n "$ns" \
    -l "app.kubernetes.io/name=notebooklab,app.kubernetes.io/component=home,app.kubernetes.io/instance=$name" \
    -o go-template='{{range .items}}{{.metadata.name}}{{with .metadata.ownerReferences}} owned{{end}}{{"\n"}}{{end}}')
  if grep -q ' owned$' <<<"$homes"; then
    echo "Refused $ns/$name: its home PVC has an ownerReference, the garbage collector would delete it:" \
      "$(grep ' owned$' <<<"$homes" | cut -d' ' -f1 | tr '\n' ' ')" >&2
    failed=1
    continue
  fi
  kept=$(tr '\n' ' ' <<<"$homes")
  # Every finalizer but ours, as a JSON list (finalizer names are qualified names: nothing to escape).
  rest=$(printf '%s' "$finalizers" |
    awk -v RS=, -v f="$FINALIZER" '$0 != "" && $0 != f { printf "%s\"%s\"", (n++ ? "," : ""), $0 }')
  patch="{\"metadata\":{\"resourceVersion\":\"$rv\",\"finalizers\":[${rest}]}}"
  if $dry; then
    echo "Would release $ns/$name; home kept: ${kept:-(no home PVC)}"
    continue
  fi
  if "$KUBECTL" patch notebooklabs.skyport.io "$name" -n "$ns" --type=merge -p "$patch" >/dev/null; then
    echo "Released $ns/$name; home kept: ${kept:-(no home PVC)}"
  else
    echo "Failed to release $ns/$name (changed meanwhile? run again)" >&2
    failed=1
  fi
done <<<"$stuck"
exit "$failed"
