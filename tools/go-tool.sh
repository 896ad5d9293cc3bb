#!/usr/bin/env bash
# Builds a Go command from its module into the cache, keyed by version, and prints the binary's
# path (at once when it is there already).
#   usage: tools/go-tool.sh NAME PACKAGE VERSION    e.g. kind sigs.k8s.io/kind v0.33.0
set -euo pipefail
name=$1 package=$2 version=$3
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
out="$cache/$name/$version"
if [ -x "$out/$name" ]; then echo "$out/$name"; exit 0; fi
mkdir -p "$out"
GOTOOLCHAIN=local GOBIN="$out" go install "$package@$version" >&2
echo "$out/$name"
