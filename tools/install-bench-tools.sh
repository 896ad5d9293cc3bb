#!/usr/bin/env bash
# Debian's nginx-light and wrk for the benchmarks that compare the router with nginx
# (bench/routerVsNginx.ts), pinned to what bookworm serves (versions.env). Idempotent: a warm run
# only checks the versions. No nginx service is started: the bench runs its own, on loopback.
# Prints the two binaries' paths, one per line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
need=()
for pkg in "nginx-light=$NGINX_DEB_VERSION" "wrk=$WRK_DEB_VERSION"; do
  name=${pkg%%=*}
  installed=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' "$name" 2>/dev/null || true)
  [ "$installed" = "ii |${pkg#*=}" ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  bash "$here/apt.sh" update -qq
  # policy-rc.d answers 101: the package must not start nginx on port 80.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  bash "$here/apt.sh" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v nginx >/dev/null || { echo "[install-bench-tools] nginx is not on PATH after installing nginx-light" >&2; exit 1; }
command -v wrk >/dev/null || { echo "[install-bench-tools] wrk is not on PATH after installing it" >&2; exit 1; }
command -v nginx
command -v wrk
