#!/usr/bin/env bash
# apt-get for provisioning, one at a time:
#   tools/apt.sh ARGS...   (as `apt-get ARGS`, through sudo when not root, noninteractive)
# Provisioning runs apt in parallel parts (the kind node image builds in the background while the
# rest installs, and the two root filesystems build side by side), and two apt-gets at once fail
# on dpkg's lock ("Could not get lock /var/lib/dpkg/lock-frontend"). Ours queue on one lock in the
# cache; any other apt process's lock is waited out (DPkg::Lock::Timeout) instead of failing.
set -euo pipefail
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
mkdir -p "$cache/provision"
lock="$cache/provision/apt.lock"
exec 7>"$lock"
if ! flock -w 1800 7; then
  echo "[apt] another provisioning step has held apt for 30 minutes ($lock); is an apt-get stuck?" >&2
  exit 1
fi
sudo=()
# `download` writes to the current folder and needs no root.
if [ "$(id -u)" -ne 0 ] && [ "${1:-}" != download ]; then sudo=(sudo); fi
# 7>&-: whatever apt starts (a package's daemon) does not inherit the lock.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@" 7>&-
