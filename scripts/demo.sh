#!/usr/bin/env bash
# The main job on the bundled example platform (examples/home-platform):
#
#  1. validate the catalog, print the metadata coverage snapshot and the module catalog;
#  2. live drift: start a throwaway Docker engine pair, a registry and an sshd on 127.0.0.1
#     (scripts/e2e/realparts.sh, never the machine's own Docker daemon), bring up a slice of
#     the example's modules as compose-labelled containers with two deliberate drifts
#     (honcho-api runs 3.0.3 where the catalog says 3.0.6; grafana is stopped), run
#     `platformctl drift-check` over ssh, show the table, and clean up after itself.
#
# Usage: scripts/demo.sh                      as root (apt-get and dockerd need it)
#        scripts/demo.sh --use-docker SOCKET  use YOUR engine at SOCKET instead of a throwaway
#                                             one; the demo labels what it creates and removes
#                                             exactly that at the end
#        scripts/demo.sh --catalog-only       step 1 only
set -euo pipefail
cd "$(dirname "$0")/.."

mode=throwaway
user_socket=
case "${1:-}" in
  --use-docker) mode=user; user_socket=${2:?--use-docker needs the engine socket path} ;;
  --catalog-only) mode=none ;;
  "") ;;
  *) echo "usage: scripts/demo.sh [--use-docker SOCKET | --catalog-only]" >&2; exit 2 ;;
esac

if [ -n "${PLATFORMCTL_BIN:-}" ]; then
  bin=$PLATFORMCTL_BIN   # scripts/test.sh runs the demo with the binary its tests built
else
  cargo build --release --locked --quiet -p platformctl
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/platformctl
fi
example=examples/home-platform

if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then
  say() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }
else
  say() { printf '\n$ %s\n' "$*" >&2; }
fi
run() { say "platformctl $*"; "$bin" "$@"; }

# 1. The catalog.
run --root "$example" validate all
run --root "$example" coverage
run --root "$example" modules list
[ "$mode" = none ] && exit 0

# 2. Live drift on a slice of the example.
slice=(honcho-api honcho-redis redis postgres minio traefik grafana paperless-ngx immich-server jellyfin navidrome)
work=$(mktemp -d /tmp/pc-XXXXXX)
demo_label=io.platformctl.demo=$(basename "$work")
parts_up=0
cleanup() {
  set +e
  if [ "$mode" = user ]; then
    ids=$(docker -H "unix://$user_socket" ps -aq --filter "label=$demo_label")
    [ -n "$ids" ] && docker -H "unix://$user_socket" rm -f $ids >/dev/null
    docker -H "unix://$user_socket" image ls -q --filter "label=$demo_label" | sort -u |
      xargs -r docker -H "unix://$user_socket" rmi -f >/dev/null 2>&1
  fi
  [ "$parts_up" = 1 ] && scripts/e2e/realparts.sh down "$work/parts" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

platform=$work/platform
cp -r "$example" "$platform"
if [ "$mode" = throwaway ]; then
  scripts/e2e/install-deps.sh
  say "scripts/e2e/realparts.sh up (two private engines, a registry, an sshd on 127.0.0.1)"
  parts_up=1
  scripts/e2e/realparts.sh up "$work/parts" >/dev/null
  # shellcheck disable=SC1091
  . "$work/parts/env"
  export DOCKER_CONFIG
  cp "$SSH_CONFIG" "$platform/ops/ssh_config"
  sock_for() { case "$1" in nas) echo "$E2_SOCK" ;; *) echo "$E1_SOCK" ;; esac; }
  cat >"$platform/platform.toml" <<EOF
[platform]
name = "home-platform-demo"   # on throwaway engines
compose_project = "home-platform"

[ssh]
config = "ops/ssh_config"

[hosts.rs2000]
transport = "ssh"
ssh = "e2e-host"
docker_socket = "$E1_SOCK"
connect_timeout_s = 5

[hosts.nas]
transport = "ssh"
ssh = "e2e-host"
docker_socket = "$E2_SOCK"
connect_timeout_s = 5

[hosts.laptop]
transport = "local"
docker_socket = "$E1_SOCK"
EOF
  base_image=$IMG_API_306
else
  sock_for() { echo "$user_socket"; }
  cat >"$platform/platform.toml" <<EOF
[platform]
name = "home-platform (demo on your engine)"
compose_project = "home-platform"

[hosts.rs2000]
transport = "local"
docker_socket = "$user_socket"

[hosts.nas]
transport = "local"
docker_socket = "$user_socket"

[hosts.laptop]
transport = "local"
docker_socket = "$user_socket"
EOF
  # A tiny image of our own from the static busybox (no registry pull).
  rootfs=$work/rootfs
  mkdir -p "$rootfs/bin"
  cp "$(command -v busybox)" "$rootfs/bin/busybox"
  for a in sh sleep true false; do ln -s busybox "$rootfs/bin/$a"; done
  base_image=platformctl-demo/base:$(basename "$work")
  tar -C "$rootfs" -c . | docker -H "unix://$user_socket" import \
    --change "LABEL $demo_label" - "$base_image" >/dev/null
fi

dk() { docker -H "unix://$1" "${@:2}"; }
say "bring up ${#slice[@]} modules as compose-labelled containers (2 deliberate drifts)"
for m in "${slice[@]}"; do
  read -r host image name service < <("$bin" --root "$platform" modules show "$m" --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); m=d["module"]
print(m["runtime"]["host"], d["compose"]["image"]["value"], d["expectedContainerName"], m["runtime"]["composeService"])')
  sock=$(sock_for "$host")
  [ "$m" = honcho-api ] && image=${image%:*}:3.0.3        # drift: the seed's 3.0.6 vs 3.0.3
  dk "$sock" tag "$base_image" "$image"
  verb=(run -d)
  [ "$m" = grafana ] && verb=(create)                       # drift: stopped
  dk "$sock" "${verb[@]}" --network none --name "$name" \
    --label com.docker.compose.project=home-platform \
    --label "com.docker.compose.service=$service" --label "$demo_label" \
    "$image" sleep 100000 >/dev/null
  printf '  %-16s %-8s %s\n' "$m" "$host" "$image" >&2
done

printf '%s\n' \
  "  (the stand-ins are busybox running sleep: they do not carry compose's ports, environment," \
  "   mounts, command or restart policy, so each module also shows its config drift, truthfully;" \
  "   the deliberate drifts are honcho-api's tag and grafana's stopped container)" >&2
say "platformctl drift-check ${slice[*]}"
set +e
"$bin" --root "$platform" drift-check "${slice[@]}"
code=$?
set -e
printf '\ndrift-check exited %s (2 = drift found, every host answered)\n' "$code" >&2
# The demo's two deliberate drifts make 2 the only right answer; anything else is a broken demo.
if [ "$code" -ne 2 ]; then
  echo "demo.sh: expected exit 2 (the two deliberate drifts), got $code" >&2
  exit 1
fi
