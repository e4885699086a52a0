#!/usr/bin/env bash
# Issue 5's one command: every performance figure of docs/PERFORMANCE.md, in one unattended run.
#
# Usage: sudo bench/compare.sh       (root: private Docker engines, apt-get when tools are missing)
#
# It installs what it needs (hyperfine, GNU time, Node via apt-get when missing;
# check-jsonschema, Ansible and the Python docker package from PyPI into venvs under /tmp;
# ajv-cli from npm into a prefix under /tmp; the e2e harness's packages), builds the release
# binary once, then runs the two parts, each of which also runs alone:
#   bench/validate-peers.sh   validate over 10,000 generated modules vs check-jsonschema and
#                             ajv-cli on platformctl's own exported schema; peak RSS (~3-4 min)
#   bench/drift.sh            drift-check over one ssh host with 200 containers vs the
#                             one-round-trip floor, the per-module design and Ansible; 5 hosts
#                             x 200 vs 1 host, without and with a 20 ms round trip; peak RSS
#                             and wall time at 2,000 containers (~12 min)
# and prints the document's tables (bench/table.py all): the machine and load, the main table
# (each figure, what it is compared with, the ratio, the target, met or MISSED), then each
# part's detailed table. Everything is also kept under $BENCH_OUT (table.md, hyperfine JSON
# exports, logs). It exits non-zero only when a command that must succeed fails; a missed
# target shows as MISSED in the table.
#
# Knobs (environment; the parts have more, see their headers):
#   BENCH_OUT=DIR      results (default: a new /tmp/platformctl-bench-XXXXXX, kept)
#   BENCH_QUICK=1      skip the slowest peer measurements (per-module design, Ansible loop) and
#                      time check-jsonschema 3 times instead of 10: ~7 min instead of ~16
#   VALIDATE_N=10000   modules of the validate part
#   DRIFT_N=200        containers per host of the drift part
set -euo pipefail
PROG=compare.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" -eq 0 ] || die "run as root (sudo bench/compare.sh): bench/drift.sh starts private Docker engines"
OUT=${BENCH_OUT:-$(mktemp -d /tmp/platformctl-bench-XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
machine_json >"$OUT/machine.json"
log "results in $OUT"

bench_tools
bench_build "$OUT/build.log"
export BIN GEN BENCH_SKIP_BUILD=1
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  export RUNS_CJS=${RUNS_CJS:-3}
fi

log "part 1: bench/validate-peers.sh"
BENCH_OUT=$OUT/validate BENCH_N=${VALIDATE_N:-10000} "$ROOT/bench/validate-peers.sh" >/dev/null
log "part 2: bench/drift.sh"
BENCH_OUT=$OUT/drift BENCH_N=${DRIFT_N:-200} "$ROOT/bench/drift.sh" >/dev/null

cut -d' ' -f1-3 /proc/loadavg | sed 's| | / |g' >"$OUT/load_end"
python3 "$ROOT/bench/table.py" all "$OUT" | tee "$OUT/table.md"
log "done: $OUT/table.md"
