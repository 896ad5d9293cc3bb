#!/usr/bin/env bash
# Debian's prometheus package (prometheus and promtool), pinned to the version bookworm serves
# (PROMETHEUS_DEB_VERSION), for the metrics, rules and monitoring-stack tests. Idempotent: a warm run
# only checks the installed version. No service is started: the tests start their own Prometheus.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
# Installed means "ii": a removed package keeps its version in dpkg's database ("rc").
installed=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' prometheus 2>/dev/null || true)
if [ "$installed" != "ii |$PROMETHEUS_DEB_VERSION" ]; then
  bash "$here/apt.sh" update -qq
  if ! apt-cache madison prometheus | grep -qF "| $PROMETHEUS_DEB_VERSION |"; then
    echo "[install-prometheus] apt does not serve prometheus=$PROMETHEUS_DEB_VERSION; it serves:" >&2
    apt-cache madison prometheus >&2
    echo "[install-prometheus] set PROMETHEUS_DEB_VERSION and PROMETHEUS_VERSION in tools/versions.env to one of them" >&2
    exit 1
  fi
  bash "$here/apt.sh" install -y -qq --no-install-recommends \
    "prometheus=$PROMETHEUS_DEB_VERSION" >/dev/null
fi
for tool in prometheus promtool; do
  if ! "$tool" --version 2>&1 | grep -qE "version ${PROMETHEUS_VERSION//./\\.}[+ ]"; then
    echo "[install-prometheus] $tool is not version $PROMETHEUS_VERSION: $("$tool" --version 2>&1 | head -1)" >&2
    exit 1
  fi
done
echo "prometheus $PROMETHEUS_VERSION: $(command -v prometheus), $(command -v promtool)"
