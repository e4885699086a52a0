#!/usr/bin/env bash
# The main job on the bundled example platform (examples/home-platform): builds platformctl,
# validates the catalog, prints the metadata coverage snapshot and the module catalog.
#
# Usage: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked --quiet -p platformctl
bin=target/release/platformctl
root=examples/home-platform

run() { printf '\n$ platformctl %s\n' "$*" >&2; "$bin" --root "$root" "$@"; }

run validate all
run coverage
run modules list
run modules show honcho-api
printf '\nAnd a catalog with one of each mistake (exit 1 is expected):\n' >&2
"$bin" --root examples/broken validate examples/broken/modules/unknown-host \
  examples/broken/modules/wrong-artifact-tag || true
