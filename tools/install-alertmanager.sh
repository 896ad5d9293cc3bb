#!/usr/bin/env bash
# Builds Alertmanager (github.com/prometheus/alertmanager, cmd/alertmanager) from its Go module into
# the cache, keyed by version, for the monitoring-stack integration test
# (test/integration/monitoring.alerts.test.ts). Prints the binary's path (at once when it is there).
#
# Why not tools/go-tool.sh (`go install module@version`): the module zip lacks the web UI's built
# assets (ui/app/dist, made by npm at release time) that ui/web.go embeds, so `go install` fails with
# "pattern app/dist: no matching files found". The build copies the module's source out of the module
# cache, puts a one-line placeholder page in ui/app/dist, and builds cmd/alertmanager there with the
# module's own go.sum. The API, routing and receivers are untouched; only the web UI is a placeholder.
# Measured on 2 cores: 8.5 minutes cold (empty Go module and build caches; the downloads dominate),
# 2 minutes with the modules already downloaded, instant warm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
version=$ALERTMANAGER_VERSION
out="$cache/alertmanager/$version"
if [ -x "$out/alertmanager" ]; then echo "$out/alertmanager"; exit 0; fi
module=github.com/prometheus/alertmanager
src=$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "$module@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "[install-alertmanager] go mod download $module@$version gave no source folder" >&2; exit 1; }
build=$(mktemp -d)
trap 'chmod -R u+w "$build" 2>/dev/null; rm -rf "$build"' EXIT
cp -R "$src/." "$build/"
chmod -R u+w "$build"
for ui in elm mantine; do
  mkdir -p "$build/ui/app/dist/$ui"
  echo "<!doctype html><title>Alertmanager</title><p>Built without the web UI (tools/install-alertmanager.sh); use the API." \
    >"$build/ui/app/dist/$ui/index.html"
done
mkdir -p "$out"
(cd "$build" && GOTOOLCHAIN=local go build -trimpath -o "$out/alertmanager.tmp" ./cmd/alertmanager)
mv "$out/alertmanager.tmp" "$out/alertmanager"
"$out/alertmanager" --version >&2
echo "$out/alertmanager"
