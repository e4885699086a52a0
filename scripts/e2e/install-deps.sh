#!/usr/bin/env bash
# Install the real parts the platformctl end-to-end harness runs against:
# a Docker engine (dockerd + containerd + runc), Debian's docker-registry, OpenSSH server and
# client, a static busybox (image contents), curl, python3, procps, and for the registry's
# authentication tests htpasswd (apache2-utils) and openssl; for serve's tests Chromium
# (headless) and promtool.
#
# Idempotent and unattended: a package is installed only when the command it provides is
# missing, so a machine that already has e.g. docker-ce keeps it. Nothing is started: package
# maintainer scripts are kept from starting services (policy-rc.d), because the harness runs
# its own private instances and must never start or touch the machine's own Docker daemon.
#
# Usage: scripts/e2e/install-deps.sh            (as root, or with sudo available)
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*" >&2; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    log "must run as root (or with passwordless sudo)"; exit 1
  fi
fi

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

# A busybox that runs inside an empty image must be statically linked.
static_busybox() {
  local b
  for b in /bin/busybox /usr/bin/busybox "$(command -v busybox 2>/dev/null || true)"; do
    if [ -z "$b" ] || [ ! -x "$b" ]; then continue; fi
    # ldd prints "not a dynamic executable" (glibc) / "statically linked" for static binaries.
    # (ldd exits non-zero for those, hence the captured output rather than a pipeline.)
    case "$(ldd "$b" 2>&1 || true)" in
      *'not a dynamic executable'* | *'statically linked'*) return 0 ;;
    esac
  done
  return 1
}

want=()
{ have dockerd && have containerd && have runc && have docker; } || want+=(docker.io)
have docker-registry || want+=(docker-registry)
have sshd || want+=(openssh-server)
{ have ssh && have ssh-keygen; } || want+=(openssh-client)
static_busybox || want+=(busybox-static)
have curl || want+=(curl)
have htpasswd || want+=(apache2-utils)
have openssl || want+=(openssl)
have python3 || want+=(python3)
have ps || want+=(procps)
# apply (issue 13) runs compose on a host: Debian's docker-compose (v1) in the e2e tests.
have docker-compose || want+=(docker-compose)
have flock || want+=(util-linux)
# serve (issue 14): its web view is loaded in headless Chromium, its /metrics and the
# textfile output are checked with promtool (Debian's prometheus package; never started).
have chromium || want+=(chromium)
have promtool || want+=(prometheus)

if [ "${#want[@]}" -eq 0 ]; then
  log "all present"
  exit 0
fi

log "installing: ${want[*]}"

# Keep maintainer scripts from starting services (docker.io would start the machine's own
# dockerd, openssh-server a system sshd on :22). Only add the policy if none exists.
policy=/usr/sbin/policy-rc.d
added_policy=0
cleanup() {
  if [ "$added_policy" -eq 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, added by platformctl scripts/e2e/install-deps.sh\nexit 101\n' |
    "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 0755 "$policy"
  added_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# Update the package lists only when they are missing or the first install attempt fails.
if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
  "${SUDO[@]}" apt-get update -q </dev/null
fi
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "${want[@]}" </dev/null; then
  log "install failed; refreshing package lists and retrying once"
  "${SUDO[@]}" apt-get update -q </dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "${want[@]}" </dev/null
fi

static_busybox || { log "no statically linked busybox after install"; exit 1; }
log "done"
