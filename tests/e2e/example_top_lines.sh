#!/usr/bin/env bash
# example_top_lines.sh - the README's hooks example prints exactly what the README shows.
set -euo pipefail
: "${LL_BUILD_DIR:?}" "${LL_SOURCE_DIR:?}"
src=$LL_SOURCE_DIR/examples/top_lines.c
got=$("$LL_BUILD_DIR/examples/top_lines")
want="current=32022 B peak=132000 B
[ top lines now ]
  $src:26: size=31.2 KiB, count=1000, average=32 B
  $src:31: size=22 B, count=1, average=22 B
[ top lines at the peak ]
  $src:29: size=97.7 KiB, count=1, average=97.7 KiB
  $src:26: size=31.2 KiB, count=1000, average=32 B"
if [ "$got" != "$want" ]; then
  echo "FAIL: examples/top_lines printed:" >&2
  echo "$got" >&2
  echo "expected (README.md):" >&2
  echo "$want" >&2
  exit 1
fi
# Without a code change: LEAKLAB_OUTPUT writes the end and peak snapshots at exit.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
LEAKLAB_OUTPUT=$tmp/top.llsnap "$LL_BUILD_DIR/examples/top_lines" >/dev/null
"$LEAKLAB" report "$tmp/top.llsnap" --at end --format json >"$tmp/end.json"
grep -q '"end_bytes": 22,' "$tmp/end.json" || { echo "FAIL: end snapshot: $(cat "$tmp/end.json")" >&2; exit 1; }
"$LEAKLAB" report "$tmp/top.llsnap" >"$tmp/peak.txt"
grep -qF "$src:29: size=97.7 KiB, count=1, average=97.7 KiB" "$tmp/peak.txt" ||
  { echo "FAIL: peak snapshot: $(cat "$tmp/peak.txt")" >&2; exit 1; }
echo "example_top_lines: ok"
