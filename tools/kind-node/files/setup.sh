#!/usr/bin/env bash
# Run inside the build container, once the node's files are in place: what kind's base image
# Dockerfile (images/base/Dockerfile, kind v0.33.0) does after installing its packages.
set -euo pipefail
chmod 755 /kind /kind/bin
find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete
rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
  /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
  /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >>/etc/systemd/journald.conf
ln -sf /usr/lib/systemd/systemd /sbin/init
systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
systemctl mask systemd-binfmt.service >/dev/null 2>&1
mkdir -p /etc/kubernetes/manifests /var/lib/kubelet
# containerd's base OCI spec, with kind's product-files hook and without rlimits.
ctr oci spec |
  jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
  jq 'del(.process.rlimits)' >/etc/containerd/cri-base.json
# The kubelet reads the drop-in folder (failCgroupV1: false).
sed -i 's|^KUBELET_EXTRA_ARGS=\(.*\)$|KUBELET_EXTRA_ARGS=\1 --config-dir=/etc/kubernetes/kubelet.conf.d|' /etc/default/kubelet
containerd --version
runc --version | sed -n 1p
kubelet --version
