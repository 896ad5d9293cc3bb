#!/usr/bin/env bash
# Builds ghz (github.com/bojand/ghz), the gRPC load generator bench/routerGrpc.ts drives, from its
# Go module into the cache, keyed by version. Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
exec bash "$here/go-tool.sh" ghz github.com/bojand/ghz/cmd/ghz "$GHZ_VERSION"
