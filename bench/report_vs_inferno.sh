#!/usr/bin/env bash
# goperf report vs inferno-flamegraph on the same folded input (200,000 distinct stacks, ~30 MB, sorted as
# collapse tools write it), one run each, CPU time and wall time; SVG size; opening and zooming the SVG in
# headless Chromium. Needs: build/goperf, inferno-flamegraph (cargo install inferno), tests/browser's npm ci.
# usage: bench/report_vs_inferno.sh [BUILD_DIR] [STACKS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
stacks=${2:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_folded.py "$stacks" "$work/raw.folded"
LC_ALL=C sort "$work/raw.folded" > "$work/in.folded"
echo "input: $stacks stacks, $(stat -c %s "$work/in.folded") bytes"
cat "$work/in.folded" > /dev/null  # page cache
t() { /usr/bin/time -f "%e s wall, %U+%S s cpu, %M KB" "$@"; }
echo "goperf report:"; t "$build/goperf" report -i "$work/in.folded" -o "$work/goperf.svg" 2>&1 | grep -v wrote
if command -v inferno-flamegraph >/dev/null; then
  echo "inferno-flamegraph:"; t inferno-flamegraph "$work/in.folded" > "$work/inferno.svg"
  echo "inferno svg: $(stat -c %s "$work/inferno.svg") bytes"
fi
echo "goperf svg: $(stat -c %s "$work/goperf.svg") bytes"
if [ -d tests/browser/node_modules/playwright-core ]; then
  echo "browser: $(node bench/flamegraph/browser_open_zoom.mjs "$work/goperf.svg")"
fi
