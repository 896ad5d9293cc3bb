#!/bin/sh
# Runs inside the MLServer image's build container (tools/images/build.sh), as root on the
# Debian root filesystem: the layout of seldonio/mlserver:<version>-sklearn, which the manifests
# run without a command of their own. Like that image: user `mlserver` (uid 1000) with its home
# and working directory /opt/mlserver, owned by 1000:0 and group-writable (MLServer keeps its
# metrics files in the working directory), and `mlserver` on PATH. The Python environment is a
# virtual environment of Debian's Python instead of conda.
#   /build/requirements.txt   the pinned packages (those of the local process runtime)
#   /build/constraints.txt    every other package they pull in, pinned
set -eu
useradd --uid 1000 --user-group --home-dir /opt/mlserver --no-create-home --shell /bin/sh mlserver
mkdir -p /opt/mlserver /mnt/models
python3 -m venv /opt/mlserver/venv
/opt/mlserver/venv/bin/pip install --no-input --disable-pip-version-check --progress-bar off \
  --requirement /build/requirements.txt --constraint /build/constraints.txt
# What the build container ran with, for the cache and the record (build.sh copies it out).
/opt/mlserver/venv/bin/pip freeze --all --disable-pip-version-check >/build-out/pip-freeze.txt
# The environment stays root's (read-only to the server); the working directory is the user's.
chown 1000:0 /opt/mlserver
chmod 0775 /opt/mlserver
# The Python of the image is the environment's.
/opt/mlserver/venv/bin/mlserver --help >/dev/null
