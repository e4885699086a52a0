#!/usr/bin/env bash
# drift-check benchmark (issue 3's acceptance): platformctl against real Docker engines over a
# real sshd, all private to one temporary directory (scripts/e2e/realparts.sh), compared with
# the one-round-trip floor and with the per-module design of the Python prototype.
#
# Usage: bench/drift.sh            (as root: the private dockerd engines need it)
#
# One unattended run (~10 min on a 2-core VM, most of it the per-module design) does:
#   1. install what it needs (scripts/e2e/install-deps.sh, hyperfine, GNU time), build the
#      release platformctl, `realparts.sh up` a fresh /tmp/pc-XXXXXX (`down` on exit, always);
#   2. engine e1: 200 running compose-labelled containers (honcho-api / honcho-worker /
#      honcho-web, digest-pinned in the catalog), and a platform repo of 200 matching modules on
#      one ssh host (e2e-host, e1's socket); asserts drift-check says in sync (exit 0);
#   3. hyperfine, in one run: (a) `platformctl drift-check --json`; (b) the one-round-trip
#      floor, one fresh ssh connection running `docker inspect` of every container and
#      `docker image inspect` of their images; (c) the prototype's design, two ssh+docker calls
#      per module, sequentially; plus reference rows for where the time goes (bare ssh
#      connection, the engine's own answer over its local socket, drift-check over the local
#      transport);
#   4. engine e2: 2,000 created (not started) containers and a 2,000-module platform: peak RSS
#      (`/usr/bin/time -f %M`, max of 3 runs) and wall time of drift-check;
#   5. a markdown table of every figure with the machine (nproc, load average at start) and the
#      date, on stdout and in $OUT/table.md.
# It exits non-zero when a command that must succeed fails; a missed target is reported in the
# table (MISSED), never an error exit.
#
# Knobs (environment):
#   BENCH_OUT=DIR           where the hyperfine JSON exports, logs and table go
#                           (default: a new /tmp/platformctl-bench-drift-XXXXXX, kept)
#   BENCH_N=200             containers/modules for the timing comparison
#   BENCH_BIG=2000          containers/modules for the RSS measurement
#   BENCH_RUNS=15           hyperfine runs for (a), (b) and the reference rows (>= 10)
#   BENCH_DESIGN_RUNS=3     hyperfine runs for (c), at most: fewer (never under 2) when a
#                           10-module sample says they would take over ~6 min
#   BENCH_PAR=8             parallel docker calls while creating containers
#   E2E_STORAGE_DRIVER      passed to realparts.sh; this script defaults it to overlay2 (2,000
#                           vfs copies would be ~12 GB) and falls back to vfs if that fails
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${BENCH_N:-200}
BIG=${BENCH_BIG:-2000}
RUNS=${BENCH_RUNS:-15}
DESIGN_RUNS=${BENCH_DESIGN_RUNS:-3}
PAR=${BENCH_PAR:-8}
((RUNS >= 10)) || RUNS=10
((N >= 3 && N <= 999 && BIG >= 1 && BIG <= 9999)) || { echo "drift.sh: BENCH_N 3..999, BENCH_BIG 1..9999" >&2; exit 2; }

T0=${EPOCHREALTIME/./}
log() {
  local us=$((${EPOCHREALTIME/./} - T0))
  printf 'drift.sh [+%d.%01ds] %s\n' $((us / 1000000)) $((us % 1000000 / 100000)) "$*" >&2
}
die() { printf 'drift.sh: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root: realparts.sh starts private dockerd engines"

# The machine, before this script loads it.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
NPROC=$(nproc)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
MEM=$(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)

OUT=${BENCH_OUT:-$(mktemp -d /tmp/platformctl-bench-drift-XXXXXX)}
mkdir -p "$OUT"
log "load average at start: $LOAD_START (nproc $NPROC); results in $OUT"

# ---------------------------------------------------------------------------------------------
# 1. tools, binary, real parts

"$ROOT/scripts/e2e/install-deps.sh"
want=()
command -v hyperfine >/dev/null 2>&1 || want+=(hyperfine)
[ -x /usr/bin/time ] || want+=(time)
if [ "${#want[@]}" -gt 0 ]; then
  log "installing ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${want[@]}" </dev/null; then
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends "${want[@]}" </dev/null
  fi
fi
hyperfine --version >/dev/null
hyperfine -N --runs 2 --style none true >/dev/null 2>&1 || die "hyperfine does not run (needs >= 1.13 for -N)"

log "building release platformctl"
(cd "$ROOT" && cargo build --release -p platformctl) >"$OUT/build.log" 2>&1 || {
  tail -30 "$OUT/build.log" >&2
  die "cargo build failed (log: $OUT/build.log)"
}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/platformctl
case "$BIN" in /*) ;; *) BIN=$ROOT/$BIN ;; esac
[ -x "$BIN" ] || die "no binary at $BIN"

D=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local j
  for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done
  if [ -n "$D" ]; then
    log "realparts.sh down $D"
    "$ROOT/scripts/e2e/realparts.sh" down "$D" >"$OUT/down.log" 2>&1 || log "down failed: see $OUT/down.log"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

up() { # up DRIVER
  D=$(mktemp -d /tmp/pc-XXXXXX)
  log "realparts.sh up $D (storage driver $1)"
  E2E_STORAGE_DRIVER=$1 "$ROOT/scripts/e2e/realparts.sh" up "$D" >"$OUT/up.log" 2>&1
}
DRIVER=${E2E_STORAGE_DRIVER:-overlay2}
if ! up "$DRIVER"; then
  tail -5 "$OUT/up.log" >&2
  [ "$DRIVER" != vfs ] || die "realparts.sh up failed (log: $OUT/up.log)"
  "$ROOT/scripts/e2e/realparts.sh" down "$D" >>"$OUT/down.log" 2>&1 || true
  D=
  DRIVER=vfs
  up vfs || { tail -20 "$OUT/up.log" >&2; die "realparts.sh up failed (log: $OUT/up.log)"; }
fi
# shellcheck disable=SC1091
. "$D/env"
export DOCKER_CONFIG
W=$D/bench
mkdir -p "$W"

dk() { # dk ENGINE ARGS...: the docker CLI against e1 / e2 (never the machine's own daemon)
  local sock=$E1_SOCK
  [ "$1" = e2 ] && sock=$E2_SOCK
  shift
  timeout 120 docker -H "unix://$sock" "$@"
}

# ---------------------------------------------------------------------------------------------
# 2. containers and platform repos

IMGS=("$IMG_API_306" "$IMG_WORKER" "$IMG_WEB")
DIGS=("$DIGEST_API_306" "$DIGEST_WORKER" "$DIGEST_WEB")

# make_containers ENGINE COUNT WIDTH PREFIX run|create: COUNT compose-labelled containers
# home-platform-PREFIX-NNN-1 (service PREFIX-NNN), image i % 3, PAR docker calls at a time.
make_containers() {
  local engine=$1 count=$2 width=$3 prefix=$4 sock=$E1_SOCK i
  [ "$engine" = e2 ] && sock=$E2_SOCK
  for ((i = 1; i <= count; i++)); do
    printf "%0${width}d %s\n" "$i" "${IMGS[i % 3]}"
  done >"$W/$prefix.list"
  local how=create
  [ "$5" = run ] && how="run -d"
  # Each input line is "NNN IMAGE" ($1 $2 of the inline script).
  # shellcheck disable=SC2016
  xargs -P "$PAR" -L 1 sh -c '
    exec timeout 120 docker -H "unix://'"$sock"'" '"$how"' --network none --name "home-platform-'"$prefix"'-$1-1" \
      --label com.docker.compose.project=home-platform \
      --label "com.docker.compose.service='"$prefix"'-$1" \
      --label com.docker.compose.container-number=1 "$2" sleep 100000 >/dev/null
  ' sh <"$W/$prefix.list" ||
    die "creating the $prefix containers on $engine failed"
  local got
  got=$(dk "$engine" ps -aq --filter "label=com.docker.compose.project=home-platform" | wc -l)
  [ "$got" -eq "$count" ] || die "$engine has $got project containers, expected $count"
}

# make_platform DIR HOST_SOCK COUNT WIDTH PREFIX running|stopped [local]
make_platform() {
  local p=$1 sock=$2 count=$3 width=$4 prefix=$5 state=$6 transport=${7:-ssh} i s k ref
  mkdir -p "$p/ops" "$p/compose/bench" "$p/modules"
  cp "$SSH_CONFIG" "$p/ops/ssh_config"
  {
    printf '[platform]\nname = "bench"\ncompose_project = "home-platform"\n\n'
    printf '[ssh]\nconfig = "ops/ssh_config"\n\n'
    if [ "$transport" = local ]; then
      printf '[hosts.e1]\ntransport = "local"\ndocker_socket = "%s"\n' "$sock"
    else
      printf '[hosts.e1]\ntransport = "ssh"\nssh = "e2e-host"\ndocker_socket = "%s"\nconnect_timeout_s = 5\n' "$sock"
    fi
  } >"$p/platform.toml"
  {
    printf 'name: home-platform\nservices:\n'
    for ((i = 1; i <= count; i++)); do
      printf -v s "%s-%0${width}d" "$prefix" "$i"
      k=$((i % 3))
      printf '  %s:\n    image: %s@%s\n' "$s" "${IMGS[k]}" "${DIGS[k]}"
    done
  } >"$p/compose/bench/compose.yaml"
  for ((i = 1; i <= count; i++)); do
    printf -v s "%s-%0${width}d" "$prefix" "$i"
    k=$((i % 3))
    ref="${IMGS[k]}@${DIGS[k]}"
    mkdir -p "$p/modules/$s"
    printf '%s\n' \
      "apiVersion: platform/v2" "kind: Module" "metadata:" "  name: $s" \
      "  description: benchmark module $i" "  tier: app" "spec:" "  runtime:" "    host: e1" \
      "    orchestrator: docker-compose" "    compose_file: compose/bench/compose.yaml" \
      "    compose_service: $s" "    desired_state: $state" "    image_observed: $ref" \
      "    image_digest_pinned_in_compose: true" "  artifact:" "    type: oci-image" \
      "    reference: $ref" >"$p/modules/$s/module.yaml"
  done
}

# in_sync ROOT COUNT NAME: drift-check exits 0 with COUNT in-sync modules; keeps the document.
in_sync() {
  local rc=0
  timeout 120 "$BIN" --root "$1" drift-check --json >"$OUT/$3.json" 2>"$OUT/$3.stderr" || rc=$?
  [ "$rc" -eq 0 ] || { head -c 2000 "$OUT/$3.json" >&2; cat "$OUT/$3.stderr" >&2; die "drift-check on $3 exited $rc, expected 0 (in sync)"; }
  python3 - "$OUT/$3.json" "$2" <<'EOF' || die "drift-check on $3: not every module in sync"
import json, sys
d = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
got = sum(1 for m in d["modules"] if m["status"] == "in-sync")
print(f"  {got}/{len(d['modules'])} in sync, hosts: " + ", ".join(f"{h['name']} {h.get('elapsed_ms')} ms" for h in d["hosts"]), file=sys.stderr)
sys.exit(0 if got == want == len(d["modules"]) else 1)
EOF
}

log "creating $N running containers on e1 ($PAR at a time)"
make_containers e1 "$N" 3 svc run
log "creating $BIG created (not started) containers on e2 ($PAR at a time)"
make_containers e2 "$BIG" 4 big create
log "generating platform repos ($N and $BIG modules)"
P=$W/p$N
PL=$W/p$N-local
PB=$W/p$BIG
make_platform "$P" "$E1_SOCK" "$N" 3 svc running
make_platform "$PL" "$E1_SOCK" "$N" 3 svc running local
make_platform "$PB" "$E2_SOCK" "$BIG" 4 big stopped
log "checking that drift-check says in sync"
in_sync "$P" "$N" "drift-$N"
in_sync "$PL" "$N" "drift-$N-local"
in_sync "$PB" "$BIG" "drift-$BIG"

# ---------------------------------------------------------------------------------------------
# 3. timings

SSH=(ssh -F "$P/ops/ssh_config" -o ControlMaster=no -o ControlPath=none -o ConnectTimeout=5 e2e-host)
H1="unix://$E1_SOCK"
# (b) the floor: one fresh ssh connection, one round trip that answers everything.
cat >"$W/floor.sh" <<EOF
#!/bin/sh
exec ${SSH[*]} 'docker -H $H1 inspect \$(docker -H $H1 ps -aq) >/dev/null; docker -H $H1 image inspect \$(docker -H $H1 ps -a --format "{{.Image}}" | sort -u) >/dev/null'
EOF
# (c) the prototype's design: per module, ssh + docker inspect, then ssh + docker image inspect
# of the image ID read from the first answer; sequential.
# shellcheck disable=SC2016
{
  printf '#!/usr/bin/env bash\nset -euo pipefail\n'
  printf 'for ((i = 1; i <= ${1:-%d}; i++)); do\n' "$N"
  printf '  s=$(printf %%03d "$i")\n'
  printf '  out=$(%s docker -H %s inspect "home-platform-svc-$s-1")\n' "${SSH[*]}" "$H1"
  printf '  [[ $out =~ \\"Image\\":\\ \\"(sha256:[0-9a-f]{64})\\" ]] || { echo "no image id for svc-$s" >&2; exit 1; }\n'
  printf '  %s docker -H %s image inspect "${BASH_REMATCH[1]}" >/dev/null\n' "${SSH[*]}" "$H1"
  printf 'done\n'
} >"$W/per-module.sh"
# Reference rows: what the floor is made of.
cat >"$W/engine.sh" <<EOF
#!/bin/sh
curl -fsS --unix-socket $E1_SOCK 'http://d/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Dhome-platform%22%5D%7D' >/dev/null &&
exec curl -fsS --unix-socket $E1_SOCK 'http://d/v1.41/images/json?digests=1' >/dev/null
EOF
# The ssh user's login shell as sshd starts it for a remote command (`$SHELL -c CMD` with
# SSH_CLIENT set, which makes bash read ~/.bashrc): paid once per remote command by (b) and
# (c), never by drift-check (its master runs no command; the socket is a stream forward).
SSH_USER_SHELL=$(getent passwd root | cut -d: -f7)
SSH_USER_HOME=$(getent passwd root | cut -d: -f6)
cat >"$W/login-shell.sh" <<EOF
#!/bin/sh
exec env -i HOME=$SSH_USER_HOME USER=root LOGNAME=root SHELL=$SSH_USER_SHELL PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin 'SSH_CLIENT=127.0.0.1 40000 22' $SSH_USER_SHELL -c true
EOF
chmod +x "$W"/*.sh
log "sanity: the floor, engine, login-shell and per-module scripts run"
timeout 60 "$W/floor.sh" || die "the floor command failed"
timeout 60 "$W/engine.sh" || die "the engine command failed"
timeout 60 "$W/login-shell.sh" || die "the login-shell command failed"
# A 10-module sample of (c) sizes its runs: at most DESIGN_RUNS, at least 2, within ~6 min.
t=${EPOCHREALTIME/./}
timeout 120 "$W/per-module.sh" 10 || die "the per-module design failed"
t=$(((${EPOCHREALTIME/./} - t) * N / 10 / 1000)) # ms, extrapolated to N modules
runs=$((360000 / (t + 1)))
((runs <= DESIGN_RUNS)) || runs=$DESIGN_RUNS
((runs >= 2)) || runs=2
log "the per-module design should take ~$((t / 1000)) s a run: $runs runs"
DESIGN_RUNS=$runs

log "hyperfine: drift-check vs the floor (+ reference rows), $RUNS runs each"
timeout 900 hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$OUT/main.json" \
  -n "drift-check --json ($N modules, ssh)" "$BIN --root $P drift-check --json" \
  -n "floor: one ssh + docker inspect all" "$W/floor.sh" \
  -n "ref: ssh e2e-host true" "${SSH[*]} true" \
  -n "ref: engine answer, local socket (curl x2)" "$W/engine.sh" \
  -n "ref: drift-check --json ($N modules, local transport)" "$BIN --root $PL drift-check --json" \
  -n "ref: the ssh user's login shell, as sshd starts it" "$W/login-shell.sh" \
  >"$OUT/main.txt" 2>&1 || { cat "$OUT/main.txt" >&2; die "hyperfine (main) failed"; }
cat "$OUT/main.txt" >&2

log "hyperfine: the per-module design, $DESIGN_RUNS runs (sequential ssh calls: slow)"
timeout 1200 hyperfine -N --runs "$DESIGN_RUNS" --export-json "$OUT/design.json" \
  -n "per-module design: 2 x $N ssh+docker calls" "$W/per-module.sh" \
  >"$OUT/design.txt" 2>&1 || { cat "$OUT/design.txt" >&2; die "hyperfine (design) failed"; }
cat "$OUT/design.txt" >&2

# ---------------------------------------------------------------------------------------------
# 4. 2,000 containers: peak RSS and wall time

log "peak RSS at $BIG and $N containers (/usr/bin/time -f %M, 3 runs each)"
rss() { # rss ROOT NAME
  local r
  for r in 1 2 3; do
    timeout 300 /usr/bin/time -f '%M %e' -o "$OUT/rss-$2-$r.txt" "$BIN" --root "$1" drift-check --json >/dev/null ||
      die "drift-check ($2) failed while measuring RSS"
  done
}
rss "$PB" "$BIG"
rss "$P" "$N"
log "hyperfine: drift-check at $BIG containers"
timeout 900 hyperfine -N --warmup 1 --runs 10 --export-json "$OUT/big.json" \
  -n "drift-check --json ($BIG modules, ssh)" "$BIN --root $PB drift-check --json" \
  >"$OUT/big.txt" 2>&1 || { cat "$OUT/big.txt" >&2; die "hyperfine (big) failed"; }
cat "$OUT/big.txt" >&2

# ---------------------------------------------------------------------------------------------
# 5. the table

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
DOCKER_V=$(dk e1 version --format '{{.Server.Version}}')
SSH_V=$(ssh -V 2>&1)
NPROC=$NPROC CPU=$CPU MEM=$MEM LOAD_START=$LOAD_START LOAD_END=$LOAD_END DATE=$DATE \
  DOCKER_V=$DOCKER_V DRIVER=$DRIVER SSH_V=$SSH_V \
  python3 - "$OUT" "$N" "$BIG" <<'EOF' | tee "$OUT/table.md"
import glob, json, os, sys
e = os.environ
out, n, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def res(f):
    return json.load(open(f"{out}/{f}.json"))["results"]
main, design, bigr = res("main"), res("design")[0], res("big")[0]
a, b, ssh_true, engine, local, shell = main
c = design
def ms(r, k="median"):
    return r[k] * 1000
def rss(name):
    vals = [open(f).read().split() for f in sorted(glob.glob(f"{out}/rss-{name}-*.txt"))]
    return max(int(v[0]) for v in vals) / 1024, max(float(v[1]) for v in vals)
rss_big, wall_big_max = rss(big)
rss_n, _ = rss(n)
r1 = ms(a) / ms(b)
r2 = ms(c) / ms(a)
ok = lambda cond: "met" if cond else "**MISSED**"
def row(what, r, how):
    return f"| {what} | {ms(r):.0f} ms (min {ms(r, 'min'):.0f}, max {ms(r, 'max'):.0f}, {len(r['times'])} runs) | {how} |"
print(f"### drift-check benchmark, {n} and {big} containers on one ssh host\n")
print(f"Machine: nproc {e['NPROC']}, {e['CPU']}, {e['MEM']}; load average at start {e['LOAD_START']}, "
      f"at end {e['LOAD_END']}; {e['DATE']}; Docker {e['DOCKER_V']} ({e['DRIVER']} storage), {e['SSH_V']}.\n")
print("| measurement | median | what |")
print("|---|---|---|")
print(row(f"(a) drift-check --json, {n} modules", a, "platformctl over one ssh master + forwarded socket"))
print(row("(b) floor", b, "one fresh ssh connection, docker inspect of every container + image inspect"))
print(row(f"(c) per-module design", c, f"2 x {n} sequential ssh + docker calls (the Python prototype)"))
print(row("ref: ssh connection only", ssh_true, "`ssh e2e-host true`, fresh connection"))
print(row("ref: engine answer", engine, "curl both Engine API lists on the local socket"))
print(row(f"ref: drift-check, local transport", local, f"same {n} modules, no ssh"))
print(row("ref: the ssh user's login shell", shell, "`$SHELL -c true` as sshd starts it (reads ~/.bashrc); paid per remote command by (b) and (c), not by (a)"))
print(row(f"drift-check --json, {big} modules", bigr, f"{big} created containers, one ssh host"))
print(f"| peak RSS, drift-check at {big} containers | {rss_big:.1f} MB | max of 3 runs, `/usr/bin/time -f %M` |")
print(f"| peak RSS, drift-check at {n} containers | {rss_n:.1f} MB | same |")
print()
print("| target | figure | |")
print("|---|---|---|")
print(f"| drift-check / floor <= 1.5x | {r1:.2f}x | {ok(r1 <= 1.5)} |")
print(f"| per-module design / drift-check >= 20x | {r2:.1f}x | {ok(r2 >= 20)} |")
adj = ms(b) - ms(shell)
print(f"| (info) drift-check / floor less one login shell ({adj:.0f} ms) | {ms(a) / adj:.2f}x | {ok(ms(a) / adj <= 1.5)} |")
phys = ms(ssh_true) - ms(shell) + ms(engine)
print(f"| (info) drift-check / physical floor estimate (ssh connection less login shell + engine answer = {phys:.0f} ms) | {ms(a) / phys:.2f}x | {ok(ms(a) / phys <= 1.5)} |")
print(f"| peak RSS at {big} containers < 64 MB | {rss_big:.1f} MB | {ok(rss_big < 64)} |")
EOF
log "done; JSON exports and logs in $OUT"
