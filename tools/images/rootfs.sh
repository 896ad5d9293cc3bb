#!/usr/bin/env bash
# A Debian root filesystem as a tarball, built offline with debootstrap from the Debian archive
# apt uses here, cached by suite, variant and package list:
#   tools/images/rootfs.sh NAME PACKAGES [VARIANT]   (PACKAGES comma-separated; VARIANT default minbase)
# prints the tarball's path on its last line. A rootfs is what `docker import` turns into an image
# (tools/images/*.sh, tools/kind-node/build.sh) — no registry is reachable, so no base image is
# pulled. Installs debootstrap when it is missing.
set -euo pipefail
name=${1:?usage: rootfs.sh NAME PACKAGES [VARIANT]}
packages=${2:?usage: rootfs.sh NAME PACKAGES [VARIANT]}
variant=${3:-minbase}
suite=${MODEL_CANARY_DEBIAN_SUITE:-bookworm}
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
say() { printf '[rootfs %s] %s\n' "$name" "$*" >&2; }

# The archive apt uses here (deb822 sources or sources.list), so the same mirror serves both.
mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/* /etc/apt/sources.list 2>/dev/null |
  head -1 | awk '{print $2}' || true)
mirror=${mirror:-http://deb.debian.org/debian}

key=$(printf '%s\n' 1 "$suite" "$variant" "$packages" | sha256sum | cut -c1-12)
out="$cache/rootfs/$name-$suite-$key.tar"
if [ -s "$out" ]; then say "cached: $out"; echo "$out"; exit 0; fi
mkdir -p "$cache/rootfs"
exec 8>"$out.lock"
flock -w 1800 8 || { echo "[rootfs $name] another build holds $out.lock" >&2; exit 1; }
if [ -s "$out" ]; then echo "$out"; exit 0; fi

if ! command -v debootstrap >/dev/null 2>&1; then
  say "apt-get install debootstrap"
  apt=$(cd "$(dirname "$0")/.." && pwd)/apt.sh
  bash "$apt" install -y -qq debootstrap >/dev/null 2>&1 ||
    { bash "$apt" update -qq && bash "$apt" install -y -qq debootstrap >/dev/null; }
fi
dir=$(mktemp -d "$cache/rootfs/.build-$name-XXXX")
trap 'rm -rf "$dir"' EXIT
say "debootstrap --variant=$variant $suite from $mirror (log: $out.log)"
start=$(date +%s)
if ! $sudo debootstrap --variant="$variant" --include="$packages" "$suite" "$dir" "$mirror" >"$out.log" 2>&1; then
  tail -20 "$out.log" >&2
  echo "[rootfs $name] debootstrap failed; the whole log is $out.log" >&2
  exit 1
fi
# Nothing of the build machine's apt cache or of debootstrap's own bookkeeping in the image.
$sudo rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/debootstrap
$sudo tar --numeric-owner -C "$dir" -cf "$out.tmp" .
mv "$out.tmp" "$out"
say "built in $(($(date +%s) - start)) s: $(du -h "$out" | cut -f1)"
echo "$out"
