#!/usr/bin/env bash
# tritonclient[grpc,http] from PyPI, pinned, in its own virtual environment under the cache: the
# Python V2 clients the router's integration tests send requests with (test/harness/v2_clients.py).
# Idempotent: a complete environment is marked, and a warm run only checks the mark and the imports.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache="${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}"
python="${MODEL_CANARY_PYTHON:-python3}"
pyver=$("$python" -c 'import sys; print("%d%d" % sys.version_info[:2])')
dir="$cache/python/tritonclient-$TRITONCLIENT_VERSION-numpy-$TRITONCLIENT_NUMPY_VERSION-py$pyver"
if [ -f "$dir/.complete" ] && "$dir/bin/python" -c 'import tritonclient.grpc, tritonclient.http' 2>/dev/null; then
  echo "tritonclient $TRITONCLIENT_VERSION: ready in $dir"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$cache/python"
"$python" -m venv "$dir"
"$dir/bin/pip" install --quiet --disable-pip-version-check \
  "tritonclient[grpc,http]==$TRITONCLIENT_VERSION" "numpy==$TRITONCLIENT_NUMPY_VERSION"
"$dir/bin/python" -c 'import tritonclient.grpc, tritonclient.http'
touch "$dir/.complete"
echo "tritonclient $TRITONCLIENT_VERSION: installed in $dir"
