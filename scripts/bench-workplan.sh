#!/usr/bin/env bash
# Times `platformctl workplan status` (and, once each, `workplan lint`, `hub sync`, `hub
# check`) on a generated repo of N workplans of 10 tasks (default 1,000) with hyperfine, and
# prints the median. Figures go to docs/PERFORMANCE.md.
#
# Usage: scripts/bench-workplan.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}

if ! command -v hyperfine >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends hyperfine >/dev/null
fi
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
cargo build --release --locked --quiet -p platformctl
cargo build --release --locked --quiet -p platformctl-hub --example gen_workplans

work=$(mktemp -d /tmp/pctl-wpbench-XXXXXX)
trap 'rm -rf "$work"' EXIT
"$target/release/examples/gen_workplans" "$work/gen-repo" "$n"
bin=$target/release/platformctl
cd "$work"

"$bin" workplan lint gen-repo >/dev/null   # must lint clean: exit 0
hyperfine --warmup 3 --runs 30 --export-json "$work/status.json" \
  --command-name "workplan status ($n workplans)" \
  --command-name "workplan status --json ($n workplans)" \
  "$bin workplan status gen-repo" \
  "$bin workplan status gen-repo --json" >&2
python3 - "$work/status.json" "$n" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']}: median {r['median']*1000:.0f} ms "
          f"(mean {r['mean']*1000:.0f} ± {r['stddev']*1000:.0f} ms, {len(r['times'])} runs)")
PY
/usr/bin/time -f "workplan status peak RSS: %M KiB" "$bin" workplan status gen-repo >/dev/null

export PLATFORMCTL_HUB="sqlite:$work/hub.sqlite3"
t() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo "$(( (e - s) / 1000000 )) ms"; }
echo "hub sync, first (11,000 rows, ids into half the files): $(t "$bin" hub sync gen-repo)"
echo "hub sync, nothing to do: $(t "$bin" hub sync gen-repo)"
echo "hub check: $(t "$bin" hub check gen-repo)"
