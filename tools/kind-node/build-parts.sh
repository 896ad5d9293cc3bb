#!/usr/bin/env bash
# The binaries of the offline kind node image, each built from its Go module at the version
# pinned in tools/versions.env, into $cache/kind-node/parts/<part>-<version>/ (a part already
# there is skipped). Kubernetes' own commands come from tools/build-kube.sh (`node`); this builds
# the rest: containerd, runc, the CNI plugins, crictl, CoreDNS, local-path-provisioner, etcd at
# kubeadm's version, and the pause binary (kubernetes' build/pause/linux/pause.c, compiled static).
# Prints `NAME=DIR` lines. Parts build two at a time (2 cores).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=$(cd "$here/.." && pwd)
# shellcheck source=../versions.env
source "$tools/versions.env"
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
parts="$cache/kind-node/parts"
logs="$cache/kind-node/logs"
mkdir -p "$parts" "$logs"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
say() { printf '[kind-node parts %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# One build at a time: a second run waits, then finds the parts done.
exec 7>"$parts/.lock"
flock -w 3600 7 || { echo "[kind-node parts] another build holds $parts/.lock" >&2; exit 1; }

# go_part NAME VERSION CGO TAGS PKG@VERSION... : `go install` into the part's folder, keyed by the
# recipe (flags, tags, packages, $EXTRA_LDFLAGS) as well as the version.
go_part() {
  local name=$1 version=$2 cgo=$3 tags=$4; shift 4
  local ldflags="-s -w ${EXTRA_LDFLAGS:-}" pkg
  [ "$cgo" = 0 ] || ldflags+=" -extldflags -static"
  local recipe; recipe=$(printf '%s\n' "$cgo" "$tags" "$ldflags" "$@" | sha256sum | cut -c1-8)
  local dir="$parts/$name-$version"
  if [ -f "$dir/.done" ] && [ "$(cat "$dir/.done")" = "$recipe" ]; then return 0; fi
  say "building $name $version"
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  for pkg in "$@"; do
    if ! CGO_ENABLED=$cgo GOBIN="$dir.tmp" go install -trimpath -tags "$tags" -ldflags "$ldflags" "$pkg" >>"$logs/$name.log" 2>&1; then
      tail -15 "$logs/$name.log" >&2
      echo "[kind-node parts] building $pkg failed; the log is $logs/$name.log" >&2
      return 1
    fi
  done
  echo "$recipe" >"$dir.tmp/.done"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  say "built $name $version"
}

build_containerd() {
  local v=$CONTAINERD_VERSION m=github.com/containerd/containerd/v2
  # The tags kind's base image builds with (no aufs, zfs, btrfs or devmapper snapshotters).
  # Stamped as containerd's Makefile does, so `containerd --version` and the CRI report the release.
  EXTRA_LDFLAGS="-X $m/version.Version=$v -X $m/version.Package=$m" \
    go_part containerd "$v" 0 "no_aufs no_zfs no_btrfs no_devmapper" \
    "$m/cmd/containerd@$v" "$m/cmd/containerd-shim-runc-v2@$v" "$m/cmd/ctr@$v"
}
# runc needs cgo (its nsexec) and libseccomp (Pods ask for the RuntimeDefault seccomp profile).
build_runc() {
  if ! [ -e /usr/include/seccomp.h ]; then
    say "apt-get install libseccomp-dev (runc's seccomp)"
    bash "$here/../apt.sh" install -y -qq libseccomp-dev >/dev/null 2>&1 ||
      { bash "$here/../apt.sh" update -qq && bash "$here/../apt.sh" install -y -qq libseccomp-dev >/dev/null; }
  fi
  go_part runc "$RUNC_VERSION" 1 "seccomp netgo osusergo" "github.com/opencontainers/runc@$RUNC_VERSION"
}
build_cni() {
  local v=$CNI_PLUGINS_VERSION m=github.com/containernetworking/plugins/plugins
  go_part cni-plugins "$v" 0 "" "$m/main/bridge@$v" "$m/main/loopback@$v" "$m/main/ptp@$v" \
    "$m/ipam/host-local@$v" "$m/meta/portmap@$v"
}
build_crictl() { go_part crictl "$CRICTL_VERSION" 0 "" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"; }
build_coredns() { go_part coredns "$COREDNS_VERSION" 0 "" "github.com/coredns/coredns@$COREDNS_VERSION"; }
build_local_path() {
  go_part local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" 0 "" \
    "github.com/rancher/local-path-provisioner@$LOCAL_PATH_PROVISIONER_VERSION"
}
build_etcd() {
  local v=$NODE_ETCD_VERSION dir="$parts/etcd-$NODE_ETCD_VERSION"
  [ -f "$dir/.done" ] && return 0
  say "building etcd $v"
  local dest; dest=$(bash "$tools/build-kube.sh" etcd "$v" "$dir.tmp" 2>>"$logs/etcd.log" | tail -1)
  [ -x "$dest/etcd" ] || { tail -15 "$logs/etcd.log" >&2; return 1; }
  touch "$dest/.done"; rm -rf "$dir"; mv "$dest" "$dir"
}
build_pause() {
  local dir="$parts/pause-$PAUSE_VERSION"
  [ -f "$dir/.done" ] && return 0
  local src; src=$(cd "$parts" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')/build/pause/linux/pause.c
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION" -o "$dir.tmp/pause" "$src"
  touch "$dir.tmp/.done"; rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

pids=()
run() { "$@" & pids+=($!); }
wait_all() { local p rc=0; for p in "${pids[@]}"; do wait "$p" || rc=1; done; pids=(); return $rc; }
run build_containerd; run build_runc; wait_all
run build_cni; run build_crictl; wait_all
run build_coredns; run build_local_path; wait_all
build_etcd; build_pause
for p in containerd-$CONTAINERD_VERSION runc-$RUNC_VERSION cni-plugins-$CNI_PLUGINS_VERSION crictl-$CRICTL_VERSION \
  coredns-$COREDNS_VERSION local-path-provisioner-$LOCAL_PATH_PROVISIONER_VERSION etcd-$NODE_ETCD_VERSION pause-$PAUSE_VERSION; do
  echo "${p%%-v*}=$parts/$p" | sed 's/^pause-[0-9.]*=/pause=/'
done
