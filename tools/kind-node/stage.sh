#!/usr/bin/env bash
# Lays out the kind node's own files in STAGE, to be unpacked over its root filesystem:
# kind's base-image files (from the sigs.k8s.io/kind module, with the modes its Dockerfile gives
# them), the binaries, /kind/version and /kind/manifests, the static CNI config and the kubelet's
# drop-in (files/).   stage.sh STAGE KIND_SRC KUBE_BIN_DIR PARTS
set -euo pipefail
stage=${1:?}; kind_src=${2:?}; kube=${3:?}; parts=${4:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../versions.env
source "$here/../versions.env"
part() { printf '%s\n' "$parts" | sed -n "s/^$1=//p"; }
f="$kind_src/images/base/files"
rm -rf "$stage"; mkdir -p "$stage"
cd "$stage"
install -D -m 0755 -t usr/local/bin "$f"/usr/local/bin/*
mkdir -p kind/bin kind/manifests etc/containerd etc/default etc/sysctl.d etc/systemd/system/kubelet.service.d
install -m 0644 "$f"/kind/README.txt kind/
install -m 0755 -t kind/bin "$f"/kind/bin/*
install -m 0644 "$f"/etc/crictl.yaml etc/
install -m 0644 "$f"/etc/containerd/config.toml etc/containerd/
install -m 0644 "$f"/etc/default/kubelet etc/default/
install -m 0644 -t etc/sysctl.d "$f"/etc/sysctl.d/*
install -m 0644 -t etc/systemd/system "$f"/etc/systemd/system/*.service "$f"/etc/systemd/system/*.slice
install -m 0644 -t etc/systemd/system/kubelet.service.d "$f"/etc/systemd/system/kubelet.service.d/*
# Binaries where kind's base and node images put them.
install -D -m 0755 -t usr/local/bin "$(part containerd)"/{containerd,containerd-shim-runc-v2,ctr} "$(part crictl)/crictl"
install -D -m 0755 "$(part runc)/runc" usr/local/sbin/runc
install -D -m 0755 -t opt/cni/bin "$(part cni-plugins)"/{bridge,loopback,ptp,host-local,portmap}
install -D -m 0755 -t usr/bin "$kube"/{kubelet,kubeadm,kubectl}
printf '%s' "$KUBERNETES_VERSION" >kind/version
# kind's default storage manifest (local-path-provisioner), as its node-image build writes it.
python3 - "$kind_src/pkg/build/nodeimage/const_storage.go" >kind/manifests/default-storage.yaml <<'PY'
# Evaluates the Go constant: raw strings joined with `+` to other string constants.
import re, sys
src = open(sys.argv[1]).read()
consts = dict(re.findall(r'^const (\w+) = "([^"]*)"', src, re.M))
i = src.index('const defaultStorageManifest = ') + len('const defaultStorageManifest = ')
out = []
while True:
    assert src[i] == '`', src[i:i + 40]
    j = src.index('`', i + 1)
    out.append(src[i + 1:j])
    m = re.match(r'\s*\+\s*(\w+)\s*\+\s*', src[j + 1:])
    if not m:
        break
    out.append(consts[m.group(1)])
    i = j + 1 + m.end()
print(''.join(out))
PY
install -m 0644 "$here/files/default-cni.yaml" kind/manifests/default-cni.yaml
install -D -m 0644 "$here/files/10-model-canary-bridge.conflist" etc/cni/net.d/10-model-canary-bridge.conflist
install -D -m 0644 "$here/files/50-model-canary.conf" etc/kubernetes/kubelet.conf.d/50-model-canary.conf
install -D -m 0755 "$here/files/setup.sh" kind/build/setup.sh
