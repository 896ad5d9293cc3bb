#!/usr/bin/env bash
# Builds vegeta (github.com/tsenart/vegeta), the open-loop HTTP load generator of
# `bench/routerVsNginx.ts --open-loop`, from its Go module into the cache, keyed by version.
# Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
exec bash "$here/go-tool.sh" vegeta github.com/tsenart/vegeta/v12 "$VEGETA_VERSION"
