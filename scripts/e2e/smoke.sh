#!/usr/bin/env bash
# Smoke test of the end-to-end real parts (scripts/e2e/realparts.sh): brings them up, puts
# compose-labelled containers on both engines, and proves what platformctl's observation needs:
#   (a) `docker ps` on an engine through the sshd;
#   (b) an engine's unix socket forwarded over an ssh ControlMaster (`-O forward`, the mux
#       request the openssh crate's native-mux sends) answers the Engine API;
#   (c) `docker events --since/--until` over the run can be captured;
#   (d) the closed port fails fast, the silent host hangs until ConnectTimeout;
# plus the RepoDigests of every image and the "tag moved" case. Then brings everything down
# and prints a PASS/FAIL summary (exit 0 only if everything passed).
#
# Usage: scripts/e2e/smoke.sh [DIR]        DIR defaults to $(mktemp -d /tmp/pc-XXXXXX)
#        E2E_KEEP=1 scripts/e2e/smoke.sh   leave the parts up (then: realparts.sh down DIR)
# shellcheck disable=SC2015 # `test && pass ... || fail ...`: pass and fail always succeed
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REALPARTS=$HERE/realparts.sh
DOCKER=${DOCKER:-docker}
DIR=${1:-$(mktemp -d /tmp/pc-XXXXXX)}

exec 8>&1 9>&2
PASSED=()
FAILED=()
MASTER_PID=
now() { echo "${EPOCHREALTIME/./}"; } # microseconds
ms_since() { echo $((($(now) - $1) / 1000)); }
say() { printf 'smoke: %s\n' "$*" >&2; }
pass() { PASSED+=("$1"); say "PASS $1"; }
fail() { FAILED+=("$1"); say "FAIL $1${2:+: $2}"; }

finish() {
  local rc=$? t
  set +e
  exec 1>&8 2>&9 # the caller's stdout/stderr, even if a signal landed inside a redirection
  if [ -n "$MASTER_PID" ] && kill -0 "$MASTER_PID" 2>/dev/null; then
    kill -TERM "$MASTER_PID" 2>/dev/null
    wait "$MASTER_PID" 2>/dev/null
  fi
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    say "E2E_KEEP=1: parts left up in $DIR (stop them with: $REALPARTS down $DIR)"
  else
    t=$(now)
    if "$REALPARTS" down "$DIR" 8>&- 9>&-; then
      [ -e "$DIR" ] && fail "down" "$DIR still exists" || pass "down ($(ms_since "$t") ms)"
    else
      fail "down"
    fi
  fi
  echo
  echo "==================== smoke summary ===================="
  for t in "${PASSED[@]}"; do echo "PASS  $t"; done
  for t in "${FAILED[@]}"; do echo "FAIL  $t"; done
  if [ "${#FAILED[@]}" -eq 0 ] && [ "$rc" -eq 0 ]; then
    echo "RESULT: PASS (${#PASSED[@]} checks)"
    exit 0
  fi
  [ "$rc" -eq 0 ] || echo "(smoke.sh itself stopped with exit $rc)"
  echo "RESULT: FAIL (${#FAILED[@]} of $((${#PASSED[@]} + ${#FAILED[@]})) checks failed)"
  exit 1
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ------------------------------------------------------------------------------------------ up
t=$(now)
"$REALPARTS" up "$DIR" 8>&- 9>&-
pass "up ($(ms_since "$t") ms)"
# shellcheck source=/dev/null
. "$DIR/env"
export DOCKER_CONFIG
unset DOCKER_HOST DOCKER_CONTEXT
d1() { "$DOCKER" -H "$E1_HOST" "$@"; }
d2() { "$DOCKER" -H "$E2_HOST" "$@"; }
SSH=(ssh -F "$SSH_CONFIG")

SINCE=$(date +%s.%N)

# ----------------------------------------------------------------------------- containers
# run_c ENGINE-FN run|create NAME SERVICE IMAGE: a compose-labelled container, no network.
run_c() {
  local fn=$1 how=$2 name=$3 service=$4 image=$5 extra=()
  [ "$how" = run ] && extra=(-d)
  "$fn" "$how" "${extra[@]}" --network none --name "$name" \
    --label com.docker.compose.project=home-platform \
    --label "com.docker.compose.service=$service" \
    --label com.docker.compose.container-number=1 \
    "$image" sleep 100000 >/dev/null
}
t=$(now)
run_c d1 run home-platform-web-1 web "$IMG_WEB"
run_c d1 run home-platform-api-1 api "$IMG_API_306"
run_c d1 run home-platform_worker_1 worker "$IMG_WORKER" # compose v1 naming
run_c d1 create home-platform-tool-1 tool "$IMG_LOCAL"   # never started
run_c d2 run home-platform-api-1 api "$IMG_API_303"
run_c d2 create home-platform-db-1 db "$IMG_API_306" # never started
"$DOCKER" -H "$E1_HOST" run -d --network none --name unrelated-1 "$IMG_LOCAL" sleep 100000 >/dev/null
pass "containers created on e1 and e2 ($(ms_since "$t") ms)"

states=$(d1 ps -a --filter label=com.docker.compose.project=home-platform --format '{{.Names}}={{.State}}' | sort | tr '\n' ' ')
want="home-platform-api-1=running home-platform-tool-1=created home-platform-web-1=running home-platform_worker_1=running "
[ "$states" = "$want" ] && pass "e1 compose containers by label: $states" || fail "e1 compose containers" "got '$states'"
states=$(d2 ps -a --filter label=com.docker.compose.project=home-platform --format '{{.Names}}={{.State}}' | sort | tr '\n' ' ')
want="home-platform-api-1=running home-platform-db-1=created "
[ "$states" = "$want" ] && pass "e2 compose containers by label: $states" || fail "e2 compose containers" "got '$states'"

# --------------------------------------------------------------------------------- images
say "RepoTags / RepoDigests on e1:"
mapfile -t ids < <(d1 image ls -q | sort -u)
d1 image inspect "${ids[@]}" --format '  {{.Id}}  tags={{json .RepoTags}}  digests={{json .RepoDigests}}' >&2

digests=$(d1 image inspect "$IMG_WORKER" --format '{{json .RepoDigests}}')
first=$(d1 image inspect "$IMG_WORKER" --format '{{index .RepoDigests 0}}')
if [[ $digests == *"$REGISTRY/honcho-worker@$DIGEST_WORKER"* && $digests == *"$REGISTRY/honcho-worker@$DIGEST_WORKER_INDEX"* &&
  $first == "$REGISTRY/aaa-mirror/honcho-worker@"* ]]; then
  pass "multi-digest image: 3 RepoDigests, first is the mirror's ($first)"
else
  fail "multi-digest image" "$digests"
fi
for e in d1 d2; do
  got=$("$e" image inspect "$IMG_LOCAL" --format '{{len .RepoDigests}}')
  [ "$got" = 0 ] && pass "$e local image has no RepoDigests" || fail "$e local image" "RepoDigests=$got"
done
[ "$(d2 image inspect "$IMG_API_303" --format '{{json .RepoDigests}}')" = "[\"$REGISTRY/honcho-api@$DIGEST_API_303\"]" ] &&
  pass "e2 pulled image carries the registry digest" || fail "e2 RepoDigests of $IMG_API_303"

# --------------------------------------------------------------------------------- tag moved
# A new image takes over honcho-web:1.0 while home-platform-web-1 still runs the old one.
rootfs=$(mktemp -d "$DIR/rootfs-web-XXXX")
mkdir -p "$rootfs/bin" "$rootfs/etc"
cp /bin/busybox "$rootfs/bin/busybox" 2>/dev/null || cp "$(command -v busybox)" "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/sh"
ln -s busybox "$rootfs/bin/sleep"
echo web-1.0-rebuilt >"$rootfs/etc/image-version"
new_id=$(tar --numeric-owner -C "$rootfs" -c . | d1 import - "$REGISTRY/honcho-web:1.0-rebuilt")
d1 tag "$new_id" "$IMG_WEB"
run_cfg=$(d1 inspect home-platform-web-1 --format '{{.Config.Image}} {{.Image}} {{.State.Running}}')
old_tags=$(d1 image inspect "$IMAGE_ID_WEB" --format '{{json .RepoTags}}')
old_digests=$(d1 image inspect "$IMAGE_ID_WEB" --format '{{json .RepoDigests}}')
new_info=$(d1 image inspect "$IMG_WEB" --format '{{.Id}} {{json .RepoDigests}}')
say "tag moved: container Config.Image/Image/running = $run_cfg"
say "tag moved: old image $IMAGE_ID_WEB RepoTags=$old_tags RepoDigests=$old_digests"
say "tag moved: $IMG_WEB now -> $new_info"
if [ "$run_cfg" = "$IMG_WEB $IMAGE_ID_WEB true" ] && [ "$old_tags" = "[]" ] &&
  [ "$old_digests" = "[\"$REGISTRY/honcho-web@$DIGEST_WEB\"]" ] && [ "$new_info" = "$new_id []" ]; then
  pass "tag moved: container still runs the old image (tagless, digest kept); the tag names the new one"
else
  fail "tag moved"
fi

# ------------------------------------------------------------------ (a) docker over sshd
t=$(now)
out=$("${SSH[@]}" e2e-host "docker -H unix://$E1_SOCK ps -a --format '{{json .}}'" 2>&1) && rc=0 || rc=$?
n=$(grep -c '"Names":"home-platform' <<<"$out" || true)
if [ "$rc" -eq 0 ] && [ "$n" = 4 ]; then
  pass "(a) docker ps -a over ssh: 4 compose containers of e1 ($(ms_since "$t") ms)"
else
  fail "(a) docker ps over ssh" "rc=$rc n=$n: $(head -c 300 <<<"$out")"
fi
out=$("${SSH[@]}" e2e-host "docker -H unix://$E2_SOCK inspect --format '{{.Name}} {{.Config.Image}}' home-platform-api-1" 2>&1) || true
[ "$out" = "/home-platform-api-1 $IMG_API_303" ] && pass "(a) second engine over the same sshd: $out" || fail "(a) e2 over ssh" "$out"

# -------------------------------------------- (b) unix socket forwarded through a mux master
CM=$DIR/cm
"${SSH[@]}" -M -S "$CM" -o ControlPersist=no -N e2e-host </dev/null >/dev/null 2>"$DIR/logs/ssh-master.log" 8>&- 9>&- &
MASTER_PID=$!
for _ in $(seq 1 100); do
  "${SSH[@]}" -S "$CM" -O check e2e-host 2>/dev/null && break
  sleep 0.1
done
t=$(now)
if "${SSH[@]}" -S "$CM" -O forward -L "$DIR/fwd.sock:$E1_SOCK" e2e-host 2>&1 &&
  body=$(curl -fsS -m 10 --unix-socket "$DIR/fwd.sock" 'http://d/v1.41/containers/json?all=1'); then
  n=$(grep -o '"com.docker.compose.project":"home-platform"' <<<"$body" | wc -l)
  if [ "$n" = 4 ]; then
    pass "(b) Engine API over a forwarded unix socket (ControlMaster -O forward): 4 compose containers ($(ms_since "$t") ms)"
  else
    fail "(b) forwarded socket" "expected 4 compose containers, got $n"
  fi
  ver=$(curl -fsS -m 10 --unix-socket "$DIR/fwd.sock" http://d/version | grep -o '"ApiVersion":"[^"]*"' | head -n 1 || true)
  say "(b) engine behind the forward: $ver"
  "${SSH[@]}" -S "$CM" -O cancel -L "$DIR/fwd.sock:$E1_SOCK" e2e-host 2>/dev/null || true
else
  fail "(b) forwarded socket" "see $DIR/logs/ssh-master.log"
fi
# a remote command through the same master (what one observation per host looks like)
out=$("${SSH[@]}" -S "$CM" e2e-host "docker -H unix://$E2_SOCK ps -aq | wc -l" 2>&1) || true
[ "$(tr -d ' ' <<<"$out")" = 2 ] && pass "(b) command through the mux master (e2: 2 containers)" || fail "(b) command through master" "$out"
"${SSH[@]}" -S "$CM" -O exit e2e-host 2>/dev/null || true
wait "$MASTER_PID" 2>/dev/null || true
MASTER_PID=

# ---------------------------------------------------------------------- (c) docker events
UNTIL=$(date +%s.%N)
t=$(now)
ev=$("${SSH[@]}" e2e-host "docker -H unix://$E1_SOCK events --since $SINCE --until $UNTIL --format '{{json .}}'" 2>&1) && rc=0 || rc=$?
n=$(grep -c . <<<"$ev" || true)
if [ "$rc" -eq 0 ] && grep -q '"status":"start".*home-platform-web-1\|home-platform-web-1.*"status":"start"' <<<"$ev" &&
  grep -q '"Action":"tag"' <<<"$ev" && grep -q '"Action":"create"' <<<"$ev"; then
  pass "(c) docker events --since/--until over ssh: $n events incl. create/start/tag ($(ms_since "$t") ms)"
else
  fail "(c) docker events" "rc=$rc, $n events: $(head -c 300 <<<"$ev")"
fi
say "(c) event actions: $(grep -o '"Action":"[a-z_:]*"' <<<"$ev" | sort | uniq -c | tr -s ' \n' ' ')"

# ------------------------------------------------------------- (d) closed port, silent host
t=$(now)
out=$("${SSH[@]}" -o ConnectTimeout=5 e2e-closed true 2>&1) && rc=0 || rc=$?
ms=$(ms_since "$t")
if [ "$rc" = 255 ] && [ "$ms" -lt 1500 ] && grep -qi refused <<<"$out"; then
  pass "(d) closed port $CLOSED_PORT fails fast: ${ms} ms, '$out'"
else
  fail "(d) closed port" "rc=$rc ${ms} ms: $out"
fi
t=$(now)
out=$("${SSH[@]}" -o ConnectTimeout=2 e2e-silent true 2>&1) && rc=0 || rc=$?
ms=$(ms_since "$t")
if [ "$rc" = 255 ] && [ "$ms" -ge 1800 ] && [ "$ms" -lt 5000 ]; then
  pass "(d) silent host $SILENT_PORT hangs until ConnectTimeout=2: ${ms} ms, '$out'"
else
  fail "(d) silent host" "rc=$rc ${ms} ms: $out"
fi

# ----------------------------------------------------------------------------- measurements
rss() { awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
total=0
for p in "$E1_PID" "$E1_CONTAINERD_PID" "$E2_PID" "$E2_CONTAINERD_PID"; do total=$((total + $(rss "$p"))); done
say "memory (RSS): e1 dockerd $(($(rss "$E1_PID") / 1024)) MiB + containerd $(($(rss "$E1_CONTAINERD_PID") / 1024)) MiB;" \
  "e2 dockerd $(($(rss "$E2_PID") / 1024)) MiB + containerd $(($(rss "$E2_CONTAINERD_PID") / 1024)) MiB;" \
  "two engines total $((total / 1024)) MiB; registry $(($(rss "$REGISTRY_PID") / 1024)) MiB, sshd $(($(rss "$SSHD_PID") / 1024)) MiB"
shims=0
for p in /proc/[0-9]*; do
  [ "$(cat "$p/comm" 2>/dev/null)" = containerd-shim ] || continue
  tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "$DIR/" && shims=$((shims + 1))
done
say "containerd shims of this run: $shims (one per running container)"
