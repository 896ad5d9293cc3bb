#!/usr/bin/env bash
# Builds a kind node image offline, as kind v0.33.0's own would be, but without a registry:
#   tools/kind-node/build.sh      prints the image's name on its last line
# 1. the parts: Kubernetes (tools/build-kube.sh node) and containerd, runc, the CNI plugins,
#    crictl, CoreDNS, local-path-provisioner, etcd and pause (build-parts.sh), from Go modules;
# 2. a Debian root filesystem (tools/images/rootfs.sh) with systemd and what kind's base image
#    installs, plus kind's own base files read from the sigs.k8s.io/kind module;
# 3. the images kubeadm and kind expect, under their usual names (images.sh), imported into the
#    node's containerd the way `kind build node-image` does (`ctr images import --no-unpack`);
# 4. `docker commit` with kind's entrypoint.
# Cached: the image is labelled with a key of every input and rebuilt only when one changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=$(cd "$here/.." && pwd)
# shellcheck source=../versions.env
source "$tools/versions.env"
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
unset DOCKER_HOST DOCKER_CONTEXT
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
say() { printf '[kind-node %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[kind-node] error: %s\n' "$*" >&2; exit 1; }
start=$(date +%s)

# Node packages: what kind's base image installs that a single-node test cluster uses.
NODE_PACKAGES=systemd,systemd-sysv,dbus,iptables,nftables,iproute2,conntrack,ethtool,socat,mount,util-linux,kmod,ca-certificates,libseccomp2,procps,curl,jq,pigz
# kube-proxy's image: iptables and nftables, as the official distroless-iptables base has.
PROXY_PACKAGES=iptables,nftables,conntrack,kmod,ipset

key=$( { cat "$tools/versions.env" "$here"/*.sh "$here"/files/* "$tools/images/rootfs.sh" "$tools/build-kube.sh" "$tools"/oci-shim/*.go;
  echo "$NODE_PACKAGES $PROXY_PACKAGES"; } | sha256sum | cut -c1-12)
image="model-canary/kind-node:$KUBERNETES_VERSION-$key"
# The cluster tier reads the current image's name from here.
record() { mkdir -p "$cache/kind-node" && echo "$image" >"$cache/kind-node/image"; }
if docker image inspect "$image" >/dev/null 2>&1; then say "cached: $image"; record; echo "$image"; exit 0; fi

# --- 1 and 2: the parts and the root filesystems (in parallel: network- and CPU-bound).
logs="$cache/kind-node/logs"; mkdir -p "$logs"
say "building the parts and root filesystems (logs: $logs)"
bash "$tools/build-kube.sh" node >"$logs/kube.log" 2>&1 & kube_pid=$!
bash "$tools/images/rootfs.sh" kind-node "$NODE_PACKAGES" >"$logs/rootfs-node.log" 2>&1 & node_pid=$!
bash "$tools/images/rootfs.sh" kube-proxy "$PROXY_PACKAGES" >"$logs/rootfs-proxy.log" 2>&1 & proxy_pid=$!
parts=$(bash "$here/build-parts.sh") || die "building the node's parts failed (above)"
wait $kube_pid || { tail -20 "$logs/kube.log" >&2; die "building Kubernetes failed ($logs/kube.log)"; }
wait $node_pid || { tail -5 "$logs/rootfs-node.log" >&2; die "the node's root filesystem failed"; }
wait $proxy_pid || { tail -5 "$logs/rootfs-proxy.log" >&2; die "kube-proxy's root filesystem failed"; }
kube=$(tail -1 "$logs/kube.log")
node_rootfs=$(tail -1 "$logs/rootfs-node.log")
proxy_rootfs=$(tail -1 "$logs/rootfs-proxy.log")
kind_src=$(cd "$cache" && go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
say "parts ready in $(($(date +%s) - start)) s"

work=$(mktemp -d "$cache/kind-node/.work-XXXX")
build=mc-kind-node-build-$$
cleanup() { docker rm -f -v "$build" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# --- 3: the images kubeadm and kind expect.
say "making the control-plane and add-on images"
bash "$here/images.sh" "$work/images" "$kube" "$proxy_rootfs" "$parts" "$kind_src" >&2

# --- 2 (cont.): the node's own files on top of the root filesystem.
stage="$work/stage"
bash "$here/stage.sh" "$stage" "$kind_src" "$kube" "$parts" >&2

base="model-canary/kind-node-rootfs:$key"
docker image inspect "$base" >/dev/null 2>&1 || docker import "$node_rootfs" "$base" >/dev/null
docker run -d --privileged --name "$build" --entrypoint sleep "$base" infinity >/dev/null
tar -C "$stage" -c . | docker exec -i "$build" tar -C / --no-same-owner -xf -
docker exec "$build" bash /kind/build/setup.sh

# Where the host lacks a capability that privileged Pods get (tools/docker.sh), the node's
# containerd runs runc through the same shim; a complete bounding set leaves runc as it is.
(cd "$tools/oci-shim" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/mc-shim" .)
lacks=$("$work/mc-shim" --mc-shim-info | sed -n 's/^drops: //p')
if [ -n "$lacks" ]; then
  say "the capability bounding set lacks $lacks: the node's containerd runs runc through mc-shim"
  docker cp "$work/mc-shim" "$build:/usr/local/sbin/mc-shim"
  docker exec "$build" sed -i 's|^\(\s*\)SystemdCgroup = true|&\n\1BinaryName = "/usr/local/sbin/mc-shim"|' /etc/containerd/config.toml
  # Lowering a process's oom_score_adj needs CAP_SYS_RESOURCE too: containerd keeps the Pods'
  # scores at or above its own, as it does in user namespaces.
  docker exec "$build" sed -i 's|restrict_oom_score_adj = false|restrict_oom_score_adj = true|' /etc/containerd/config.toml
fi

say "importing $(ls "$work/images" | wc -l) images into the node's containerd"
docker exec -d "$build" bash -c 'containerd >/var/log/containerd-build.log 2>&1'
docker exec "$build" bash -c 'for i in $(seq 1 30); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 1; done; cat /var/log/containerd-build.log; exit 1' ||
  die "containerd did not start in the build container"
for t in "$work/images"/*.tar; do
  docker exec -i "$build" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned \
    --all-platforms --no-unpack --digests - <"$t" >/dev/null
done
docker exec "$build" ctr --namespace=k8s.io images list -q | grep -v '^sha256:' | sed 's/^/  /' >&2
docker exec "$build" bash -c 'pkill containerd; for i in $(seq 1 20); do pgrep containerd >/dev/null || exit 0; sleep 0.5; done; exit 1'
docker exec "$build" rm -rf /kind/build /var/log/containerd-build.log /run/containerd /tmp/*

# (kind's image also says STOPSIGNAL SIGRTMIN+3, which `docker commit --change` cannot set; kind
# removes its nodes with `docker rm -f`, so no stop signal is ever sent.)
docker commit \
  --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
  --change 'ENV container=docker' \
  --change "LABEL dev.model-canary.kind-node.key=$key" \
  "$build" "$image" >/dev/null
# Earlier builds' images go (each is over 1 GB).
for old in $(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^model-canary/kind-node(-rootfs)?:' | grep -v -e "^$image\$" -e "^$base\$"); do
  docker rmi "$old" >/dev/null 2>&1 || true
done
say "built $image in $(($(date +%s) - start)) s ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
record
echo "$image"
