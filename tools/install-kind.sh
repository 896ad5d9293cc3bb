#!/usr/bin/env bash
# Builds the real kind binary from Go modules into the cache, keyed by version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
exec bash "$here/go-tool.sh" kind sigs.k8s.io/kind "$KIND_VERSION"
