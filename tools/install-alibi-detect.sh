#!/usr/bin/env bash
# MLServer's Alibi Detect runtime (mlserver-alibi-detect) in its own virtual environment under the
# cache: the server that runs bring-your-own detectors (docs/drift.md#bring-your-own-detectors).
#
# Why its own environment: alibi-detect 0.13.0 (the newest) needs numpy < 2 and pandas < 3, while
# the sample models' environment pins numpy 2.4.6 and pandas 3.1.1 for scikit-learn 1.9.1.
# The same MLServer, 1.7.1, runs in both. mlserver-alibi-detect 1.6.1 (the newest) requires
# alibi-detect[tensorflow], which pulls TensorFlow (about 600 MB) that KSDrift (scipy) and the
# sklearn-backed detectors never import, so it is installed with --no-deps beside its other pins
# (mlserver, pydantic 2.7.1) and alibi-detect without extras. Detectors whose backend is
# TensorFlow or PyTorch (MMDDrift, most outlier detectors) need that framework added here.
#
# Idempotent: a complete environment is marked, and a warm run only checks the mark and the imports.
# The folder name must match alibiDetectEnvDir in src/runtime/alibiDetectEnv.ts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache="${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}"
python="${MODEL_CANARY_PYTHON:-python3}"
pyver=$("$python" -c 'import sys; print("%d%d" % sys.version_info[:2])')
dir="$cache/python/alibi-detect-$ALIBI_DETECT_VERSION-mlserver-$MLSERVER_VERSION-py$pyver"
check='import mlserver, mlserver_alibi_detect, alibi_detect.saving, alibi_detect.cd'
if [ -f "$dir/.complete" ] && "$dir/bin/python" -c "$check" 2>/dev/null; then
  echo "mlserver-alibi-detect $MLSERVER_ALIBI_DETECT_VERSION: ready in $dir"
  exit 0
fi
start=$(date +%s)
rm -rf "$dir"
mkdir -p "$cache/python"
"$python" -m venv "$dir"
"$dir/bin/pip" install --quiet --disable-pip-version-check \
  "mlserver==$MLSERVER_VERSION" "alibi-detect==$ALIBI_DETECT_VERSION" \
  "numpy==$ALIBI_DETECT_NUMPY_VERSION" "pandas==$ALIBI_DETECT_PANDAS_VERSION" \
  "pydantic==$ALIBI_DETECT_PYDANTIC_VERSION"
"$dir/bin/pip" install --quiet --disable-pip-version-check --no-deps \
  "mlserver-alibi-detect==$MLSERVER_ALIBI_DETECT_VERSION"
"$dir/bin/python" -c "$check"
touch "$dir/.complete"
echo "mlserver-alibi-detect $MLSERVER_ALIBI_DETECT_VERSION: installed in $dir in $(($(date +%s) - start)) s"
