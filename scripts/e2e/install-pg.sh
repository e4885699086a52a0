#!/usr/bin/env bash
# Install Debian's PostgreSQL server binaries for the State Hub tests (crates/cli/tests/
# workplan_hub.rs), which start their own private server (initdb into a temporary folder,
# `postgres` on 127.0.0.1 and a private socket folder, as the unprivileged `postgres` user)
# and never use a machine-wide one.
#
# Idempotent and unattended: nothing is installed when /usr/lib/postgresql/*/bin/initdb and
# the `postgres` user exist. Nothing is started: the package's maintainer scripts are kept
# from starting the machine's own cluster (policy-rc.d), and a cluster the package created
# is left stopped.
#
# Usage: scripts/e2e/install-pg.sh            (as root, or with sudo available)
set -euo pipefail

log() { printf 'install-pg: %s\n' "$*" >&2; }

have_pg() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null &&
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null &&
    id postgres >/dev/null 2>&1 &&
    command -v setpriv >/dev/null 2>&1
}

if have_pg; then
  log "all present"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    log "must run as root (or with passwordless sudo)"; exit 1
  fi
fi

policy=/usr/sbin/policy-rc.d
added_policy=0
cleanup() {
  if [ "$added_policy" -eq 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, added by platformctl scripts/e2e/install-pg.sh\nexit 101\n' |
    "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 0755 "$policy"
  added_policy=1
fi

want=(postgresql)
command -v setpriv >/dev/null 2>&1 || want+=(util-linux)
log "installing: ${want[*]}"
apt_opts=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
  "${SUDO[@]}" apt-get update -q </dev/null
fi
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "${want[@]}" </dev/null; then
  log "install failed; refreshing package lists and retrying once"
  "${SUDO[@]}" apt-get update -q </dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "${want[@]}" </dev/null
fi

have_pg || { log "PostgreSQL binaries or the postgres user still missing after install"; exit 1; }
log "done"
