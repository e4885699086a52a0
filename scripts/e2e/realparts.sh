#!/usr/bin/env bash
# Real parts for platformctl's end-to-end tests, all private to one directory DIR:
#   - two Docker engines (e1, e2), each with its own containerd, socket, data root and exec
#     root; no bridge, no iptables, no ip_forward change: the machine's own Docker daemon, its
#     /var/run/docker.sock, /run/containerd/containerd.sock and docker0 are never used;
#   - one registry (Debian's docker-registry) on 127.0.0.1:<free port>, storage under DIR;
#   - sshd on 127.0.0.1:<free port> with generated host and client keys, plus an ssh client
#     config DIR/ssh_config (hosts e2e-host, e2e-closed, e2e-silent) and DIR/known_hosts;
#   - a closed port (nobody listens) and a silent host (accepts TCP, never speaks);
#   - images built from busybox-static with `docker import`, pushed to the registry and pulled
#     back so their RepoDigests are real (see "Images" below).
#
# Usage:
#   realparts.sh up DIR      start everything, write DIR/env (sourceable KEY=value lines)
#   realparts.sh down DIR    stop everything by pid, unmount what is under DIR, remove DIR
#                            (safe to repeat, and after a partial or failed `up`)
#
# DIR must be short (unix socket paths are limited to ~100 bytes), absolute, and either absent
# or empty, e.g. DIR=$(mktemp -d /tmp/pc-XXXXXX).
#
# Environment knobs:
#   E2E_TIMEOUT=30          seconds each part may take to come up
#   E2E_STORAGE_DRIVER=vfs  dockerd storage driver (overlay2 also works on this kind of machine;
#                           vfs works everywhere, including inside containers, and the images
#                           are tiny)
#   DOCKER=docker           docker CLI to use
#
# Images (REG = 127.0.0.1:<registry port>; all pulled from the registry on both engines unless
# said otherwise):
#   REG/honcho-api:3.0.3          RepoDigests [REG/honcho-api@DIGEST_API_303]
#   REG/honcho-api:3.0.6          RepoDigests [REG/honcho-api@DIGEST_API_306]
#   REG/honcho-worker:1.4.2       also pushed as REG/aaa-mirror/honcho-worker:1.4.2 and reachable
#                                 through a manifest list REG/honcho-worker:1.4.2-index, so its
#                                 RepoDigests has three entries, sorted lexically, the mirror's
#                                 first: [REG/aaa-mirror/honcho-worker@DIGEST_WORKER,
#                                 REG/honcho-worker@DIGEST_WORKER, REG/honcho-worker@DIGEST_WORKER_INDEX]
#                                 (the last two in hex order)
#   REG/honcho-web:1.0            single-digest image meant for "tag moved" tests: build another
#                                 image and `docker tag` it over this tag while a container still
#                                 runs the old one (smoke.sh shows how)
#   home-platform/local-tool:dev  imported on each engine, never pushed: RepoDigests []
# Every image holds /bin/busybox with the applets as symlinks (sh, sleep, true, ...) and
# /etc/image-version, and has CMD ["/bin/sh"]; honcho-api says where its source lives in
# `org.opencontainers.image.source`, honcho-worker in `org.label-schema.vcs-url`. The engines
# have no bridge network: run containers with `--network none` (or host).
#
# DIR/env keys:
#   E2E_DIR                      DIR
#   E1_SOCK, E2_SOCK             engine sockets (paths); E1_HOST, E2_HOST the same as unix://...
#   REGISTRY                     127.0.0.1:PORT of the registry (plain HTTP, trusted as insecure
#                                by the engines because it is on 127.0.0.0/8)
#   SSH_HOST, SSH_CLOSED_HOST, SSH_SILENT_HOST
#                                ssh_config aliases e2e-host (the sshd), e2e-closed (CLOSED_PORT),
#                                e2e-silent (SILENT_PORT); all User root, key auth only
#   SSH_PORT, SSH_CONFIG, SSH_KEY, KNOWN_HOSTS
#                                sshd port, DIR/ssh_config, client private key, DIR/known_hosts
#                                (holds [127.0.0.1]:SSH_PORT's host key; StrictHostKeyChecking yes)
#   CLOSED_PORT, SILENT_PORT     nobody listens / accepts and never speaks
#   DOCKER_CONFIG                a private docker CLI config dir (export it to keep ~/.docker out)
#   E1_PID, E2_PID, E1_CONTAINERD_PID, E2_CONTAINERD_PID, REGISTRY_PID, SSHD_PID, SILENT_PID
#   IMG_API_303, IMG_API_306, IMG_WORKER, IMG_WORKER_MIRROR, IMG_WORKER_INDEX, IMG_WEB, IMG_LOCAL
#                                the image references above
#   DIGEST_API_303, DIGEST_API_306, DIGEST_WORKER, DIGEST_WORKER_INDEX, DIGEST_WEB
#                                manifest digests in the registry (sha256:...)
#   IMAGE_ID_API_303, IMAGE_ID_API_306, IMAGE_ID_WORKER, IMAGE_ID_WEB
#                                image IDs (the same on both engines: they were pulled)
#   IMAGE_ID_LOCAL_E1, IMAGE_ID_LOCAL_E2   the local image's ID on each engine (they differ)
set -euo pipefail

PROG=realparts
TIMEOUT=${E2E_TIMEOUT:-30}
STORAGE_DRIVER=${E2E_STORAGE_DRIVER:-vfs}
DOCKER=${DOCKER:-docker}
MARKER=.platformctl-realparts
ENGINES=(e1 e2)

T0=${EPOCHREALTIME/./}
log() {
  local us=$((${EPOCHREALTIME/./} - T0))
  printf '%s [+%d.%01ds] %s\n' "$PROG" $((us / 1000000)) $((us % 1000000 / 100000)) "$*" >&2
}
die() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
# process helpers

# pid_is_ours PID: the process exists and its command line mentions a path under DIR (guards
# against recycled pids: every process this script starts carries DIR/... in its arguments).
pid_is_ours() {
  local pid=$1 cmd
  if [ -z "$pid" ] || [ ! -r "/proc/$pid/cmdline" ]; then return 1; fi
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$DIR/"* ]]
}

# alive PID: the process exists and is not a zombie (a child of this shell that has exited
# stays a zombie until reaped, e.g. when `down` runs from a failed `up`).
alive() {
  local st
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
  st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# descendants PID: all descendant pids of PID (children first, then theirs).
descendants() {
  local kids k
  kids=$(ps -o pid= --ppid "$1" 2>/dev/null || true)
  for k in $kids; do
    echo "$k"
    descendants "$k"
  done
}

# stop_pid NAME PID GRACE: SIGTERM, wait up to GRACE seconds, then SIGKILL; also ends the
# process's descendants that outlive it (e.g. sshd session processes).
stop_pid() {
  local name=$1 pid=$2 grace=$3 kids i k
  alive "$pid" || return 0
  kids=$(descendants "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    log "$name (pid $pid) ignored SIGTERM for ${grace}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
  fi
  for k in $kids; do
    if alive "$k"; then kill -KILL "$k" 2>/dev/null || true; fi
  done
}

# start_bg NAME CMD...: start CMD in the background in its own session, output to
# DIR/logs/NAME.log, pid recorded in DIR/pids/NAME.pid at once (so `down` finds it even if
# `up` dies right after).
start_bg() {
  local name=$1
  shift
  setsid "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 9>&- &
  local pid=$!
  echo "$pid" >"$DIR/pids/$name.pid"
  log "started $name (pid $pid)"
}

pid_of() { cat "$DIR/pids/$1.pid" 2>/dev/null || true; }

fail_part() {
  local name=$1 why=$2
  printf '%s: ERROR: %s %s\n' "$PROG" "$name" "$why" >&2
  if [ -f "$DIR/logs/$name.log" ]; then
    printf -- '----- last lines of %s -----\n' "$DIR/logs/$name.log" >&2
    tail -n 30 "$DIR/logs/$name.log" >&2 || true
    printf -- '-----\n' >&2
  fi
  exit 1
}

# wait_for NAME CMD...: poll CMD every 0.1 s until it succeeds; fail (with the part's log tail)
# if the part's process exits or TIMEOUT passes.
wait_for() {
  local name=$1 pid deadline
  shift
  pid=$(pid_of "$name")
  deadline=$(($(date +%s) + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! alive "$pid"; then fail_part "$name" "exited before it was ready"; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then fail_part "$name" "not ready after ${TIMEOUT}s"; fi
    sleep 0.1
  done
  log "$name ready"
}

# free_ports N: N distinct free TCP ports on 127.0.0.1 (all bound at once, then released).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

dk() { # dk ENGINE ARGS...: the docker CLI against one of our engines (bounded by TIMEOUT)
  local e=$1
  shift
  timeout "$TIMEOUT" "$DOCKER" -H "unix://$DIR/$e/docker.sock" "$@"
}

# ---------------------------------------------------------------------------------------------
# parts

start_engine_containerd() {
  local e=$1 d=$DIR/$1
  mkdir -p "$d/ctd/root" "$d/ctd/state" "$d/ctd/opt"
  cat >"$d/containerd.toml" <<EOF
version = 2
root = "$d/ctd/root"
state = "$d/ctd/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "$d/containerd.sock"

[ttrpc]
  address = "$d/containerd.sock.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$d/ctd/opt"
EOF
  start_bg "$e-containerd" containerd --config "$d/containerd.toml"
}

start_engine_dockerd() {
  local e=$1 d=$DIR/$1
  mkdir -p "$d/data" "$d/exec"
  # Our own daemon.json keeps /etc/docker/daemon.json out. dockerd before 23.0 writes a libtrust
  # key to /etc/docker/key.json unless this (config-file only) key says otherwise; newer
  # dockerd accepts and ignores it.
  printf '{"deprecated-key-path": "%s/key.json"}\n' "$d" >"$d/daemon.json"
  start_bg "$e-dockerd" dockerd \
    --host "unix://$d/docker.sock" \
    --containerd "$d/containerd.sock" \
    --data-root "$d/data" \
    --exec-root "$d/exec" \
    --pidfile "$d/docker.pid" \
    --config-file "$d/daemon.json" \
    --storage-driver "$STORAGE_DRIVER" \
    --cgroup-parent "/$(cgroup_parent "$e")" \
    --bridge none \
    --iptables=false \
    --ip6tables=false \
    --ip-forward=false \
    --ip-masq=false \
    --userland-proxy=false \
    --shutdown-timeout 5 \
    --log-level info
}

# cgroup_parent ENGINE: this run's own parent cgroup for ENGINE's containers (instead of the
# shared /docker), so that `down` can remove it.
cgroup_parent() { echo "platformctl-e2e-$(basename "$DIR")-$1"; }

start_registry() {
  mkdir -p "$DIR/registry/data"
  cat >"$DIR/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DIR/registry/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$REG_PORT
EOF
  start_bg registry docker-registry serve "$DIR/registry/config.yml"
}

start_sshd() {
  local s=$DIR/ssh sshd_bin
  sshd_bin=$(command -v sshd || echo /usr/sbin/sshd)
  mkdir -p "$s" /run/sshd
  chmod 0755 /run/sshd
  ssh-keygen -q -t ed25519 -N '' -C "platformctl-e2e-host" -f "$s/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C "platformctl-e2e-client" -f "$s/id_ed25519"
  cp "$s/id_ed25519.pub" "$s/authorized_keys"
  chmod 0600 "$s/host_ed25519" "$s/id_ed25519" "$s/authorized_keys"
  cat >"$s/sshd_config" <<EOF
# platformctl e2e sshd ($DIR)
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $s/host_ed25519
PidFile $s/sshd.pid
AuthorizedKeysFile $s/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
StreamLocalBindUnlink yes
X11Forwarding no
PrintMotd no
PrintLastLog no
MaxSessions 64
MaxStartups 64:30:128
LogLevel VERBOSE
EOF
  "$sshd_bin" -t -f "$s/sshd_config" || die "sshd rejects $s/sshd_config"
  start_bg sshd "$sshd_bin" -D -e -f "$s/sshd_config"

  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$s/host_ed25519.pub")" >"$DIR/known_hosts"
  local alias port
  : >"$DIR/ssh_config"
  for alias in e2e-host e2e-closed e2e-silent; do
    case $alias in
      e2e-host) port=$SSH_PORT ;;
      e2e-closed) port=$CLOSED_PORT ;;
      e2e-silent) port=$SILENT_PORT ;;
    esac
    cat >>"$DIR/ssh_config" <<EOF
Host $alias
  HostName 127.0.0.1
  Port $port
  User root
  IdentityFile $s/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $DIR/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR

EOF
  done
}

start_silent() {
  # Accepts every TCP connection and holds it open without ever sending a byte: an SSH
  # client waits for the server banner until its ConnectTimeout.
  start_bg silent python3 -c '
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[2])))
s.listen(128)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
' "$DIR/silent" "$SILENT_PORT"
}

ssh_ok() { ssh -F "$DIR/ssh_config" -o ConnectTimeout=2 e2e-host true; }
port_listening() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1"; }
registry_ok() { curl -fsS -m 2 "http://$REGISTRY/v2/" >/dev/null; }
engine_ok() { curl -fsS -m 2 --unix-socket "$DIR/$1/docker.sock" http://d/_ping >/dev/null; }
containerd_ok() { [ -S "$DIR/$1/containerd.sock" ]; }

# ---------------------------------------------------------------------------------------------
# images

make_rootfs() { # make_rootfs DEST VERSION
  local r=$1 a bb
  bb=/bin/busybox
  [ -x "$bb" ] || bb=$(command -v busybox) || die "no busybox: run scripts/e2e/install-deps.sh"
  case "$(ldd "$bb" 2>&1 || true)" in
    *'not a dynamic executable'* | *'statically linked'*) ;;
    *) die "$bb is dynamically linked; images need busybox-static (scripts/e2e/install-deps.sh)" ;;
  esac
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev"
  cp "$bb" "$r/bin/busybox"
  for a in sh sleep true false cat echo ls env id ps wget nc printf hostname top kill; do
    ln -sf busybox "$r/bin/$a"
  done
  echo "$2" >"$r/etc/image-version"
  chmod 1777 "$r/tmp"
}

import_image() { # import_image ENGINE REF VERSION [SOURCE-LABEL]: SOURCE-LABEL is `key=url`
  local r=$DIR/rootfs/$3 source=()
  [ -d "$r" ] || make_rootfs "$r" "$3"
  [ -z "${4:-}" ] || source=(--change "LABEL $4")
  tar --numeric-owner --owner=0 --group=0 -C "$r" -c . |
    dk "$1" import --change 'CMD ["/bin/sh"]' --change "LABEL org.opencontainers.image.version=$3" "${source[@]}" - "$2" >/dev/null
}

manifest_digest() { # manifest_digest REPO TAG [ACCEPT]: the registry's digest of a manifest
  curl -fsS -m 5 -o /dev/null -D - \
    -H "Accept: ${3:-application/vnd.docker.distribution.manifest.v2+json}" \
    "http://$REGISTRY/v2/$1/manifests/$2" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}'
}

push_index() { # push_index REPO TAG NEWTAG: a manifest list holding REPO:TAG, pushed as NEWTAG
  local repo=$1 tag=$2 newtag=$3 hdr digest size arch body
  hdr=$(curl -fsS -m 5 -o /dev/null -D - -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/$repo/manifests/$tag" | tr -d '\r')
  digest=$(awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}' <<<"$hdr")
  size=$(awk -F': ' 'tolower($1)=="content-length"{print $2}' <<<"$hdr")
  arch=$(dk e1 version --format '{{.Server.Arch}}')
  body=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":%s,"digest":"%s","platform":{"architecture":"%s","os":"linux"}}]}' "$size" "$digest" "$arch")
  curl -fsS -m 5 -o /dev/null -X PUT \
    -H 'Content-Type: application/vnd.docker.distribution.manifest.list.v2+json' \
    --data-binary "$body" "http://$REGISTRY/v2/$repo/manifests/$newtag"
}

build_images() {
  local r=$REGISTRY e ref
  local pushed=("$r/honcho-api:3.0.3" "$r/honcho-api:3.0.6" "$r/honcho-worker:1.4.2" "$r/honcho-web:1.0")
  local versions=(3.0.3 3.0.6 1.4.2 web-1.0)
  # Where each image says its source lives (metadata derive --from live fills source.url).
  local sources=(
    org.opencontainers.image.source=https://github.com/example/honcho-api
    org.opencontainers.image.source=https://github.com/example/honcho-api
    org.label-schema.vcs-url=https://github.com/example/honcho-worker
    ''
  )
  local i jobs_=()
  make_rootfs "$DIR/rootfs/local-dev" local-dev
  for i in "${!pushed[@]}"; do
    import_image e1 "${pushed[$i]}" "${versions[$i]}" "${sources[$i]}" &
    jobs_+=($!)
  done
  wait_pids "image imports" "${jobs_[@]}"
  jobs_=()
  for ref in "${pushed[@]}"; do
    dk e1 push -q "$ref" >/dev/null &
    jobs_+=($!)
  done
  wait_pids "image pushes" "${jobs_[@]}"
  jobs_=()
  dk e1 tag "$r/honcho-worker:1.4.2" "$r/aaa-mirror/honcho-worker:1.4.2"
  dk e1 push -q "$r/aaa-mirror/honcho-worker:1.4.2" >/dev/null
  push_index honcho-worker 1.4.2 1.4.2-index
  log "images pushed to $r"

  # Forget the pushed images, then pull them back: RepoDigests now come from a real pull.
  dk e1 rmi "${pushed[@]}" "$r/aaa-mirror/honcho-worker:1.4.2" >/dev/null
  local pulls=("${pushed[@]}" "$r/aaa-mirror/honcho-worker:1.4.2" "$r/honcho-worker:1.4.2-index")
  for e in "${ENGINES[@]}"; do
    for ref in "${pulls[@]}"; do
      dk "$e" pull -q "$ref" >/dev/null &
      jobs_+=($!)
    done
    import_image "$e" home-platform/local-tool:dev local-dev &
    jobs_+=($!)
  done
  wait_pids "image pulls" "${jobs_[@]}"
  log "images pulled on ${ENGINES[*]}"
}

# wait_pids WHAT PID...: wait for these background jobs (never a bare `wait`: the parts
# started by `up` are children of this shell too); fail if any failed.
wait_pids() {
  local what=$1 failed=0 j
  shift
  for j in "$@"; do
    wait "$j" || failed=1
  done
  [ "$failed" -eq 0 ] || die "$what failed"
}

# ---------------------------------------------------------------------------------------------
# up / down

check_dir() {
  [ -n "${DIR:-}" ] || usage
  case $DIR in /*) ;; *) die "DIR must be an absolute path: $DIR" ;; esac
  DIR=${DIR%/}
  if [ -z "$DIR" ] || [ "$DIR" = / ]; then die "refusing DIR=/"; fi
  # longest socket path: DIR/e1/containerd.sock.ttrpc (unix socket paths max 107 bytes)
  [ "${#DIR}" -le 60 ] || die "DIR is too long for unix socket paths (${#DIR} > 60 bytes): $DIR"
}

on_up_exit() {
  local rc=$?
  # A signal may land while a command runs with its output sent to /dev/null: the trap would
  # inherit that redirection, so say what happens on the saved stderr.
  exec 2>&9
  if [ "$rc" -ne 0 ]; then
    echo "$PROG: up failed (exit $rc), cleaning up $DIR" >&2
    cmd_down || true
  fi
}

cmd_up() {
  check_dir
  if [ -e "$DIR" ]; then
    [ -d "$DIR" ] || die "$DIR exists and is not a directory"
    [ -z "$(ls -A "$DIR")" ] || die "$DIR is not empty (already up? run: $0 down $DIR)"
  fi
  local c
  for c in containerd dockerd docker-registry python3 curl ssh ssh-keygen ps setsid timeout "$DOCKER"; do
    command -v "$c" >/dev/null 2>&1 || die "missing $c: run scripts/e2e/install-deps.sh"
  done
  command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || die "missing sshd: run scripts/e2e/install-deps.sh"
  [ "$(id -u)" -eq 0 ] || die "must run as root (dockerd)"

  mkdir -p "$DIR"
  chmod 0755 "$DIR"
  echo "platformctl e2e real parts; remove with: $0 down $DIR" >"$DIR/$MARKER"
  mkdir -p "$DIR/pids" "$DIR/logs" "$DIR/docker-cli"

  # On any failure from here on, tear down whatever came up.
  trap on_up_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP

  export DOCKER_CONFIG=$DIR/docker-cli
  unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

  local ports
  ports=$(free_ports 4)
  read -r REG_PORT SSH_PORT CLOSED_PORT SILENT_PORT <<<"$ports"
  [ -n "$SILENT_PORT" ] || die "could not pick free ports"
  REGISTRY=127.0.0.1:$REG_PORT

  local e
  for e in "${ENGINES[@]}"; do start_engine_containerd "$e"; done
  start_registry
  start_silent
  start_sshd

  for e in "${ENGINES[@]}"; do wait_for "$e-containerd" containerd_ok "$e"; done
  for e in "${ENGINES[@]}"; do start_engine_dockerd "$e"; done
  wait_for registry registry_ok
  wait_for silent port_listening "$SILENT_PORT"
  wait_for sshd ssh_ok
  for e in "${ENGINES[@]}"; do wait_for "$e-dockerd" engine_ok "$e"; done

  build_images

  write_env
  trap - EXIT
  log "up: $DIR (source $DIR/env)"
}

write_env() {
  local r=$REGISTRY env=$DIR/env.tmp
  {
    echo "# platformctl e2e real parts, written by scripts/e2e/realparts.sh up"
    echo "E2E_DIR=$DIR"
    echo "E1_SOCK=$DIR/e1/docker.sock"
    echo "E2_SOCK=$DIR/e2/docker.sock"
    echo "E1_HOST=unix://$DIR/e1/docker.sock"
    echo "E2_HOST=unix://$DIR/e2/docker.sock"
    echo "REGISTRY=$r"
    echo "SSH_HOST=e2e-host"
    echo "SSH_CLOSED_HOST=e2e-closed"
    echo "SSH_SILENT_HOST=e2e-silent"
    echo "SSH_PORT=$SSH_PORT"
    echo "SSH_CONFIG=$DIR/ssh_config"
    echo "SSH_KEY=$DIR/ssh/id_ed25519"
    echo "KNOWN_HOSTS=$DIR/known_hosts"
    echo "CLOSED_PORT=$CLOSED_PORT"
    echo "SILENT_PORT=$SILENT_PORT"
    echo "DOCKER_CONFIG=$DIR/docker-cli"
    echo "E1_PID=$(pid_of e1-dockerd)"
    echo "E2_PID=$(pid_of e2-dockerd)"
    echo "E1_CONTAINERD_PID=$(pid_of e1-containerd)"
    echo "E2_CONTAINERD_PID=$(pid_of e2-containerd)"
    echo "REGISTRY_PID=$(pid_of registry)"
    echo "SSHD_PID=$(pid_of sshd)"
    echo "SILENT_PID=$(pid_of silent)"
    echo "IMG_API_303=$r/honcho-api:3.0.3"
    echo "IMG_API_306=$r/honcho-api:3.0.6"
    echo "IMG_WORKER=$r/honcho-worker:1.4.2"
    echo "IMG_WORKER_MIRROR=$r/aaa-mirror/honcho-worker:1.4.2"
    echo "IMG_WORKER_INDEX=$r/honcho-worker:1.4.2-index"
    echo "IMG_WEB=$r/honcho-web:1.0"
    echo "IMG_LOCAL=home-platform/local-tool:dev"
    echo "DIGEST_API_303=$(manifest_digest honcho-api 3.0.3)"
    echo "DIGEST_API_306=$(manifest_digest honcho-api 3.0.6)"
    echo "DIGEST_WORKER=$(manifest_digest honcho-worker 1.4.2)"
    echo "DIGEST_WORKER_INDEX=$(manifest_digest honcho-worker 1.4.2-index application/vnd.docker.distribution.manifest.list.v2+json)"
    echo "DIGEST_WEB=$(manifest_digest honcho-web 1.0)"
    echo "IMAGE_ID_API_303=$(dk e1 image inspect -f '{{.Id}}' "$r/honcho-api:3.0.3")"
    echo "IMAGE_ID_API_306=$(dk e1 image inspect -f '{{.Id}}' "$r/honcho-api:3.0.6")"
    echo "IMAGE_ID_WORKER=$(dk e1 image inspect -f '{{.Id}}' "$r/honcho-worker:1.4.2")"
    echo "IMAGE_ID_WEB=$(dk e1 image inspect -f '{{.Id}}' "$r/honcho-web:1.0")"
    echo "IMAGE_ID_LOCAL_E1=$(dk e1 image inspect -f '{{.Id}}' home-platform/local-tool:dev)"
    echo "IMAGE_ID_LOCAL_E2=$(dk e2 image inspect -f '{{.Id}}' home-platform/local-tool:dev)"
  } >"$env"
  if grep -Eq '^[A-Z0-9_]+=$' "$env"; then
    grep -E '^[A-Z0-9_]+=$' "$env" >&2
    die "empty values in $DIR/env"
  fi
  mv "$env" "$DIR/env"
}

# shim_socket PID: for a containerd-shim-runc-v2 of ours, the socket it made (containerd 1.5+
# hard-codes /run/containerd/s/<sha256 of "ADDRESS/NAMESPACE/ID">); empty otherwise.
shim_socket() {
  local -a args
  local i ns='' id='' addr=''
  mapfile -d '' -t args <"/proc/$1/cmdline" 2>/dev/null || return 0
  for ((i = 0; i < ${#args[@]} - 1; i++)); do
    case ${args[$i]} in
      -namespace) ns=${args[$((i + 1))]} ;;
      -id) id=${args[$((i + 1))]} ;;
      -address) addr=${args[$((i + 1))]} ;;
    esac
  done
  case $addr in "$DIR"/*) ;; *) return 0 ;; esac
  [ -n "$ns" ] && [ -n "$id" ] || return 0
  printf '/run/containerd/s/%s\n' "$(printf '%s' "$addr/$ns/$id" | sha256sum | cut -c1-64)"
}

# mounts_under DIR: mount points at or below DIR, deepest first (from /proc/self/mountinfo,
# octal escapes such as \040 decoded).
mounts_under() {
  awk -v d="$DIR" '{
      m = $5
      while (match(m, /\\[0-7][0-7][0-7]/)) {
        c = sprintf("%c", (substr(m, RSTART+1, 1) * 64) + (substr(m, RSTART+2, 1) * 8) + substr(m, RSTART+3, 1))
        m = substr(m, 1, RSTART-1) c substr(m, RSTART+4)
      }
      if (m == d || index(m, d "/") == 1) print length(m) "\t" m
    }' /proc/self/mountinfo | sort -rn | cut -f2-
}

cmd_down() {
  check_dir
  if [ ! -e "$DIR" ]; then
    log "down: $DIR does not exist: nothing to do"
    return 0
  fi
  [ -f "$DIR/$MARKER" ] || die "refusing: $DIR was not made by $0 up (no $MARKER)"
  export DOCKER_CONFIG=$DIR/docker-cli
  unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

  local name pid e ids helpers=()
  # 1. Kill the containers while their engine still answers: a container whose PID 1 ignores
  #    SIGTERM (busybox sleep) would otherwise hold dockerd's shutdown for its stop timeout.
  for e in "${ENGINES[@]}"; do
    pid=$(pid_of "$e-dockerd")
    if pid_is_ours "$pid" && [ -S "$DIR/$e/docker.sock" ]; then
      ids=$(timeout 10 "$DOCKER" -H "unix://$DIR/$e/docker.sock" ps -q 2>/dev/null || true)
      if [ -n "$ids" ]; then
        # shellcheck disable=SC2086 # ids is a whitespace-separated list of container ids
        timeout 15 "$DOCKER" -H "unix://$DIR/$e/docker.sock" kill $ids >/dev/null 2>&1 || true
      fi
    fi
  done &
  helpers+=($!)
  # 2. Meanwhile stop the parts that hold no state.
  for name in sshd silent registry; do
    pid=$(pid_of "$name")
    if pid_is_ours "$pid"; then
      stop_pid "$name" "$pid" 5 &
      helpers+=($!)
    fi
  done
  wait_pids "stopping" "${helpers[@]}" || true
  # 3. Engines, then their containerds.
  helpers=()
  for name in e1-dockerd e2-dockerd; do
    pid=$(pid_of "$name")
    if pid_is_ours "$pid"; then
      stop_pid "$name" "$pid" 20 &
      helpers+=($!)
    fi
  done
  wait_pids "stopping engines" "${helpers[@]}" || true
  helpers=()
  for name in e1-containerd e2-containerd; do
    pid=$(pid_of "$name")
    if pid_is_ours "$pid"; then
      stop_pid "$name" "$pid" 10 &
      helpers+=($!)
    fi
  done
  wait_pids "stopping containerd" "${helpers[@]}" || true
  # 4. Processes left that name DIR on their command line and are of a kind this harness starts
  #    or that serve it: a containerd-shim whose containerd died first (with its descendants,
  #    the container's processes), a part whose pid file was lost, an ssh client (master or
  #    forwarder) still using DIR/ssh_config.
  local p comm left=()
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    if [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ]; then continue; fi
    if ! pid_is_ours "$p" || ! alive "$p"; then continue; fi
    comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    case $comm in
      containerd* | dockerd | docker-registry | sshd | ssh | python3*) left+=("$p") ;;
    esac
  done
  local k sock
  for p in "${left[@]}"; do
    log "leftover process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-120)"
    sock=$(shim_socket "$p")
    for k in $(descendants "$p") "$p"; do kill -KILL "$k" 2>/dev/null || true; done
    # A killed shim cannot remove its socket, /run/containerd/s/<sha256(address/ns/id)>.
    if [ -n "$sock" ]; then
      for ((k = 0; k < 20; k++)); do alive "$p" || break; sleep 0.1; done
      rm -f "$sock"
    fi
  done
  # 5. This run's (empty by now) parent cgroups, in every hierarchy.
  local cg
  for e in "${ENGINES[@]}"; do
    while IFS= read -r cg; do
      find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || log "could not remove cgroup $cg"
    done < <(find /sys/fs/cgroup -maxdepth 3 -type d -name "$(cgroup_parent "$e")" 2>/dev/null)
  done
  # 6. Unmount whatever the engines mounted under DIR (container shm, overlay layers).
  local m
  while IFS= read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done < <(mounts_under)
  if [ -n "$(mounts_under)" ]; then
    mounts_under >&2
    die "mounts remain under $DIR; not removing it"
  fi
  # 7. Remove DIR, never crossing into another file system.
  rm -rf --one-file-system "$DIR"
  log "down: removed $DIR"
}

main() {
  [ $# -eq 2 ] || usage
  exec 9>&2 # the caller's stderr, for the traps (never inherited by the parts: see start_bg)
  DIR=$2
  case $1 in
    up) cmd_up ;;
    down) cmd_down ;;
    *) usage ;;
  esac
}

main "$@"
