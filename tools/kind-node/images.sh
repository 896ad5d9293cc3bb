#!/usr/bin/env bash
# The images a kind node runs, made without a registry: each a `docker import` of a small root
# filesystem (the binary, or kube-proxy's Debian one plus iptables), saved as an archive for the
# node's containerd. Names and tags are the ones kubeadm asks for (`kubeadm config images list`,
# from the kubeadm just built) and the ones kind v0.33.0's manifests and containerd config name
# (read from the sigs.k8s.io/kind module), so nothing is ever pulled.
#   images.sh OUT_DIR KUBE_BIN_DIR PROXY_ROOTFS_TAR PARTS KIND_SRC
#   (PARTS: NAME=DIR lines from build-parts.sh; KIND_SRC: the sigs.k8s.io/kind module's folder)
set -euo pipefail
out=${1:?}; kube=${2:?}; proxy_rootfs=${3:?}; parts=${4:?}; kind_src=${5:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../versions.env
source "$here/../versions.env"
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
part() { printf '%s\n' "$parts" | sed -n "s/^$1=//p"; }
mkdir -p "$out"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# image NAME DIR [--change ...]: imports DIR as NAME and saves it to OUT.
image() {
  local name=$1 dir=$2; shift 2
  local changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
  while [ $# -gt 0 ]; do changes+=(--change "$1"); shift; done
  tar --numeric-owner --owner=0 --group=0 -C "$dir" -c . | docker import "${changes[@]}" - "$name" >/dev/null
  docker save "$name" -o "$out/$(echo "$name" | tr '/:' '__').tar"
  echo "  $name"
}
# binary_image NAME FILE DEST: one binary at DEST, its entrypoint.
binary_image() {
  local name=$1 file=$2 dest=$3 dir; dir=$(mktemp -d "$work/img-XXXX")
  install -D -m 0755 "$file" "$dir$dest"
  mkdir -p "$dir/tmp" "$dir/etc"; chmod 1777 "$dir/tmp"
  echo 'nobody:x:65534:65534:nobody:/:/sbin/nologin' >"$dir/etc/passwd"
  image "$name" "$dir" "ENTRYPOINT [\"$dest\"]"
}

mapfile -t wanted < <("$kube/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null)
[ ${#wanted[@]} -gt 0 ] || { echo "kubeadm config images list printed nothing" >&2; exit 1; }
for name in "${wanted[@]}"; do
  case "$name" in
    */kube-apiserver:* | */kube-controller-manager:* | */kube-scheduler:*)
      bin=${name##*/}; bin=${bin%%:*}
      binary_image "$name" "$kube/$bin" "/usr/local/bin/$bin" ;;
    */kube-proxy:*)
      dir="$work/kube-proxy"; mkdir -p "$dir"; tar -C "$dir" -xf "$proxy_rootfs"
      install -m 0755 "$kube/kube-proxy" "$dir/usr/local/bin/kube-proxy"
      image "$name" "$dir" 'ENTRYPOINT ["/usr/local/bin/kube-proxy"]'; rm -rf "$dir" ;;
    */etcd:*)
      tag=${name##*:}
      [ "v${tag%-*}" = "$NODE_ETCD_VERSION" ] || { echo "kubeadm wants $name; versions.env NODE_ETCD_VERSION is $NODE_ETCD_VERSION" >&2; exit 1; }
      binary_image "$name" "$(part etcd)/etcd" /usr/local/bin/etcd ;;
    */coredns:*)
      [ "${name##*:}" = "$COREDNS_VERSION" ] || { echo "kubeadm wants $name; versions.env COREDNS_VERSION is $COREDNS_VERSION" >&2; exit 1; }
      binary_image "$name" "$(part coredns)/coredns" /coredns ;;
    */pause:*)
      binary_image "$name" "$(part pause)/pause" /pause ;;
    *) echo "kubeadm wants an image this build does not make: $name" >&2; exit 1 ;;
  esac
done

# kind's containerd sandbox image (its config's sandbox_image), when it differs from kubeadm's pause.
sandbox=$(sed -n 's/^\s*sandbox_image\s*=\s*"\(.*\)"/\1/p' "$kind_src/images/base/files/etc/containerd/config.toml")
if [ -n "$sandbox" ] && ! printf '%s\n' "${wanted[@]}" | grep -qx "$sandbox"; then
  binary_image "$sandbox" "$(part pause)/pause" /pause
fi

# kind's default storage: local-path-provisioner and its helper (a shell, mkdir and rm: busybox).
storage="$kind_src/pkg/build/nodeimage/const_storage.go"
provisioner=$(sed -n 's/^const storageProvisionerImage = "\(.*\)"/\1/p' "$storage")
helper=$(sed -n 's/^const storageHelperImage = "\(.*\)"/\1/p' "$storage")
binary_image "$provisioner" "$(part local-path-provisioner)/local-path-provisioner" /usr/bin/local-path-provisioner
deb="$cache/kind-node/busybox-static.deb"
if [ ! -s "$deb" ]; then (cd "$work" && bash "$here/../apt.sh" download busybox-static >/dev/null 2>&1 || { bash "$here/../apt.sh" update -qq && bash "$here/../apt.sh" download busybox-static >/dev/null; }) && mv "$work"/busybox-static_*.deb "$deb"; fi
dir="$work/helper"; mkdir -p "$dir/x" "$dir/root/bin" "$dir/root/tmp"; chmod 1777 "$dir/root/tmp"
dpkg-deb -x "$deb" "$dir/x"
install -m 0755 "$dir/x/bin/busybox" "$dir/root/bin/busybox"
for applet in $("$dir/x/bin/busybox" --list); do [ "$applet" = busybox ] || ln -sf busybox "$dir/root/bin/$applet"; done
image "$helper" "$dir/root" 'CMD ["/bin/sh"]'
