#!/usr/bin/env bash
# Docker on the test machine, idempotently: installs Debian's docker.io when there is no dockerd,
# and starts dockerd (overlay2) when none answers. CI ends every process of the previous session,
# dockerd included, so this starts it itself: in the background, in its own session, logging to
# $MODEL_CANARY_CACHE/docker/dockerd.log, and waits until `docker info` answers.
#
# Where the capability bounding set lacks a capability that Docker gives privileged containers
# (these Firecracker VMs lack CAP_SYS_RESOURCE, so runc fails every --privileged container and
# so every kind node), dockerd gets the OCI runtime shim of tools/oci-shim as its default runtime
# (`--add-runtime mc-shim=PATH --default-runtime mc-shim`). Where the set is complete it never
# does. It says which. The shim is built from its Go source into the cache, keyed by
# OCI_SHIM_VERSION and the source. A dockerd it did not start is left alone.
#
# Last, a privileged container (an image of one static binary, made with `docker import`) must
# run: what kind's node containers need.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${MODEL_CANARY_CACHE:-$HOME/.cache/model-canary}
state="$cache/docker"
log="$state/dockerd.log"
timeout=${MODEL_CANARY_DOCKER_TIMEOUT:-120}
# The machine's own daemon on the default socket, whatever the caller's environment points at.
unset DOCKER_HOST DOCKER_CONTEXT
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
say() { printf '[docker] %s\n' "$*"; }
die() {
  printf '[docker] error: %s\n' "$*" >&2
  exit 1
}
if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
mkdir -p "$state"
# One run at a time (two provisioning runs would both start a dockerd). dockerd must not inherit fd 9.
exec 9>"$state/lock"
flock -w 600 9 || die "another tools/docker.sh still runs after 10 minutes ($state/lock)"

# --- Debian's docker.io (dockerd, containerd, runc, the docker client) when dockerd is missing.
if ! command -v dockerd >/dev/null 2>&1 && ! [ -x /usr/sbin/dockerd ]; then
  export DEBIAN_FRONTEND=noninteractive
  updated=
  if ! apt-cache policy docker.io 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    bash "$here/apt.sh" update -qq
    updated=1
  fi
  # The package must not start a dockerd of its own (without the shim): deny service starts
  # during the install unless the machine already has a policy.
  policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    policy=1
  fi
  say "apt-get install docker.io (log: $state/apt.log)"
  apt_install() { bash "$here/apt.sh" install -y -qq --no-install-recommends docker.io >"$state/apt.log" 2>&1; }
  installed=
  apt_install && installed=1
  if [ -z "$installed" ] && [ -z "$updated" ]; then bash "$here/apt.sh" update -qq && apt_install && installed=1; fi
  [ -z "$policy" ] || $sudo rm -f /usr/sbin/policy-rc.d
  if [ -z "$installed" ]; then
    tail -n 20 "$state/apt.log" >&2
    die "apt-get install docker.io failed (log: $state/apt.log)"
  fi
fi
PATH="$PATH:/usr/sbin:/sbin"

# --- The capabilities this machine's bounding set lacks (bit n of CapBnd = capability n).
bounding=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
last_cap=$(cat /proc/sys/kernel/cap_last_cap 2>/dev/null || echo 40)
missing=$((((1 << (last_cap + 1)) - 1) & ~bounding))

# --- The shim (built always: it is also the check's payload; registered only where needed).
src="$here/oci-shim"
sum=$(cat "$src/go.mod" "$src"/*.go | sha256sum | cut -c1-12)
shim_dir="$cache/oci-shim/$OCI_SHIM_VERSION-$sum"
shim="$shim_dir/mc-shim"
if [ ! -x "$shim" ]; then
  say "building the OCI runtime shim ($OCI_SHIM_VERSION-$sum)"
  mkdir -p "$shim_dir"
  (cd "$src" && go test ./... >/dev/null && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$shim.tmp" .) ||
    die "building tools/oci-shim failed"
  mv "$shim.tmp" "$shim"
fi
args=(--storage-driver overlay2)
if [ "$missing" -ne 0 ]; then
  lacks=$("$shim" --mc-shim-info | sed -n 's/^drops: //p')
  say "the capability bounding set lacks $lacks: dockerd gets the OCI runtime shim mc-shim ($shim), which drops it from containers' capability lists"
  args+=(--add-runtime "mc-shim=$shim" --default-runtime mc-shim)
else
  say "the capability bounding set is complete: no runtime shim, dockerd runs runc as it is"
fi

hint=
docker_info() { timeout 15 docker info --format "$1" 2>/dev/null; }
# Whether pid $1 is a live process named $2. Killed daemons can linger as zombies (PID 1 here does
# not reap orphans): those count as gone.
alive() { [ -n "$1" ] && ps -o stat=,comm= -p "$1" 2>/dev/null | awk -v n="$2" '$2 == n && $1 !~ /^Z/ {f = 1} END {exit !f}'; }
# The live (not zombie) dockerd processes.
live_dockerd() { ps -eo pid=,stat=,comm= | awk '$3 == "dockerd" && $2 !~ /^Z/ {print $1}' | paste -sd ' '; }
# The dockerd this script started, if it still runs.
ours=$(cat "$state/dockerd.pid" 2>/dev/null || true)
alive "$ours" dockerd || ours=

stop_ours() {
  say "stopping the dockerd this script started (pid $ours) to restart it with: ${args[*]}"
  $sudo kill -TERM "$ours"
  for _ in $(seq 1 60); do
    alive "$ours" dockerd || break
    sleep 0.5
  done
  alive "$ours" dockerd && die "dockerd (pid $ours) did not stop within 30 s"
  rm -f "$state/dockerd.pid"
  ours=
}

start_dockerd() {
  # A killed dockerd leaves pid files; one naming a live process of another kind blocks a start.
  local pidfile pid
  for pidfile in /var/run/docker.pid:dockerd /var/run/docker/containerd/containerd.pid:containerd; do
    pid=$(cat "${pidfile%%:*}" 2>/dev/null || true)
    if [ -n "$pid" ] && ! alive "$pid" "${pidfile##*:}"; then $sudo rm -f "${pidfile%%:*}"; fi
  done
  [ -f "$log" ] && mv -f "$log" "$log.1"
  say "starting dockerd ${args[*]} (log: $log)"
  $sudo setsid dockerd "${args[@]}" </dev/null >"$log" 2>&1 9>&- &
  wait_for_dockerd $!
  cat /var/run/docker.pid >"$state/dockerd.pid"
  ours=$(cat "$state/dockerd.pid")
}

# Waits until `docker info` answers, while pid $1 lives, for at most $timeout seconds.
wait_for_dockerd() {
  local waited=0
  until docker_info '{{.ServerVersion}}' >/dev/null; do
    if ! alive "$1" dockerd && ! alive "$1" sudo; then
      tail -n 20 "$log" >&2
      die "dockerd exited during start-up (log: $log)"
    fi
    if [ "$waited" -ge "$timeout" ]; then
      tail -n 20 "$log" >&2
      die "dockerd (pid $1) did not answer \`docker info\` within ${timeout} s (log: $log)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

if version=$(docker_info '{{.ServerVersion}}'); then
  runtime=$(docker_info '{{.DefaultRuntime}}')
  runtime_path=$(docker_info '{{with index .Runtimes "mc-shim"}}{{.Path}}{{end}}')
  driver=$(docker_info '{{.Driver}}')
  # Fits: the shim is the default runtime (at this build's path) exactly where it is needed.
  fits=
  if [ "$missing" -ne 0 ]; then
    [ "$runtime" = mc-shim ] && [ "$runtime_path" = "$shim" ] && fits=1
  else
    [ "$runtime" != mc-shim ] && fits=1
  fi
  if [ -n "$ours" ] && { [ -z "$fits" ] || [ "$driver" != overlay2 ]; }; then
    stop_ours
    start_dockerd
  elif [ -z "$fits" ]; then
    hint="a dockerd this script did not start runs (server $version, default runtime $runtime) and it is left alone: stop it and run this again"
    say "warning: $hint"
  else
    say "dockerd already running (server $version, $driver, default runtime $runtime)"
  fi
elif [ -n "$(live_dockerd)" ]; then
  # Still starting, perhaps: wait for it, then check again from the top.
  say "a dockerd runs (pid $(live_dockerd)) but does not answer yet: waiting up to ${timeout} s"
  wait_for_dockerd "$(live_dockerd | cut -d' ' -f1)"
  exec 9>&-
  exec bash "$0" "$@"
else
  start_dockerd
fi
say "dockerd: server $(docker_info '{{.ServerVersion}}'), $(docker_info '{{.Driver}}'), default runtime $(docker_info '{{.DefaultRuntime}}'), pid ${ours:-(not ours)}"

# --- kind's known issue: its nodes exhaust the default inotify limits. The doctor warns below these.
for kv in max_user_watches=524288 max_user_instances=512; do
  file=/proc/sys/fs/inotify/${kv%=*} want=${kv#*=}
  have=$(cat "$file" 2>/dev/null || echo "$want")
  if [ "$have" -lt "$want" ]; then
    if echo "$want" | $sudo tee "$file" >/dev/null 2>&1; then
      say "raised fs.inotify.${kv%=*} from $have to $want"
    else
      say "warning: could not raise fs.inotify.${kv%=*} ($have, kind wants $want)"
    fi
  fi
done

# --- The check: a privileged container runs (the shim binary as its only file, named mc-shim-check).
image="model-canary/privileged-check:$OCI_SHIM_VERSION-$sum"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  # Images of earlier shim builds go.
  docker images --format '{{.Repository}}:{{.Tag}}' "${image%%:*}" | xargs -r docker rmi >/dev/null 2>&1 || true
  tmp=$(mktemp -d)
  cp "$shim" "$tmp/mc-shim-check"
  tar -C "$tmp" -c mc-shim-check | docker import - "$image" >/dev/null
  rm -rf "$tmp"
fi
if ! out=$(timeout 60 docker run --rm --privileged "$image" /mc-shim-check 2>&1); then
  printf '%s\n' "$out" >&2
  die "a privileged container does not run${hint:+ ($hint)} (dockerd log: $log)"
fi
say "privileged container: ${out#mc-shim-check ok: }"
