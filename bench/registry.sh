#!/usr/bin/env bash
# Registry truth benchmark (issue 10): what `drift-check --registry` costs on top of
# `drift-check`, on real parts: one private Docker engine and sshd (scripts/e2e/realparts.sh),
# and a Debian docker-registry of the benchmark's own (access log on) behind a TCP proxy that
# adds a round-trip time to every registry connection (bench/delay-proxy.py).
#
# Usage: bench/registry.sh            (as root: the private dockerd engine needs it)
#
# One unattended run (~1-2 min on a 2-core VM):
#   1. install what it needs (scripts/e2e/install-deps.sh, hyperfine, GNU time), build the
#      release platformctl (BENCH_SKIP_BUILD=1 with BIN=… uses a built one);
#   2. `realparts.sh up` (one instance; `down` on exit, always); the benchmark's own sshd on
#      127.0.0.1 with a lean login shell (as bench/drift.sh: `SetEnv HOME=<empty dir>`), alias
#      bench-h1; its own docker-registry on 127.0.0.1 (access log on) and delay-proxy.py in
#      front of it, BENCH_DELAY_MS each way;
#   3. BENCH_IMAGES distinct images: the harness's honcho-api:3.0.6 pushed through the proxy as
#      PROXY/bench/img-NN:1.0 (so the engine holds their real RepoDigests); BENCH_N running,
#      compose-labelled containers, container i on image i % BENCH_IMAGES; a platform repo whose
#      modules desire those tags (tag only, no digest: the case registry truth is for), one ssh
#      host;
#   4. sanity: `drift-check --registry --refresh --json` exits 0, every module in sync with
#      registry status `current` and `digestVerifiedBy: registry`; the manifest requests of
#      that run, counted in the registry's access log, are at most one per distinct image;
#   5. hyperfine: `drift-check --json` vs `drift-check --registry --refresh --json` (the
#      registry asked on every run: --refresh skips reading the cache), and the ratio of their
#      means (target <= 1.3x);
#   6. `updates --json` twice: the second run, on a warm cache, must add no line to the
#      registry's access log;
#   7. $OUT/result.json and a markdown table on stdout (also $OUT/table.md).
# It exits non-zero when a command that must succeed fails; a missed target is reported in the
# table (MISSED), never an error exit.
#
# Knobs (environment):
#   BENCH_OUT=DIR        hyperfine exports, logs, result.json, table.md (default: a new
#                        /tmp/platformctl-bench-registry-XXXXXX, kept)
#   BENCH_N=100          modules (= containers)
#   BENCH_IMAGES=40      distinct images they share (1..BENCH_N)
#   BENCH_RUNS=15        hyperfine runs (>= 10)
#   BENCH_DELAY_MS=10    one-way delay in front of the registry (round trip: twice this)
#   BENCH_PAR=8          parallel docker calls while pushing and creating containers
#   BENCH_SKIP_BUILD=1   use $BIN
set -euo pipefail
PROG=registry.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${BENCH_N:-100}
IMAGES=${BENCH_IMAGES:-40}
RUNS=${BENCH_RUNS:-15}
DELAY_MS=${BENCH_DELAY_MS:-10}
PAR=${BENCH_PAR:-8}
((RUNS >= 10)) || RUNS=10
((N >= 1 && N <= 999 && IMAGES >= 1 && IMAGES <= N)) || die "BENCH_N 1..999, BENCH_IMAGES 1..BENCH_N"
[ "$(id -u)" -eq 0 ] || die "run as root: realparts.sh starts a private dockerd engine"

OUT=${BENCH_OUT:-$(mktemp -d /tmp/platformctl-bench-registry-XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
machine_json >"$OUT/machine.json"
log "results in $OUT"

# ---------------------------------------------------------------------------------------------
# 1. tools, binary

"$ROOT/scripts/e2e/install-deps.sh" >"$OUT/install-deps.log" 2>&1 ||
  { tail -20 "$OUT/install-deps.log" >&2; die "scripts/e2e/install-deps.sh failed"; }
bench_tools
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ] && [ -n "${BIN:-}" ]; then
  log "using $BIN"
else
  bench_build "$OUT/build.log"
fi

# ---------------------------------------------------------------------------------------------
# 2. real parts, the benchmark's sshd, registry and delay proxy; cleanup

D=
PIDS=() # processes this script started itself (sshd, registry, proxy), ended by pid
cleanup() {
  local rc=$? p i
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for ((i = 0; i < 30; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  if [ -n "$D" ]; then
    log "realparts.sh down $D"
    "$ROOT/scripts/e2e/realparts.sh" down "$D" >>"$OUT/down.log" 2>&1 || log "down failed: see $OUT/down.log"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

D=$(mktemp -d /tmp/pc-XXXXXX)
log "realparts.sh up $D"
"$ROOT/scripts/e2e/realparts.sh" up "$D" >"$OUT/up.log" 2>&1 ||
  { tail -5 "$OUT/up.log" >&2; die "realparts.sh up failed (log: $OUT/up.log)"; }
# shellcheck disable=SC1091
. "$D/env"
export DOCKER_CONFIG
SOCK=$E1_SOCK
W=$D/bench
mkdir -p "$W/home" "$W/registry"
dk() { timeout 120 docker -H "unix://$SOCK" "$@"; }

read -r BPORT RPORT PPORT <<<"$(free_ports 3)"
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
sed -e "s/^Port .*/Port $BPORT/" -e "s#^PidFile .*#PidFile $W/sshd.pid#" "$D/ssh/sshd_config" >"$W/sshd_config"
printf 'SetEnv HOME=%s\n' "$W/home" >>"$W/sshd_config"
"$SSHD" -t -f "$W/sshd_config" || die "sshd rejects $W/sshd_config"
setsid "$SSHD" -D -e -f "$W/sshd_config" </dev/null >"$OUT/sshd.log" 2>&1 &
PIDS+=($!)
printf 'bench-sshd %s\n' "$(cut -d' ' -f1,2 "$D/ssh/host_ed25519.pub")" >"$W/known_hosts"
cat >"$W/ssh_config" <<EOF
Host bench-h1
  HostName 127.0.0.1
  Port $BPORT
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

cat >"$W/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $W/registry/data
http:
  addr: 127.0.0.1:$RPORT
EOF
REGLOG=$OUT/registry.log
setsid docker-registry serve "$W/registry/config.yml" </dev/null >"$REGLOG" 2>&1 &
PIDS+=($!)
setsid python3 "$ROOT/bench/delay-proxy.py" "$PPORT" "$RPORT" "$DELAY_MS" </dev/null >"$OUT/delay-proxy.log" 2>&1 &
PIDS+=($!)
RP=127.0.0.1:$PPORT # the registry as the modules name it: through the proxy

for ((i = 0; i < 100; i++)); do
  curl -fsS -m 2 "http://$RP/v2/" >/dev/null 2>&1 &&
    ssh -F "$W/ssh_config" -o ConnectTimeout=2 bench-h1 true 2>/dev/null && break
  sleep 0.1
done
curl -fsS -m 2 "http://$RP/v2/" >/dev/null || die "the registry does not answer through the proxy (logs: $REGLOG, $OUT/delay-proxy.log)"
ssh -F "$W/ssh_config" bench-h1 true || die "ssh bench-h1 does not answer ($OUT/sshd.log)"

# ---------------------------------------------------------------------------------------------
# 3. images, containers, platform repo

log "pushing $IMAGES images through the proxy ($((2 * DELAY_MS)) ms round trip)"
for ((j = 0; j < IMAGES; j++)); do printf '%s/bench/img-%02d:1.0\n' "$RP" "$j"; done >"$W/images.list"
while read -r ref; do dk tag "$IMG_API_306" "$ref"; done <"$W/images.list"
# shellcheck disable=SC2016
xargs -P "$PAR" -L 1 sh -c 'exec timeout 120 docker -H "unix://'"$SOCK"'" push -q "$1" >/dev/null' sh \
  <"$W/images.list" || die "docker push failed"

log "$N running containers, image i % $IMAGES"
for ((i = 1; i <= N; i++)); do printf '%03d %s/bench/img-%02d:1.0\n' "$i" "$RP" $((i % IMAGES)); done >"$W/containers.list"
# shellcheck disable=SC2016
xargs -P "$PAR" -L 1 sh -c '
  exec timeout 120 docker -H "unix://'"$SOCK"'" run -d --network none --name "home-platform-svc-$1-1" \
    --label com.docker.compose.project=home-platform --label "com.docker.compose.service=svc-$1" \
    --label com.docker.compose.container-number=1 "$2" sleep 100000 >/dev/null
' sh <"$W/containers.list" || die "creating the containers failed"

P=$W/platform
python3 - "$P" "$W/ssh_config" "$SOCK" "$W/containers.list" <<'EOF'
import os, shutil, sys
out, ssh_config, sock, listing = sys.argv[1:5]
os.makedirs(f"{out}/ops", exist_ok=True)
os.makedirs(f"{out}/compose/h1", exist_ok=True)
shutil.copy(ssh_config, f"{out}/ops/ssh_config")
with open(f"{out}/platform.toml", "w") as f:
    f.write('[platform]\nname = "bench"\ncompose_project = "home-platform"\n\n'
            '[ssh]\nconfig = "ops/ssh_config"\n\n'
            f'[hosts.h1]\ntransport = "ssh"\nssh = "bench-h1"\ndocker_socket = "{sock}"\n'
            'connect_timeout_s = 5\n')
lines = ["name: home-platform", "services:"]
for row in open(listing):
    n, ref = row.split()
    svc, mod = f"svc-{n}", f"h1-svc-{n}"
    lines += [f"  {svc}:", f"    image: {ref}", '    command: ["sleep", "100000"]',
              "    network_mode: none"]
    os.makedirs(f"{out}/modules/{mod}", exist_ok=True)
    with open(f"{out}/modules/{mod}/module.yaml", "w") as f:
        f.write("\n".join([
            "apiVersion: platform/v2", "kind: Module", "metadata:", f"  name: {mod}",
            f"  description: registry benchmark module {n}", "  tier: app", "spec:",
            "  runtime:", "    host: h1", "    orchestrator: docker-compose",
            "    compose_file: compose/h1/compose.yaml", f"    compose_service: {svc}",
            "    desired_state: running", f"    image_observed: {ref}",
            "    image_digest_pinned_in_compose: false", "  artifact:",
            "    type: oci-image", f"    reference: {ref}", ""]))
with open(f"{out}/compose/h1/compose.yaml", "w") as f:
    f.write("\n".join(lines) + "\n")
EOF

# ---------------------------------------------------------------------------------------------
# 4. sanity, and the manifest requests of one run

export PLATFORMCTL_CACHE_DIR=$W/cache
manifest_requests() { # lines of platformctl's manifest requests in the access log so far
  grep 'platformctl-registry/' "$REGLOG" | grep -cE '"(HEAD|GET) /v2/[^ ]*/manifests/' || true
}
all_requests() { grep -c 'platformctl-registry/' "$REGLOG" || true; }

log "sanity: drift-check in sync, with and without --registry"
rc=0
timeout 120 "$BIN" --root "$P" drift-check --json >"$OUT/plain.json" 2>"$OUT/plain.stderr" || rc=$?
[ "$rc" -eq 0 ] || { cat "$OUT/plain.stderr" >&2; die "drift-check exited $rc, expected 0"; }
m0=$(manifest_requests)
rc=0
timeout 120 "$BIN" --root "$P" drift-check --registry --refresh --json >"$OUT/registry.json" 2>"$OUT/registry.stderr" || rc=$?
[ "$rc" -eq 0 ] || { cat "$OUT/registry.stderr" >&2; die "drift-check --registry exited $rc, expected 0"; }
sleep 0.3 # the access log is written after the answer
MANIFEST_REQS=$(($(manifest_requests) - m0))
python3 - "$OUT/registry.json" "$N" <<'EOF' || die "drift-check --registry: not every module in sync and verified by the registry"
import json, sys
d = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
mods = d["modules"]
ok = [m for m in mods if m["status"] == "in-sync" and m.get("registry", {}).get("status") == "current"
      and m.get("evidence", {}).get("digestVerifiedBy") == "registry"]
r = d["registries"][0]
print(f"  {len(ok)}/{len(mods)} in sync and verified by the registry; registry: {r['heads']} HEAD, "
      f"{r['gets']} GET, {r['tokens']} token, {r['cached']} cached", file=sys.stderr)
sys.exit(0 if len(ok) == len(mods) == n and r["answered"] else 1)
EOF

# ---------------------------------------------------------------------------------------------
# 5. timings

log "hyperfine: drift-check vs drift-check --registry --refresh ($RUNS runs each)"
timeout 900 hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$OUT/hyperfine.json" \
  -n "drift-check --json ($N modules, 1 ssh host)" "$BIN --root $P drift-check --json" \
  -n "drift-check --registry --refresh --json ($IMAGES images, +$((2 * DELAY_MS)) ms RTT)" \
  "$BIN --root $P drift-check --registry --refresh --json" >"$OUT/hyperfine.txt" 2>&1 ||
  { cat "$OUT/hyperfine.txt" >&2; die "hyperfine failed"; }
grep -E '^Benchmark|Time \(mean' "$OUT/hyperfine.txt" >&2 || true

# ---------------------------------------------------------------------------------------------
# 6. updates on a warm cache

log "updates twice: the second on a warm cache"
rm -rf "$PLATFORMCTL_CACHE_DIR"
rc=0
timeout 120 "$BIN" --root "$P" updates --json >"$OUT/updates-cold.json" 2>"$OUT/updates-cold.stderr" || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || { cat "$OUT/updates-cold.stderr" >&2; die "updates exited $rc"; }
sleep 0.3
a0=$(all_requests)
rc=0
timeout 120 "$BIN" --root "$P" updates --json >"$OUT/updates-warm.json" 2>"$OUT/updates-warm.stderr" || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || { cat "$OUT/updates-warm.stderr" >&2; die "updates exited $rc"; }
sleep 0.3
WARM_REQS=$(($(all_requests) - a0))

# ---------------------------------------------------------------------------------------------
# 7. result

python3 - "$OUT" "$N" "$IMAGES" "$DELAY_MS" "$MANIFEST_REQS" "$WARM_REQS" <<'EOF' | tee "$OUT/table.md"
import json, sys
out, n, images, delay, manifest_reqs, warm_reqs = sys.argv[1], *map(int, sys.argv[2:])
machine = json.load(open(f"{out}/machine.json"))
res = json.load(open(f"{out}/hyperfine.json"))["results"]
plain, reg = res[0], res[1]
ratio = reg["mean"] / plain["mean"]
warm = json.load(open(f"{out}/updates-warm.json"))
warm_counts = [(r["heads"], r["gets"], r["tokens"]) for r in warm["registries"]]
ok = lambda b: "met" if b else "MISSED"
rows = [
    ("drift-check --json", f"{plain['mean']*1000:.0f} ms ± {plain['stddev']*1000:.0f}", ""),
    (f"drift-check --registry --refresh --json (+{2*delay} ms RTT to the registry)",
     f"{reg['mean']*1000:.0f} ms ± {reg['stddev']*1000:.0f}", ""),
    ("ratio", f"{ratio:.2f}x", f"≤ 1.3x: {ok(ratio <= 1.3)}"),
    ("manifest requests in one --registry run (registry access log)", str(manifest_reqs),
     f"≤ {images} (one per distinct image): {ok(manifest_reqs <= images)}"),
    ("requests of `updates` on a warm cache (access log; its report: HEAD/GET/token)",
     f"{warm_reqs} ({', '.join('/'.join(map(str, c)) for c in warm_counts)})",
     f"0: {ok(warm_reqs == 0 and all(c == (0, 0, 0) for c in warm_counts))}"),
]
print(f"Registry truth, {n} modules sharing {images} images, one ssh host; "
      f"{machine['nproc']} CPU {machine['cpu']}, commit {machine['commit']}, {machine['date']}\n")
print("| measure | value | target |\n|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} |")
json.dump({"n": n, "images": images, "rtt_ms": 2 * delay, "plain_mean_s": plain["mean"],
           "registry_mean_s": reg["mean"], "ratio": ratio, "manifest_requests": manifest_reqs,
           "warm_updates_requests": warm_reqs}, open(f"{out}/result.json", "w"), indent=1)
EOF
log "done; exports and logs in $OUT"
