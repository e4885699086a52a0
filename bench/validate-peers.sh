#!/usr/bin/env bash
# validate benchmark against schema-only peers (issue 5), a part of bench/compare.sh that also
# runs alone: `platformctl validate all` on the generated 10,000-module platform, side by side
# with check-jsonschema (Python) and ajv-cli (Node) checking the same 10,000 module.yaml files
# against `platformctl schema module`.
#
# Usage: bench/validate-peers.sh     (as root when hyperfine, GNU time or Node must be installed)
#
# One unattended run (~3-4 min on a 2-core VM; check-jsonschema dominates) does:
#   1. install the peers, idempotently and only under /tmp: check-jsonschema from PyPI into a
#      venv, ajv-cli from npm into a prefix (ajv-formats too, only if the schema uses
#      `format`); hyperfine, GNU time and Node with apt-get if missing; build the release
#      platformctl and the generator (the project's own target/);
#   2. generate the platform (crates/catalog/benches/gen.rs) and export the schema;
#   3. assert all three accept every generated file (exit 0; that run gives the peak RSS,
#      `/usr/bin/time -f %M`; platformctl: the largest of 3 runs) and reject a deliberately
#      broken manifest (exit != 0), so each does schema work on the same valid input; then
#      hyperfine each (warmup, --export-json);
#   4. write $BENCH_OUT/meta.json and print the part's table (bench/table.py validate), also
#      into $BENCH_OUT/table.md.
# It exits non-zero when a command that must succeed fails; a missed target (validate >= 50x
# faster than check-jsonschema) is reported in the table (MISSED), never an error exit.
#
# ajv-cli reads .yaml data files with js-yaml 3 (`safeLoad`, YAML 1.1 types), which turns the
# unquoted `image_observed_at: 2026-05-20` into a Date, so it rejects every valid manifest
# ("must be string"). The script probes that; when it happens it converts the manifests ONCE
# to JSON (js-yaml CORE_SCHEMA, i.e. YAML 1.2 core types: the date stays a string), outside
# the timed region, and times ajv on the JSON files -- ajv then does no YAML parsing at all,
# which favours it. check-jsonschema reads the YAML itself (timestamps kept as strings).
#
# Knobs (environment):
#   BENCH_OUT=DIR        hyperfine JSON exports, logs, meta.json and table.md (default: a new
#                        /tmp/platformctl-bench-validate-XXXXXX, kept)
#   BENCH_N=10000        modules
#   BENCH_KEEP=1         keep the generated platform (default: removed on exit)
#   RUNS_PCTL=30 RUNS_AJV=15 RUNS_CJS=10   hyperfine runs (warmups: 3, 2, 1)
#   VENV=/tmp/pctl-bench-venv  NPM_PREFIX=/tmp/pctl-bench-npm
#   CHECK_JSONSCHEMA_VERSION=0.39.0  AJV_CLI_VERSION=5.0.0   (pinned peers)
#   BENCH_SKIP_BUILD=1   use the binaries bench/compare.sh just built
set -euo pipefail
PROG=validate-peers.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

n=${BENCH_N:-10000}
runs_pctl=${RUNS_PCTL:-30}
runs_ajv=${RUNS_AJV:-15}
runs_cjs=${RUNS_CJS:-10}
venv=${VENV:-/tmp/pctl-bench-venv}
npm_prefix=${NPM_PREFIX:-/tmp/pctl-bench-npm}
cjs_version=${CHECK_JSONSCHEMA_VERSION:-0.39.0}
ajv_version=${AJV_CLI_VERSION:-5.0.0}
# Package-manager caches and logs stay under /tmp too.
export PIP_CACHE_DIR=/tmp/pctl-bench-cache/pip PIP_DISABLE_PIP_VERSION_CHECK=1
export npm_config_cache=/tmp/pctl-bench-cache/npm npm_config_update_notifier=false
export npm_config_audit=false npm_config_fund=false

out=${BENCH_OUT:-$(mktemp -d /tmp/platformctl-bench-validate-XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/pctl-bench-validate-work-XXXXXX)
cleanup() { if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept: $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

machine_json >"$out/machine.json"
log "results in $out"

# ---------------------------------------------------------------- 1. install and build
bench_tools
command -v npm >/dev/null 2>&1 || apt_want nodejs npm
node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' ||
  die "Node >= 18 is required (found $(node -v))"

if [ "$("$venv/bin/check-jsonschema" --version 2>/dev/null | awk '{print $NF}')" != "$cjs_version" ]; then
  log "installing check-jsonschema $cjs_version into $venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet "check-jsonschema==$cjs_version" >"$out/pip.log" 2>&1 ||
    die "pip install failed (see $out/pip.log)"
fi
cjs=$venv/bin/check-jsonschema

ajv_installed() { node -p "require('$npm_prefix/node_modules/ajv-cli/package.json').version" 2>/dev/null; }
if [ "$(ajv_installed)" != "$ajv_version" ]; then
  log "installing ajv-cli $ajv_version into $npm_prefix"
  mkdir -p "$npm_prefix"
  npm install --prefix "$npm_prefix" "ajv-cli@$ajv_version" >"$out/npm.log" 2>&1 ||
    die "npm install failed (see $out/npm.log)"
fi
ajv=$npm_prefix/node_modules/.bin/ajv

if [ "${BENCH_SKIP_BUILD:-0}" = 1 ] && [ -n "${BIN:-}" ] && [ -n "${GEN:-}" ]; then
  log "using $BIN"
else
  bench_build "$out/build.log"
fi
bin=$BIN
gen=$GEN

# ---------------------------------------------------------------- 2. platform and schema
plat=$work/platform
log "generating $n modules in $plat"
"$gen" "$plat" "$n"
"$bin" schema module >"$work/schema.json"
cp "$work/schema.json" "$out/schema.json"
nfiles=$(find "$plat/modules" -name module.yaml | wc -l)
[ "$nfiles" -eq "$n" ] || die "generator wrote $nfiles manifests, expected $n"

ajv_extra=()
if grep -q '"format"' "$work/schema.json"; then # draft 2020-12 formats need ajv-formats
  [ -d "$npm_prefix/node_modules/ajv-formats" ] ||
    npm install --prefix "$npm_prefix" "ajv-cli@$ajv_version" ajv-formats >>"$out/npm.log" 2>&1 ||
    die "npm install ajv-formats failed"
  ajv_extra=(-c ajv-formats)
fi

# Controls: a valid 3-module platform and one whose svc-00001 has `tier: bogus`.
"$gen" "$work/ok" 3
"$gen" "$work/bad" 3
sed -i 's/^  tier: .*/  tier: bogus/' "$work/bad/modules/svc-00001/module.yaml"

# y2j MODULES_DIR OUT_DIR: module.yaml -> module.json, js-yaml CORE_SCHEMA (YAML 1.2 core types).
cat >"$work/y2j.js" <<'JS'
const fs = require('fs'), path = require('path');
const yaml = require(process.env.NPM_PREFIX + '/node_modules/js-yaml');
const [src, dst] = process.argv.slice(2);
let n = 0;
for (const d of fs.readdirSync(src)) {
  const text = fs.readFileSync(path.join(src, d, 'module.yaml'), 'utf8');
  fs.mkdirSync(path.join(dst, d), { recursive: true });
  fs.writeFileSync(path.join(dst, d, 'module.json'),
                   JSON.stringify(yaml.load(text, { schema: yaml.CORE_SCHEMA })));
  n++;
}
console.log(n);
JS
y2j() { NPM_PREFIX=$npm_prefix node "$work/y2j.js" "$1" "$2"; }

# Does ajv-cli accept the valid YAML manifests as they are?
if "$ajv" validate --spec=draft2020 "${ajv_extra[@]}" -s "$work/schema.json" \
  -d "$work/ok/modules/*/module.yaml" >"$out/ajv-yaml-probe.log" 2>&1; then
  ajv_input=yaml
  ajv_glob="$plat/modules/*/module.yaml"
  ajv_bad="$work/bad/modules/*/module.yaml"
  ajv_note="reads the YAML files itself"
else
  ajv_input=json
  log "ajv-cli rejects the valid YAML (js-yaml 3 reads 'image_observed_at: 2026-05-20' as a Date;"
  log "  see $out/ajv-yaml-probe.log): converting the manifests to JSON once, outside the timing"
  converted=$(y2j "$plat/modules" "$work/json/modules")
  [ "$converted" -eq "$n" ] || die "converted $converted manifests, expected $n"
  y2j "$work/bad/modules" "$work/bad-json/modules" >/dev/null
  ajv_glob="$work/json/modules/*/module.json"
  ajv_bad="$work/bad-json/modules/*/module.json"
  ajv_note="JSON copies (converted once, untimed: ajv-cli's js-yaml 3 turns the unquoted date into a Date and rejects every valid YAML file)"
fi

# The three commands, exactly as timed (sh -c; the shell expands check-jsonschema's glob,
# ~300 KB of relative paths, well under ARG_MAX: one process, no splitting).
cmd_pctl="$bin --root $plat validate all --json"
cmd_cjs="cd $plat && $cjs --schemafile $work/schema.json modules/*/module.yaml"
cmd_ajv="$ajv validate --spec=draft2020 ${ajv_extra[*]} -s $work/schema.json -d \"$ajv_glob\""

# ---------------------------------------------------------------- 3a. same work: accept / reject
rss() { # rss NAME CMD: run once under GNU time, must exit 0; appends peak RSS (KiB) to rss-NAME.txt
  local name=$1 cmd=$2
  /usr/bin/time -f %M -a -o "$out/rss-$name.txt" sh -c "$cmd" >"$out/$name.stdout" 2>"$out/$name.stderr" ||
    die "$name rejected the valid generated platform (see $out/$name.stderr)"
}
must_reject() { # must_reject NAME CMD
  if sh -c "$2" >"$out/$1.reject.log" 2>&1; then die "$1 accepted a manifest with tier: bogus"; fi
}
log "checking that all three accept the $n valid manifests (and measuring peak RSS)"
rm -f "$out"/rss-*.txt
for _ in 1 2 3; do rss platformctl "$cmd_pctl"; done
grep -q "\"modules\": $n," "$out/platformctl.stdout" || die "platformctl did not report $n modules"
rss ajv "$cmd_ajv"
nvalid=$(cat "$out/ajv.stdout" "$out/ajv.stderr" | grep -c ' valid$' || true)
[ "$nvalid" -eq "$n" ] || die "ajv reported $nvalid valid files, expected $n"
rss check-jsonschema "$cmd_cjs"
grep -q 'ok -- validation done' "$out/check-jsonschema.stdout" || die "check-jsonschema did not say ok"
log "checking that all three reject tier: bogus"
must_reject platformctl "$bin --root $work/bad validate all --json"
must_reject ajv "$ajv validate --spec=draft2020 ${ajv_extra[*]} -s $work/schema.json -d \"$ajv_bad\""
must_reject check-jsonschema "cd $work/bad && $cjs --schemafile $work/schema.json modules/*/module.yaml"

# ---------------------------------------------------------------- 3b. timing
hf() { # hf NAME WARMUP RUNS CMD
  log "hyperfine: $1 ($3 runs)"
  hyperfine --style basic --warmup "$2" --runs "$3" --export-json "$out/$1.json" \
    --command-name "$1" "$4" >"$out/$1.txt" 2>&1 || { cat "$out/$1.txt" >&2; die "hyperfine ($1) failed"; }
  grep -E 'Time|Range' "$out/$1.txt" >&2 || true
}
hf platformctl 3 "$runs_pctl" "$cmd_pctl"
hf ajv 2 "$runs_ajv" "$cmd_ajv"
hf check-jsonschema 1 "$runs_cjs" "$cmd_cjs"

# ---------------------------------------------------------------- 4. meta and table
python3 - "$out/meta.json" <<EOF
import json, sys
json.dump({
    "n": $n, "load_end": " / ".join(open("/proc/loadavg").read().split()[:3]),
    "cjs_version": "$cjs_version", "ajv_version": "$ajv_version",
    "python": "$("$venv/bin/python" -c 'import platform; print(platform.python_version())')",
    "node": "$(node -v | tr -d v)", "ajv_input": "$ajv_input", "ajv_note": "$ajv_note",
}, open(sys.argv[1], "w"), indent=1)
EOF
python3 "$ROOT/bench/table.py" validate "$out" | tee "$out/table.md"
log "hyperfine exports, logs and table.md: $out"
