#!/usr/bin/env bash
# Times the whole `platformctl validate` command on a generated platform of N modules
# (default 10,000) with hyperfine, and prints the median. Figures go to docs/PERFORMANCE.md.
#
# Usage: scripts/bench-validate.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}

if ! command -v hyperfine >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends hyperfine >/dev/null
fi
cargo build --release --locked --quiet -p platformctl
cargo build --release --locked --quiet -p platformctl-catalog --example gen_platform

work=$(mktemp -d /tmp/pctl-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
target/release/examples/gen_platform "$work/platform" "$n"
bin=$PWD/target/release/platformctl

"$bin" --root "$work/platform" validate all >/dev/null   # must be valid: exit 0
hyperfine --warmup 3 --runs 20 --export-json "$work/validate.json" \
  --command-name "validate ($n modules)" \
  "$bin --root $work/platform validate all --json" >&2
python3 - "$work/validate.json" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"validate, {sys.argv[2]} modules: median {r['median']*1000:.0f} ms "
      f"(mean {r['mean']*1000:.0f} ± {r['stddev']*1000:.0f} ms, {len(r['times'])} runs)")
PY
/usr/bin/time -f "peak RSS: %M KiB" "$bin" --root "$work/platform" validate all --json >/dev/null
