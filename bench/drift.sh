#!/usr/bin/env bash
# drift-check benchmark (issues 3 and 5), a part of bench/compare.sh that also runs alone:
# platformctl against real Docker engines over a real sshd, all private to temporary
# directories (scripts/e2e/realparts.sh), compared with the one-round-trip floor, with the
# per-module design of the Python prototype and with Ansible; five hosts against one; peak RSS
# at 2,000 containers.
#
# Usage: bench/drift.sh            (as root: the private dockerd engines need it)
#
# One unattended run (~12 min on a 2-core VM, most of it the per-module design and the Ansible
# loop) does:
#   1. install what it needs (scripts/e2e/install-deps.sh, hyperfine, GNU time; Ansible and
#      the Python docker package from PyPI into the venv $ANSIBLE_VENV), build the release
#      platformctl;
#   2. `realparts.sh up` three times (six private engines; each `down` on exit, always), and
#      start the benchmark's own sshd on 127.0.0.1 (a copy of the harness's sshd_config with
#      the harness's keys, plus `SetEnv HOME=<empty dir>`: the ssh user's login shell then
#      reads no ~/.bashrc -- this machine's root runs `pyenv init` there, ~250 ms per remote
#      command, which a server's deploy user does not pay); ssh aliases bench-h1..h5 reach it;
#   3. a 20 ms round trip for the aliases bench-d1..d5: `tc netem` on the loopback of a
#      network namespace of its own (a second sshd runs inside; the delayed commands run under
#      `ip netns exec`) when the kernel has netem, otherwise bench/delay-proxy.py (a userspace
#      TCP proxy on 127.0.0.1 adding 10 ms each way); BENCH_DELAY picks;
#   4. containers: engine 1 runs 200 compose-labelled containers (honcho-api / -worker / -web
#      images, the svc-NNN services); engines 2-5 have 200 created (not started) containers
#      each (c-NNN); engine 6 has 2,000 created (big-NNNN). Platform repos to match
#      (bench/gen_drift_platform.py, digest-pinned; the script asserts every module is in sync
#      and every host returned its containers);
#   5. hyperfine: (a) drift-check --json over one ssh host, 200 containers; (b) the floor: one
#      fresh `ssh bench-h1 'docker inspect $(docker ps -aq); docker image inspect …'`, its
#      output carried back; reference rows (bare ssh connection, the engine's own answer on the
#      local socket, drift-check over the local transport, the harness's ssh host with root's
#      own login shell); (c) the prototype's design, per module `ssh … docker inspect NAME` then
#      `ssh … docker image inspect ID`, sequentially; (d) Ansible: a playbook looping
#      community.docker.docker_container_info over the 200 containers, and one
#      docker_host_info (containers + images, verbose) as its best case, Ansible's default
#      ControlPersist kept within a run and the master closed between runs (--prepare) so that
#      every run pays one connection as drift-check does; 5 hosts x 200 vs 1 host x 200,
#      without and with the delay (plus the floor with the delay);
#      the same two with the ssh aliases bench-k1..k5, which set KexAlgorithms=curve25519-sha256
#      (OpenSSH 9.2's default sntrup761x25519 costs the client ~90 ms of CPU per connection,
#      five times over on two cores here); the CPU of 1 and 5 hosts split between platformctl with its ssh clients, the sshd and
#      the engines (bench/cpu-split.py), since on this rig both ends share the same cores;
#   6. 2,000 containers: peak RSS (`/usr/bin/time -f %M`, max of 3 runs; includes the ssh
#      children) and wall time;
#   7. $OUT/meta.json and the part's table (bench/table.py drift), also in $OUT/table.md.
# It exits non-zero when a command that must succeed fails; a missed target is reported in the
# table (MISSED), never an error exit.
#
# Knobs (environment):
#   BENCH_OUT=DIR           hyperfine JSON exports, logs, meta.json, table.md (default: a new
#                           /tmp/platformctl-bench-drift-XXXXXX, kept)
#   BENCH_N=200             containers per host for the comparisons (3..999)
#   BENCH_BIG=2000          containers for the RSS measurement (1..9999)
#   BENCH_RUNS=15           hyperfine runs of the fast commands (>= 10)
#   BENCH_DESIGN_RUNS=3     runs of the per-module design, at most (fewer, never under 2, when
#                           a 10-module sample says they would take over ~5 min)
#   BENCH_ANSIBLE_RUNS=2    runs of the Ansible loop (5 for its docker_host_info best case)
#   BENCH_QUICK=1           skip the two slow peers (per-module design, Ansible loop)
#   BENCH_DELAY=auto        auto (netem, else the proxy) | netem | proxy | none
#   BENCH_DELAY_MS=10       one-way delay (the round trip is twice this)
#   BENCH_PAR=8             parallel docker calls while creating containers
#   ANSIBLE_VENV=/tmp/pctl-bench-ansible   ANSIBLE_VERSION=12.3.0  DOCKER_PY_VERSION=7.2.0
#   E2E_STORAGE_DRIVER      passed to realparts.sh; defaults to overlay2 here (2,000 vfs
#                           copies would be GBs), falls back to vfs if that fails
#   BENCH_SKIP_BUILD=1      use the binary bench/compare.sh just built ($BIN)
set -euo pipefail
PROG=drift.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${BENCH_N:-200}
BIG=${BENCH_BIG:-2000}
RUNS=${BENCH_RUNS:-15}
DESIGN_RUNS=${BENCH_DESIGN_RUNS:-3}
ANSIBLE_RUNS=${BENCH_ANSIBLE_RUNS:-2}
QUICK=${BENCH_QUICK:-0}
DELAY=${BENCH_DELAY:-auto}
DELAY_MS=${BENCH_DELAY_MS:-10}
PAR=${BENCH_PAR:-8}
AV=${ANSIBLE_VENV:-/tmp/pctl-bench-ansible}
ANSIBLE_V=${ANSIBLE_VERSION:-12.3.0}
DOCKER_PY_V=${DOCKER_PY_VERSION:-7.2.0}
((RUNS >= 10)) || RUNS=10
((N >= 3 && N <= 999 && BIG >= 1 && BIG <= 9999)) || die "BENCH_N 3..999, BENCH_BIG 1..9999"
case $DELAY in auto | netem | proxy | none) ;; *) die "BENCH_DELAY: auto, netem, proxy or none" ;; esac
export PIP_CACHE_DIR=/tmp/pctl-bench-cache/pip PIP_DISABLE_PIP_VERSION_CHECK=1

[ "$(id -u)" -eq 0 ] || die "run as root: realparts.sh starts private dockerd engines"

OUT=${BENCH_OUT:-$(mktemp -d /tmp/platformctl-bench-drift-XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/rss-*.txt
machine_json >"$OUT/machine.json"
log "results in $OUT"

# ---------------------------------------------------------------------------------------------
# 1. tools, binary

"$ROOT/scripts/e2e/install-deps.sh" >"$OUT/install-deps.log" 2>&1 ||
  { tail -20 "$OUT/install-deps.log" >&2; die "scripts/e2e/install-deps.sh failed"; }
bench_tools
command -v curl >/dev/null 2>&1 || apt_want curl

ansible_ok() {
  [ "$("$AV/bin/python" -c 'import importlib.metadata as m; print(m.version("ansible"), m.version("docker"))' 2>/dev/null)" = "$ANSIBLE_V $DOCKER_PY_V" ]
}
if ! ansible_ok; then
  log "installing ansible $ANSIBLE_V and docker $DOCKER_PY_V (PyPI) into $AV"
  python3 -m venv "$AV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$AV/bin/pip" install --quiet "ansible==$ANSIBLE_V" "docker==$DOCKER_PY_V" >"$OUT/pip-ansible.log" 2>&1 ||
    die "pip install ansible docker failed (see $OUT/pip-ansible.log)"
  ansible_ok || die "ansible $ANSIBLE_V / docker $DOCKER_PY_V not importable from $AV"
fi

if [ "${BENCH_SKIP_BUILD:-0}" = 1 ] && [ -n "${BIN:-}" ]; then
  log "using $BIN"
else
  bench_build "$OUT/build.log"
fi

# ---------------------------------------------------------------------------------------------
# 2. real parts (three instances: six engines), cleanup

DS=()         # realparts directories
PIDS=()       # processes this script started itself (sshd, proxy), ended by pid
NS=           # network namespace, when netem is used
W=            # work directory (ssh config, scripts, platform repos)
close_ansible_masters() {
  local s
  [ -n "$W" ] && [ -d "$W/ansible/cp" ] || return 0
  for s in "$W"/ansible/cp/*; do
    [ -S "$s" ] && ssh -F "$W/ssh_config" -o ControlPath="$s" -O exit bench-h1 >/dev/null 2>&1
  done
  return 0
}
cleanup() {
  local rc=$? p d i
  trap - EXIT INT TERM
  close_ansible_masters
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for ((i = 0; i < 30; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  [ -z "$NS" ] || ip netns del "$NS" 2>/dev/null || true
  for d in "${DS[@]}"; do
    log "realparts.sh down $d"
    "$ROOT/scripts/e2e/realparts.sh" down "$d" >>"$OUT/down.log" 2>&1 || log "down failed: see $OUT/down.log"
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DRIVER=${E2E_STORAGE_DRIVER:-overlay2}
up_parts() { # up_parts: one more realparts instance; its directory in UP_D
  UP_D=$(mktemp -d /tmp/pc-XXXXXX)
  DS+=("$UP_D")
  log "realparts.sh up $UP_D (storage driver $DRIVER)"
  if ! E2E_STORAGE_DRIVER=$DRIVER "$ROOT/scripts/e2e/realparts.sh" up "$UP_D" >"$OUT/up-${#DS[@]}.log" 2>&1; then
    tail -5 "$OUT/up-${#DS[@]}.log" >&2
    [ "$DRIVER" != vfs ] || die "realparts.sh up failed (log: $OUT/up-${#DS[@]}.log)"
    log "retrying with the vfs storage driver"
    DRIVER=vfs
    up_parts
  fi
}
up_parts
D1=$UP_D
up_parts
D2=$UP_D
up_parts
D3=$UP_D
# Engines: S[1] main + h1, S[2..5] h2..h5, S[6] the 2,000 containers.
S=("" "$D1/e1/docker.sock" "$D1/e2/docker.sock" "$D2/e1/docker.sock" "$D2/e2/docker.sock" \
  "$D3/e1/docker.sock" "$D3/e2/docker.sock")
# shellcheck disable=SC1091
. "$D1/env" # images, digests, keys (the images are the same on every instance's engines)
export DOCKER_CONFIG
W=$D1/bench
mkdir -p "$W/home" "$W/ansible/cp" "$W/ansible/home"

dk() { # dk SOCKET ARGS...: the docker CLI against a private engine (never the machine's own)
  local sock=$1
  shift
  timeout 120 docker -H "unix://$sock" "$@"
}

# ---------------------------------------------------------------------------------------------
# 3. the benchmark's sshd (lean login shell), the delay, ssh aliases

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
read -r BPORT PPORT <<<"$(free_ports 2)"
sed -e "s/^Port .*/Port $BPORT/" -e "s#^PidFile .*#PidFile $W/sshd.pid#" "$D1/ssh/sshd_config" >"$W/sshd_config"
printf 'SetEnv HOME=%s\n' "$W/home" >>"$W/sshd_config"
"$SSHD" -t -f "$W/sshd_config" || die "sshd rejects $W/sshd_config"
setsid "$SSHD" -D -e -f "$W/sshd_config" </dev/null >"$OUT/sshd.log" 2>&1 &
PIDS+=($!)
printf 'bench-sshd %s\n' "$(cut -d' ' -f1,2 "$D1/ssh/host_ed25519.pub")" >"$W/known_hosts"

DPORT=$BPORT     # where bench-d1..d5 connect
DELAY_RUN=()     # prefix of the delayed commands
DELAY_MODE=none
DELAY_NOTE="no delay (BENCH_DELAY=none)"
if [ "$DELAY" = auto ] || [ "$DELAY" = netem ]; then
  NS=pctl-bench-$$
  if ip netns add "$NS" 2>"$OUT/netem.log" && ip -n "$NS" link set lo up 2>>"$OUT/netem.log" &&
    ip netns exec "$NS" tc qdisc add dev lo root netem delay "${DELAY_MS}ms" 2>>"$OUT/netem.log"; then
    sed "s#^PidFile .*#PidFile $W/sshd-ns.pid#" "$W/sshd_config" >"$W/sshd_config.ns"
    ip netns exec "$NS" setsid "$SSHD" -D -e -f "$W/sshd_config.ns" </dev/null >"$OUT/sshd-ns.log" 2>&1 &
    PIDS+=($!)
    DELAY_RUN=(ip netns exec "$NS")
    DELAY_MODE=netem
    DELAY_NOTE="tc netem delay ${DELAY_MS}ms on the loopback of a private network namespace (the benchmark's sshd runs inside it; so do the delayed commands)"
  else
    reason=$(tr '\n' ' ' <"$OUT/netem.log")
    ip netns del "$NS" 2>/dev/null || true
    NS=
    [ "$DELAY" = auto ] || die "tc netem cannot be set up: $reason"
    DELAY=proxy
    DELAY_NOTE="tc netem is unavailable here (\`tc qdisc add dev lo root netem\` in a private network namespace: \"${reason% }\"; the kernel has CONFIG_NET_SCH_NETEM unset), so bench/delay-proxy.py adds ${DELAY_MS} ms each way in userspace on 127.0.0.1"
    log "netem unavailable ($reason): using bench/delay-proxy.py"
  fi
fi
if [ "$DELAY" = proxy ]; then
  DPORT=$PPORT
  setsid python3 "$ROOT/bench/delay-proxy.py" "$DPORT" "$BPORT" "$DELAY_MS" </dev/null >"$OUT/delay-proxy.log" 2>&1 &
  PIDS+=($!)
  DELAY_MODE=proxy
  [[ $DELAY_NOTE == *unavailable* ]] ||
    DELAY_NOTE="bench/delay-proxy.py adds ${DELAY_MS} ms each way in userspace on 127.0.0.1 (BENCH_DELAY=proxy)"
fi

{
  for i in 1 2 3 4 5; do
    for kind in h d k; do
      port=$BPORT
      [ "$kind" = d ] && port=$DPORT
      kex=
      [ "$kind" = k ] && kex="KexAlgorithms curve25519-sha256"
      cat <<EOF
Host bench-$kind$i
  HostName 127.0.0.1
  Port $port
  $kex
  HostKeyAlias bench-sshd
  User root
  IdentityFile $SSH_KEY
  IdentitiesOnly yes
  UserKnownHostsFile $W/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR

EOF
    done
  done
} >"$W/ssh_config"

wait_ssh() { # wait_ssh ALIAS [PREFIX...]
  local alias=$1 i
  shift
  for ((i = 0; i < 100; i++)); do
    "$@" ssh -F "$W/ssh_config" -o ConnectTimeout=2 "$alias" true 2>/dev/null && return 0
    sleep 0.1
  done
  die "ssh $alias does not answer (logs: $OUT/sshd*.log, $OUT/delay-proxy.log)"
}
wait_ssh bench-h1
[ "$DELAY_MODE" = none ] || wait_ssh bench-d1 "${DELAY_RUN[@]}"
[ "$(ssh -F "$W/ssh_config" bench-h1 'echo $HOME')" = "$W/home" ] || die "the benchmark sshd did not set HOME"

# ---------------------------------------------------------------------------------------------
# 4. containers and platform repos

IMGS=("$IMG_API_306" "$IMG_WORKER" "$IMG_WEB")
DIGS=("$DIGEST_API_306" "$DIGEST_WORKER" "$DIGEST_WEB")
export BENCH_IMGS="${IMGS[*]}" BENCH_DIGS="${DIGS[*]}"

# make_containers SOCKET COUNT WIDTH PREFIX run|create: COUNT compose-labelled containers
# home-platform-PREFIX-NNN-1 (service PREFIX-NNN), image i % 3, PAR docker calls at a time.
make_containers() {
  local sock=$1 count=$2 width=$3 prefix=$4 how=create i got
  [ "$5" = run ] && how="run -d"
  for ((i = 1; i <= count; i++)); do
    printf "%0${width}d %s\n" "$i" "${IMGS[i % 3]}"
  done >"$W/$prefix.list"
  # Each input line is "NNN IMAGE" ($1 $2 of the inline script).
  # shellcheck disable=SC2016
  xargs -P "$PAR" -L 1 sh -c '
    exec timeout 120 docker -H "unix://'"$sock"'" '"$how"' --network none --name "home-platform-'"$prefix"'-$1-1" \
      --label com.docker.compose.project=home-platform \
      --label "com.docker.compose.service='"$prefix"'-$1" \
      --label com.docker.compose.container-number=1 "$2" sleep 100000 >/dev/null
  ' sh <"$W/$prefix.list" || die "creating the $prefix containers on $sock failed"
  got=$(dk "$sock" ps -aq --filter "label=com.docker.compose.project=home-platform" | wc -l)
  [ "$got" -eq "$count" ] || die "$sock has $got project containers, expected $count"
}

log "engine 1: $N running containers ($PAR docker calls at a time)"
make_containers "${S[1]}" "$N" 3 svc run
for e in 2 3 4 5; do
  log "engine $e: $N created containers"
  make_containers "${S[e]}" "$N" 3 c create
done
log "engine 6: $BIG created containers"
make_containers "${S[6]}" "$BIG" 4 big create

log "generating platform repos"
gen() { python3 "$ROOT/bench/gen_drift_platform.py" "$@" || die "gen_drift_platform.py $1 failed"; }
hostspec() { # hostspec NAME ALIAS ENGINE: that host's containers (engine 1: running svc-NNN)
  if [ "$3" = 1 ]; then
    echo "$1,ssh,$2,${S[1]},svc,3,$N,running"
  else
    echo "$1,ssh,$2,${S[$3]},c,3,$N,stopped"
  fi
}
P1=$W/p1 P1L=$W/p1-local P5=$W/p5 P1D=$W/p1-delay P5D=$W/p5-delay PB=$W/pbig
P1K=$W/p1-kex P5K=$W/p5-kex
gen "$P1" "$W/ssh_config" "$(hostspec h1 bench-h1 1)"
gen "$P1L" "$W/ssh_config" "h1,local,-,${S[1]},svc,3,$N,running"
mapfile -t H5 < <(for i in 1 2 3 4 5; do hostspec "h$i" "bench-h$i" "$i"; done)
mapfile -t H5D < <(for i in 1 2 3 4 5; do hostspec "h$i" "bench-d$i" "$i"; done)
mapfile -t H5K < <(for i in 1 2 3 4 5; do hostspec "h$i" "bench-k$i" "$i"; done)
gen "$P5" "$W/ssh_config" "${H5[@]}"
gen "$P1D" "$W/ssh_config" "$(hostspec h1 bench-d1 1)"
gen "$P5D" "$W/ssh_config" "${H5D[@]}"
gen "$P1K" "$W/ssh_config" "$(hostspec h1 bench-k1 1)"
gen "$P5K" "$W/ssh_config" "${H5K[@]}"
gen "$PB" "$W/ssh_config" "big,ssh,bench-h1,${S[6]},big,4,$BIG,stopped"

# in_sync NAME ROOT HOSTS PER_HOST [PREFIX...]: drift-check exits 0, every module in sync, each
# of HOSTS hosts answered with PER_HOST containers; keeps the document as $OUT/NAME.json.
in_sync() {
  local name=$1 root=$2 hosts=$3 per=$4 rc=0
  shift 4
  timeout 120 "$@" "$BIN" --root "$root" drift-check --json >"$OUT/$name.json" 2>"$OUT/$name.stderr" || rc=$?
  [ "$rc" -eq 0 ] || { head -c 2000 "$OUT/$name.json" >&2; cat "$OUT/$name.stderr" >&2; die "drift-check on $name exited $rc, expected 0 (in sync)"; }
  python3 - "$OUT/$name.json" "$hosts" "$per" <<'EOF' || die "drift-check on $name: not every module in sync, or a host without its containers"
import json, sys
d = json.load(open(sys.argv[1]))
hosts, per = int(sys.argv[2]), int(sys.argv[3])
ok = sum(1 for m in d["modules"] if m["status"] == "in-sync")
print(f"  {ok}/{len(d['modules'])} in sync; " + ", ".join(
    f"{h['name']}: {h.get('containers')} containers in {h.get('elapsedMs')} ms" for h in d["hosts"]), file=sys.stderr)
sys.exit(0 if ok == len(d["modules"]) == hosts * per and len(d["hosts"]) == hosts
         and all(h.get("containers") == per for h in d["hosts"]) else 1)
EOF
}
log "checking that drift-check says in sync everywhere"
in_sync p1 "$P1" 1 "$N"
in_sync p1-local "$P1L" 1 "$N"
in_sync p5 "$P5" 5 "$N"
in_sync pbig "$PB" 1 "$BIG"
in_sync p1-kex "$P1K" 1 "$N"
in_sync p5-kex "$P5K" 5 "$N"
if [ "$DELAY_MODE" != none ]; then
  in_sync p1-delay "$P1D" 1 "$N" "${DELAY_RUN[@]}"
  in_sync p5-delay "$P5D" 5 "$N" "${DELAY_RUN[@]}"
fi

# ---------------------------------------------------------------------------------------------
# 5. the peers' commands

H1="unix://${S[1]}"
ssh_fresh() { # the ssh command line of a fresh connection (no ControlMaster) to ALIAS
  echo "ssh -F $W/ssh_config -o ControlMaster=no -o ControlPath=none -o ConnectTimeout=5 $1"
}
# (b) the floor: one fresh ssh connection, one round trip that answers everything; the output
# comes back over ssh, as an operator's command's would.
for kind in h d; do
  cat >"$W/floor-$kind.sh" <<EOF
#!/bin/sh
exec $(ssh_fresh "bench-${kind}1") 'docker -H $H1 inspect \$(docker -H $H1 ps -aq); docker -H $H1 image inspect \$(docker -H $H1 ps -a --format "{{.Image}}" | sort -u)' >/dev/null
EOF
done
# (c) the prototype's design: per module, ssh + docker inspect, then ssh + docker image inspect
# of the image ID read from the first answer; sequential.
# shellcheck disable=SC2016
{
  printf '#!/usr/bin/env bash\nset -euo pipefail\n'
  printf 'for ((i = 1; i <= ${1:-%d}; i++)); do\n' "$N"
  printf '  s=$(printf %%03d "$i")\n'
  printf '  out=$(%s docker -H %s inspect "home-platform-svc-$s-1")\n' "$(ssh_fresh bench-h1)" "$H1"
  printf '  [[ $out =~ \\"Image\\":\\ \\"(sha256:[0-9a-f]{64})\\" ]] || { echo "no image id for svc-$s" >&2; exit 1; }\n'
  printf '  %s docker -H %s image inspect "${BASH_REMATCH[1]}" >/dev/null\n' "$(ssh_fresh bench-h1)" "$H1"
  printf 'done\n'
} >"$W/per-module.sh"
# ref: the engine's own answer to drift-check's two requests, on the local socket.
cat >"$W/engine.sh" <<EOF
#!/bin/sh
curl -fsS --unix-socket ${S[1]} 'http://d/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Dhome-platform%22%5D%7D' >/dev/null &&
exec curl -fsS --unix-socket ${S[1]} 'http://d/v1.41/images/json?digests=1' >/dev/null
EOF
# (d) Ansible.
cat >"$W/ansible/inventory.ini" <<EOF
[bench]
bench-h1 ansible_ssh_common_args="-F $W/ssh_config" ansible_python_interpreter=$AV/bin/python
EOF
: >"$W/ansible/ansible.cfg"
cat >"$W/ansible.sh" <<EOF
#!/bin/sh
# ansible.sh PLAYBOOK N: Ansible with its defaults (ControlMaster=auto, ControlPersist=60s,
# no pipelining), state and control sockets under $W/ansible.
cd $W/ansible || exit 1
export ANSIBLE_CONFIG=$W/ansible/ansible.cfg ANSIBLE_HOME=$W/ansible/home
export ANSIBLE_SSH_CONTROL_PATH_DIR=$W/ansible/cp ANSIBLE_NOCOLOR=1
exec $AV/bin/ansible-playbook -i inventory.ini $ROOT/bench/ansible/\$1 \\
  -e sock=${S[1]} -e n=\$2 -e name=home-platform-svc-%03d-1
EOF
cat >"$W/ansible-close.sh" <<EOF
#!/bin/sh
for s in $W/ansible/cp/*; do
  [ -S "\$s" ] && ssh -F $W/ssh_config -o ControlPath="\$s" -O exit bench-h1 >/dev/null 2>&1
done
exit 0
EOF
chmod +x "$W"/*.sh

log "sanity: the floor, the engine, the per-module design and Ansible run"
timeout 60 "$W/floor-h.sh" || die "the floor command failed"
[ "$DELAY_MODE" = none ] || timeout 60 "${DELAY_RUN[@]}" "$W/floor-d.sh" || die "the floor command (delayed) failed"
timeout 60 "$W/engine.sh" || die "the engine command failed"
t=${EPOCHREALTIME/./}
timeout 120 "$W/per-module.sh" 10 || die "the per-module design failed"
t=$(((${EPOCHREALTIME/./} - t) * N / 10 / 1000)) # ms, extrapolated to N modules
timeout 300 "$W/ansible.sh" container-info.yml 5 >"$OUT/ansible-sanity.log" 2>&1 ||
  { tail -30 "$OUT/ansible-sanity.log" >&2; die "the Ansible loop playbook failed"; }
timeout 300 "$W/ansible.sh" host-info.yml "$N" >>"$OUT/ansible-sanity.log" 2>&1 ||
  { tail -30 "$OUT/ansible-sanity.log" >&2; die "the Ansible docker_host_info playbook failed"; }
"$W/ansible-close.sh"

# ---------------------------------------------------------------------------------------------
# 6. timings

hf() { # hf NAME TIMEOUT HYPERFINE-ARGS...: hyperfine, export $OUT/NAME.json, summary on stderr
  local name=$1 to=$2
  shift 2
  timeout "$to" hyperfine -N --export-json "$OUT/$name.json" "$@" >"$OUT/$name.txt" 2>&1 ||
    { cat "$OUT/$name.txt" >&2; die "hyperfine ($name) failed"; }
  grep -E '^Benchmark|Time \(mean' "$OUT/$name.txt" >&2 || true
}

log "hyperfine: drift-check vs the floor, with reference rows ($RUNS runs each)"
hf main 900 --warmup 3 --runs "$RUNS" \
  -n "drift-check --json ($N modules, 1 ssh host)" "$BIN --root $P1 drift-check --json" \
  -n "floor: one ssh + docker inspect of all" "$W/floor-h.sh" \
  -n "ref: ssh bench-h1 true" "$(ssh_fresh bench-h1) true" \
  -n "ref: engine answer, local socket (curl x2)" "$W/engine.sh" \
  -n "ref: drift-check --json ($N modules, local transport)" "$BIN --root $P1L drift-check --json" \
  -n "ref: ssh e2e-host true (the harness's sshd, root's own ~/.bashrc)" \
  "ssh -F $D1/ssh_config -o ControlMaster=no -o ControlPath=none e2e-host true"

log "hyperfine: 1 host vs 5 hosts x $N containers ($RUNS runs each)"
hf hosts 900 --warmup 3 --runs "$RUNS" \
  -n "drift-check, 1 host x $N" "$BIN --root $P1 drift-check --json" \
  -n "drift-check, 5 hosts x $N" "$BIN --root $P5 drift-check --json"

log "hyperfine: 1 host vs 5 hosts with KexAlgorithms=curve25519-sha256 ($RUNS runs each)"
hf kex 900 --warmup 3 --runs "$RUNS" \
  -n "drift-check, 1 host x $N, curve25519 kex" "$BIN --root $P1K drift-check --json" \
  -n "drift-check, 5 hosts x $N, curve25519 kex" "$BIN --root $P5K drift-check --json"

log "CPU split of 1 host and 5 hosts (bench/cpu-split.py, 10 runs each)"
envval() { sed -n "s/^$2=//p" "$1/env"; }
DOCKERDS=$(for d in "$D1" "$D2" "$D3"; do envval "$d" E1_PID; envval "$d" E2_PID; done | paste -sd,)
for h in 1 5; do
  p=$P1
  [ "$h" = 5 ] && p=$P5
  timeout 300 python3 "$ROOT/bench/cpu-split.py" "$OUT/cpu-$h.json" 10 "${PIDS[0]}" "$DOCKERDS" -- \
    "$BIN" --root "$p" drift-check --json >&2 || die "cpu-split.py ($h hosts) failed"
done

if [ "$DELAY_MODE" != none ]; then
  dp="${DELAY_RUN[*]}${DELAY_RUN[*]:+ }"
  log "hyperfine: the same with a $((2 * DELAY_MS)) ms round trip ($DELAY_MODE), and the floor"
  hf delay 900 --warmup 3 --runs "$RUNS" \
    -n "drift-check, 1 host x $N, +$((2 * DELAY_MS)) ms RTT" "${dp}$BIN --root $P1D drift-check --json" \
    -n "drift-check, 5 hosts x $N, +$((2 * DELAY_MS)) ms RTT" "${dp}$BIN --root $P5D drift-check --json" \
    -n "floor, +$((2 * DELAY_MS)) ms RTT" "${dp}$W/floor-d.sh" \
    -n "ref: ssh bench-d1 true, +$((2 * DELAY_MS)) ms RTT" "${dp}$(ssh_fresh bench-d1) true"
fi

if [ "$QUICK" = 1 ]; then
  log "BENCH_QUICK=1: skipping the per-module design and the Ansible loop"
  DESIGN_RUNS=0
else
  runs=$((300000 / (t + 1)))
  ((runs <= DESIGN_RUNS)) || runs=$DESIGN_RUNS
  ((runs >= 2)) || runs=2
  DESIGN_RUNS=$runs
  log "hyperfine: the per-module design, ~$((t / 1000)) s a run, $DESIGN_RUNS runs"
  hf design 1800 --runs "$DESIGN_RUNS" \
    -n "per-module design: 2 x $N ssh+docker calls" "$W/per-module.sh"
  log "hyperfine: Ansible, docker_container_info x $N, $ANSIBLE_RUNS runs"
  hf ansible-loop 1800 --runs "$ANSIBLE_RUNS" --prepare "$W/ansible-close.sh" \
    -n "ansible-playbook: docker_container_info x $N (loop)" "$W/ansible.sh container-info.yml $N"
fi
log "hyperfine: Ansible, one docker_host_info, 5 runs"
hf ansible-hostinfo 900 --warmup 1 --runs 5 --prepare "$W/ansible-close.sh" \
  -n "ansible-playbook: one docker_host_info (containers + images)" "$W/ansible.sh host-info.yml $N"
"$W/ansible-close.sh"

# ---------------------------------------------------------------------------------------------
# 7. 2,000 containers: peak RSS and wall time

log "peak RSS at $BIG and $N containers (/usr/bin/time -f %M, 3 runs each)"
rss() { # rss ROOT NAME
  local _
  for _ in 1 2 3; do
    timeout 300 /usr/bin/time -f '%M %e' -a -o "$OUT/rss-$2.txt" "$BIN" --root "$1" drift-check --json >/dev/null ||
      die "drift-check ($2) failed while measuring RSS"
  done
}
rss "$PB" big
rss "$P1" n
log "hyperfine: drift-check at $BIG containers"
hf big 900 --warmup 1 --runs 10 \
  -n "drift-check --json ($BIG modules, 1 ssh host)" "$BIN --root $PB drift-check --json"

# ---------------------------------------------------------------------------------------------
# 8. meta and table

DOCKER_V=$(dk "${S[1]}" version --format '{{.Server.Version}}') \
  SSH_V=$(ssh -V 2>&1) DELAY_NOTE=$DELAY_NOTE \
  python3 - "$OUT/meta.json" <<EOF
import json, os, sys
json.dump({
    "n": $N, "big": $BIG, "hosts": 5, "runs": $RUNS, "design_runs": $DESIGN_RUNS,
    "ansible_runs": $ANSIBLE_RUNS if "$QUICK" != "1" else 0, "quick": "$QUICK" == "1",
    "delay_mode": "$DELAY_MODE", "delay_rtt_ms": 2 * $DELAY_MS, "delay_note": os.environ["DELAY_NOTE"],
    "docker": os.environ["DOCKER_V"], "ssh": os.environ["SSH_V"], "driver": "$DRIVER",
    "ansible": "$ANSIBLE_V", "ansible_core": "$("$AV/bin/python" -c 'import importlib.metadata as m; print(m.version("ansible-core"))')",
    "docker_py": "$DOCKER_PY_V",
    "load_end": " / ".join(open("/proc/loadavg").read().split()[:3]),
}, open(sys.argv[1], "w"), indent=1)
EOF
python3 "$ROOT/bench/table.py" drift "$OUT" | tee "$OUT/table.md"
log "done; JSON exports and logs in $OUT"
