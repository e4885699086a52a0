#!/usr/bin/env bash
# validate benchmark against schema-only peers (issue 5): `platformctl validate all` on the
# generated 10,000-module platform, side by side with check-jsonschema (Python) and ajv-cli
# (Node) checking the same 10,000 module.yaml files against `platformctl schema module`.
#
# Usage: bench/validate-peers.sh            (as root when hyperfine or GNU time must be installed)
#
# One unattended run (~8-10 min on a loaded 2-core VM; check-jsonschema dominates) does:
#   1. install the peers, idempotently and only under /tmp: check-jsonschema from PyPI into a
#      venv, ajv-cli from npm into a prefix (ajv-formats too, only if the schema uses
#      `format`), hyperfine and GNU time with apt-get if missing; build the release
#      platformctl and the generator (the project's own target/);
#   2. generate the platform (crates/catalog/benches/gen.rs) and export the schema;
#   3. assert all three accept every generated file (exit 0; that same run gives the peak RSS,
#      `/usr/bin/time -f %M`) and reject a deliberately broken manifest (exit != 0), so each
#      does schema work on the same valid input; then hyperfine each (warmup, --export-json);
#   4. print medians, CPU time, ratios peer/platformctl and peak RSS;
#   5. print a markdown table (machine, load average, date, all figures) on stdout and into
#      $BENCH_OUT/table.md.
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
#   BENCH_OUT=DIR        hyperfine JSON exports, logs and table.md (default: a new
#                        /tmp/platformctl-bench-validate-XXXXXX, kept)
#   BENCH_N=10000        modules
#   BENCH_KEEP=1         keep the generated platform (default: removed on exit)
#   RUNS_PCTL=30 RUNS_AJV=15 RUNS_CJS=10   hyperfine runs (warmups: 3, 2, 1)
#   VENV=/tmp/pctl-bench-venv  NPM_PREFIX=/tmp/pctl-bench-npm
#   CHECK_JSONSCHEMA_VERSION=0.39.0  AJV_CLI_VERSION=5.0.0   (pinned peers)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

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
work=$(mktemp -d /tmp/pctl-bench-validate-work-XXXXXX)
cleanup() { if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept: $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
date_start=$(date -u +%Y-%m-%dT%H:%MZ)

# ---------------------------------------------------------------- 1. install and build
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$out/apt.log" 2>&1 ||
    { DEBIAN_FRONTEND=noninteractive apt-get update >>"$out/apt.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$out/apt.log" 2>&1; } ||
    die "apt-get install $* failed (see $out/apt.log)"
}
command -v hyperfine >/dev/null || { say "installing hyperfine"; apt_install hyperfine; }
[ -x /usr/bin/time ] || { say "installing GNU time"; apt_install time; }
command -v npm >/dev/null || die "npm is required (node >= 18)"

if [ "$("$venv/bin/check-jsonschema" --version 2>/dev/null | awk '{print $NF}')" != "$cjs_version" ]; then
  say "installing check-jsonschema $cjs_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "check-jsonschema==$cjs_version" >"$out/pip.log" 2>&1 ||
    die "pip install failed (see $out/pip.log)"
fi
cjs=$venv/bin/check-jsonschema

ajv_installed() { node -p "require('$npm_prefix/node_modules/ajv-cli/package.json').version" 2>/dev/null; }
if [ "$(ajv_installed)" != "$ajv_version" ]; then
  say "installing ajv-cli $ajv_version into $npm_prefix"
  mkdir -p "$npm_prefix"
  npm install --prefix "$npm_prefix" "ajv-cli@$ajv_version" >"$out/npm.log" 2>&1 ||
    die "npm install failed (see $out/npm.log)"
fi
ajv=$npm_prefix/node_modules/.bin/ajv

say "building release platformctl and the generator"
cargo build --release --locked --quiet -p platformctl
cargo build --release --locked --quiet -p platformctl-catalog --example gen_platform
bin=$repo/target/release/platformctl
gen=$repo/target/release/examples/gen_platform

# ---------------------------------------------------------------- 2. platform and schema
plat=$work/platform
say "generating $n modules in $plat"
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
  say "ajv-cli rejects the valid YAML (js-yaml 3 reads 'image_observed_at: 2026-05-20' as a Date;"
  say "  see $out/ajv-yaml-probe.log): converting the manifests to JSON once, outside the timing"
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
rss() { # rss NAME CMD: run once under GNU time, must exit 0; prints peak RSS in KiB
  local name=$1 cmd=$2
  /usr/bin/time -f %M -o "$out/$name.rss" sh -c "$cmd" >"$out/$name.stdout" 2>"$out/$name.stderr" ||
    die "$name rejected the valid generated platform (see $out/$name.stderr)"
  tail -n1 "$out/$name.rss"
}
must_reject() { # must_reject NAME CMD
  if sh -c "$2" >"$out/$1.reject.log" 2>&1; then die "$1 accepted a manifest with tier: bogus"; fi
}
say "checking that all three accept the $n valid manifests (and measuring peak RSS)"
rss_pctl=$(rss platformctl "$cmd_pctl")
grep -q "\"modules\": $n," "$out/platformctl.stdout" || die "platformctl did not report $n modules"
rss_ajv=$(rss ajv "$cmd_ajv")
nvalid=$(cat "$out/ajv.stdout" "$out/ajv.stderr" | grep -c ' valid$' || true)
[ "$nvalid" -eq "$n" ] || die "ajv reported $nvalid valid files, expected $n"
rss_cjs=$(rss check-jsonschema "$cmd_cjs")
grep -q 'ok -- validation done' "$out/check-jsonschema.stdout" || die "check-jsonschema did not say ok"
say "checking that all three reject tier: bogus"
must_reject platformctl "$bin --root $work/bad validate all --json"
must_reject ajv "$ajv validate --spec=draft2020 ${ajv_extra[*]} -s $work/schema.json -d \"$ajv_bad\""
must_reject check-jsonschema "cd $work/bad && $cjs --schemafile $work/schema.json modules/*/module.yaml"

# ---------------------------------------------------------------- 3b. timing
hf() { # hf NAME WARMUP RUNS CMD
  say "hyperfine: $1 ($3 runs)"
  hyperfine --style basic --warmup "$2" --runs "$3" --export-json "$out/$1.json" \
    --command-name "$1" "$4" >&2
}
hf platformctl 3 "$runs_pctl" "$cmd_pctl"
hf ajv 2 "$runs_ajv" "$cmd_ajv"
hf check-jsonschema 1 "$runs_cjs" "$cmd_cjs"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- 4-5. figures and table
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=""   # read-only: --no-optional-locks keeps git status from refreshing the index
if [ -n "$(git -C "$repo" --no-optional-locks status --porcelain 2>/dev/null)" ]; then dirty="+dirty"; fi
python3 - "$out" "$n" <<PY | tee "$out/table.md"
import json, sys
out, n = sys.argv[1], int(sys.argv[2])
def res(name):
    r = json.load(open(f"{out}/{name}.json"))["results"][0]
    return dict(med=r["median"], mean=r["mean"], sd=r["stddev"], lo=r["min"], hi=r["max"],
                cpu=r["user"] + r["system"], runs=len(r["times"]))
p, a, c = res("platformctl"), res("ajv"), res("check-jsonschema")
rss = dict(p=$rss_pctl, a=$rss_ajv, c=$rss_cjs)
ms = lambda s, unit=None: (f"{s*1000:,.0f} ms" if (unit if unit is not None else s) < 10
                           else f"{s:,.1f} s")  # unit: format s like that figure
mb = lambda k: f"{k/1024:,.0f} MB"
ratio_c, ratio_a = c["med"] / p["med"], a["med"] / p["med"]
target = "met" if ratio_c >= 50 else "MISSED"
print(f"""
## validate vs schema-only peers, {n:,} modules

machine: $(nproc) cores ($cpu), $mem; load average (1/5/15 min) $load_start at start,
$load_end at the end; $date_start; platformctl $commit$dirty, check-jsonschema $cjs_version
(Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())')), ajv-cli $ajv_version (Node $(node -v | tr -d v)).

| command | median | mean ± sd | min … max | CPU user+sys (mean) | runs | median / platformctl | peak RSS |
|---|---|---|---|---|---|---|---|""")
for label, r, k in (("\`platformctl validate all --json\` (full validation)", p, "p"),
                    ("check-jsonschema (YAML, schema only)", c, "c"),
                    ("ajv-cli --spec=draft2020 ($ajv_input, schema only)", a, "a")):
    print(f"| {label} | {ms(r['med'])} | {ms(r['mean'])} ± {ms(r['sd'], r['mean'])} | {ms(r['lo'])} … {ms(r['hi'])} "
          f"| {ms(r['cpu'])} | {r['runs']} | {r['med']/p['med']:.1f}× | {mb(rss[k])} |")
print(f"""
- issue 5 target, validate ≥ 50× faster than check-jsonschema (median wall time):
  **{ratio_c:.0f}× — {target}**; by CPU time {c['cpu']/p['cpu']:.0f}×.
- ajv-cli / platformctl: {ratio_a:.1f}× wall, {a['cpu']/p['cpu']:.1f}× CPU. ajv input: $ajv_note.
- All three exit 0 on the {n:,} generated manifests and non-zero on one with \`tier: bogus\`.
- Peak RSS: \`/usr/bin/time -f %M\` of one run each.
""")
PY
echo "hyperfine exports, logs and table.md: $out" >&2
