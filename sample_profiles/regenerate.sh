#!/usr/bin/env bash
# Recaptures the pre-captured sample profiles from the sample load with py-spy.
# Run from the repository root after `make venv`: bash sample_profiles/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
archive=$(mktemp -d)
trap 'rm -rf "$archive"' EXIT
for version in v1 v2; do
  .venv/bin/flamediff capture "$version" --runs 8 --rate 500 --archive "$archive" \
    -- .venv/bin/python "sample_profiles/load/$version/load.py"
  rm -rf "sample_profiles/$version"
  mkdir -p "sample_profiles/$version"
  for run in "$archive/$version"/run-*.folded.gz; do
    gunzip -c "$run" > "sample_profiles/$version/$(basename "$run" .gz)"
  done
  .venv/bin/flamediff export "$version" --format speedscope --archive "$archive" \
    -o "sample_profiles/$version.speedscope.json"
done
