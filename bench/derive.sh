#!/usr/bin/env bash
# metadata derive at scale: a dry run over N generated modules (default 10,000) must take
# under 2 s (issue 11). Usage: bench/derive.sh [N] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-10000}
runs=${2:-5}
bin=${PLATFORMCTL:-$here/../target/release/platformctl}
[ -x "$bin" ] || { echo "build first: cargo build --release (or set PLATFORMCTL)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 "$here/gen_derive_platform.py" "$dir/p" "$n"
best=
for _ in $(seq "$runs"); do
  s=$(date +%s.%N)
  code=0
  "$bin" --root "$dir/p" metadata derive --all --json > "$dir/out.json" || code=$?
  e=$(date +%s.%N)
  [ "$code" = 1 ] || { echo "unexpected exit $code" >&2; exit 2; }
  t=$(echo "$e - $s" | bc)
  if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
done
props=$(python3 -c "import json,sys; d=json.load(open('$dir/out.json')); print(len(d['proposals']), len(d['refusals']))")
echo "metadata derive --all (dry run), $n modules: best of $runs ${best}s (proposals refusals: $props)"
if [ "$(echo "$best < 2" | bc)" != 1 ]; then echo "over the 2 s budget" >&2; exit 1; fi
