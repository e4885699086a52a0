# shellcheck shell=bash
# Shared by bench/compare.sh, bench/validate-peers.sh and bench/drift.sh (sourced, never run).
#
# Expects PROG (the script's short name) to be set before sourcing. Provides:
#   ROOT              the repository
#   log MSG / die MSG timestamped progress on stderr / error and exit 1
#   apt_want PKG...   apt-get install what is missing (unattended; `apt-get update` only if
#                     the first try fails)
#   bench_tools       hyperfine (>= 1.13, for -N) and GNU time, installed if missing
#   bench_build LOG   cargo build --release --locked of platformctl and the module generator;
#                     sets BIN and GEN
#   machine_json      the machine as JSON (cores, CPU, memory, load average now, date, commit)
#   free_ports N      N distinct free TCP ports on 127.0.0.1 (bound at once, then released)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T0=${EPOCHREALTIME/./}

log() {
  local us=$((${EPOCHREALTIME/./} - T0))
  printf '%s [+%d.%01ds] %s\n' "$PROG" $((us / 1000000)) $((us % 1000000 / 100000)) "$*" >&2
}
die() {
  printf '%s: ERROR: %s\n' "$PROG" "$*" >&2
  exit 1
}

apt_want() {
  local want=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || want+=("$p")
  done
  [ "${#want[@]}" -gt 0 ] || return 0
  [ "$(id -u)" -eq 0 ] || die "needs root to apt-get install ${want[*]}"
  log "apt-get install ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${want[@]}" </dev/null >/dev/null 2>&1; then
    apt-get update -q </dev/null >/dev/null 2>&1 || die "apt-get update failed"
    apt-get install -y -q --no-install-recommends "${want[@]}" </dev/null >/dev/null ||
      die "apt-get install ${want[*]} failed"
  fi
}

bench_tools() {
  command -v hyperfine >/dev/null 2>&1 || apt_want hyperfine
  [ -x /usr/bin/time ] || apt_want time
  hyperfine -N --runs 2 --style none true >/dev/null 2>&1 ||
    die "hyperfine does not run (needs >= 1.13 for -N)"
}

bench_build() { # bench_build LOGFILE
  log "building release platformctl and the module generator"
  (cd "$ROOT" && cargo build --release --locked -p platformctl &&
    cargo build --release --locked -p platformctl-catalog --example gen_platform) >"$1" 2>&1 || {
    tail -30 "$1" >&2
    die "cargo build failed (log: $1)"
  }
  local target=${CARGO_TARGET_DIR:-$ROOT/target}
  case "$target" in /*) ;; *) target=$ROOT/$target ;; esac
  BIN=$target/release/platformctl
  GEN=$target/release/examples/gen_platform
  if [ ! -x "$BIN" ] || [ ! -x "$GEN" ]; then die "no binary at $BIN or $GEN"; fi
}

machine_json() {
  local commit dirty=""
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  # --no-optional-locks: a read-only status that does not refresh the index.
  if [ -n "$(git -C "$ROOT" --no-optional-locks status --porcelain 2>/dev/null)" ]; then dirty="+dirty"; fi
  python3 - "$commit$dirty" <<'EOF'
import json, os, sys, time
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
print(json.dumps({
    "nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(mem / 1048576),
    "load": " / ".join(open("/proc/loadavg").read().split()[:3]),
    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": sys.argv[1],
}))
EOF
}

free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}
