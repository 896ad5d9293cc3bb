#!/usr/bin/env bash
# Builds kube-apiserver and etcd from Go modules into the cache, keyed by version; with `node`,
# also the rest of Kubernetes a kind node runs (tools/kind-node). The Kubernetes commands: a
# wrapper module requiring k8s.io/kubernetes and replacing every staging module (read from
# kubernetes' own go.mod) with its published v0.Y version.
# kubelet-standin (tools/kubelet-standin): the kubelet's port-forward endpoint, served by
# k8s.io/cri-streaming at the same v0.Y (the kubelet's and container runtimes' own code).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
out="$cache/kube/$KUBERNETES_VERSION-etcd-$ETCD_VERSION"
mkdir -p "$out"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
# One build at a time per cache (provisioning builds the API-server tier's parts while the kind
# node image's build asks for the rest): a second run waits, then finds what the first built.
exec 6>"$out/.lock"
flock -w 3600 6 || { echo "another tools/build-kube.sh holds $out/.lock" >&2; exit 1; }

# A wrapper module requiring k8s.io/kubernetes, its staging modules replaced by their published
# versions, importing the given commands; `go mod tidy` once, then one `go build` per command.
kube_module() {
  local work=$1; shift
  local staging_ver="v0.${KUBERNETES_VERSION#v1.}"
  local gomod; gomod=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  {
    echo "module modelcanary.dev/kube-build"
    echo "go 1.26"
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" | awk -v v="$staging_ver" '{print "replace " $1 " => " $1 " " v}'
  } > "$work/go.mod"
  { printf '//go:build tools\n\npackage tools\n\n'; for c in "$@"; do echo "import _ \"k8s.io/kubernetes/cmd/$c\""; done; } > "$work/tools.go"
  (cd "$work" && go mod tidy)
}

# Builds each named command of k8s.io/kubernetes (cmd/NAME) that the cache lacks.
build_kube_cmds() {
  local wanted=() c
  for c in "$@"; do
    if [ -x "$out/$c" ]; then echo "$c $KUBERNETES_VERSION cached: $out/$c"; else wanted+=("$c"); fi
  done
  [ ${#wanted[@]} -gt 0 ] || return 0
  local work; work=$(mktemp -d)
  echo "building ${wanted[*]} $KUBERNETES_VERSION in $work"
  kube_module "$work" "${wanted[@]}"
  # Stamp the version as kubernetes' own build does (hack/lib/version.sh); otherwise /version says v0.0.0-master.
  local minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
  local ldflags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  for c in "${wanted[@]}"; do
    (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$out/$c.tmp" "k8s.io/kubernetes/cmd/$c")
    mv "$out/$c.tmp" "$out/$c"
  done
  rm -rf "$work"
}

build_etcd() {
  if [ -x "$out/etcd" ]; then echo "etcd $ETCD_VERSION cached: $out/etcd"; return; fi
  local work; work=$(mktemp -d)
  echo "building etcd $ETCD_VERSION in $work"
  local gomod; gomod=$(cd "$work" && go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  {
    echo "module modelcanary.dev/etcd-build"
    echo "go 1.26"
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    # etcd's server module replaces its sibling modules with relative paths; use their published versions.
    grep -oE '^\s*go\.etcd\.io/etcd/[a-z0-9/-]+ => \.\./[a-z0-9/-]+' "$gomod" | awk -v v="$ETCD_VERSION" '{print "replace " $1 " => " $1 " " v}'
  } > "$work/go.mod"
  cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  (cd "$work" && go mod tidy && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$out/etcd.tmp" "$out/etcd"
  rm -rf "$work"
}

build_kubelet_standin() {
  local src="$here/kubelet-standin/main.go"
  # Keyed by the source too, so an edited stand-in is rebuilt.
  local sum; sum=$({ sha256sum "$src" 2>/dev/null || shasum -a 256 "$src"; } | cut -c1-12)
  if [ -x "$out/kubelet-standin" ] && [ "$(cat "$out/kubelet-standin.src" 2>/dev/null)" = "$sum" ]; then
    echo "kubelet-standin cached: $out/kubelet-standin"; return
  fi
  local work; work=$(mktemp -d)
  local staging_ver="v0.${KUBERNETES_VERSION#v1.}"
  echo "building kubelet-standin (k8s.io/cri-streaming $staging_ver) in $work"
  cp "$src" "$work/main.go"
  {
    echo "module modelcanary.dev/kubelet-standin"
    echo "go 1.26"
    echo "require k8s.io/cri-streaming $staging_ver"
  } > "$work/go.mod"
  (cd "$work" && go mod tidy && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out/kubelet-standin.tmp" .)
  mv "$out/kubelet-standin.tmp" "$out/kubelet-standin"
  echo "$sum" > "$out/kubelet-standin.src"
  rm -rf "$work"
}

# `build-kube.sh node` builds what a kind node runs besides (tools/kind-node); the default is the
# API-server tier's parts.
if [ "${1:-}" = etcd ]; then
  # `build-kube.sh etcd VERSION DIR`: etcd at another version (the kind node's), into DIR.
  ETCD_VERSION=${2:?usage: build-kube.sh etcd VERSION DIR}
  out=${3:?usage: build-kube.sh etcd VERSION DIR}
  mkdir -p "$out"
  build_etcd
elif [ "${1:-}" = node ]; then
  build_kube_cmds kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubeadm kubectl
else
  build_etcd
  build_kube_cmds kube-apiserver
  build_kubelet_standin
fi
echo "$out"
