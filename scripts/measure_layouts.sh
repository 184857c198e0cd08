#!/bin/sh
# Measures the Go runtime layouts of every toolchain present (DWARF of an unstripped build of
# tests/targets/waits, which uses every
# structure a goroutine waits on) and writes tests/fixtures/layouts/go1.XX.json. The tables in
# unwind/go_runtime_layout.cpp are kept equal to these files by tests/unit/unwind/go_runtime_layout_test.cpp.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$repo/scripts/measure_layouts" && GOTOOLCHAIN=local CGO_ENABLED=0 go build -o "$work/measure" .)
measure() {  # name go GOTOOLCHAIN
  if ! GOTOOLCHAIN=$3 "$2" version >/dev/null 2>&1; then echo "skip $1: toolchain missing" >&2; return; fi
  (cd "$repo/tests/targets/waits" && GOTOOLCHAIN=$3 CGO_ENABLED=0 "$2" build -o "$work/waits-$1" .)
  "$work/measure" "$work/waits-$1" > "$repo/tests/fixtures/layouts/$1.json"
  echo "wrote tests/fixtures/layouts/$1.json" >&2
}
mkdir -p "$repo/tests/fixtures/layouts"
measure go1.19 /usr/lib/go-1.19/bin/go local
measure go1.26 go local
measure go1.27.3 go go1.27.3
