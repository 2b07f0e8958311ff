#!/usr/bin/env bash
# example_top_lines.sh - the README's hooks example prints exactly what the README shows.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

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
  die "examples/top_lines printed:
$got
expected (README.md):
$want"
fi
# Without a code change: LEAKLAB_OUTPUT writes the end and peak snapshots at exit.
LEAKLAB_OUTPUT=$tmp/top.llsnap "$LL_BUILD_DIR/examples/top_lines" >/dev/null
"$LEAKLAB" report "$tmp/top.llsnap" --at end --format json >"$tmp/end.json"
grep -q '"end_bytes": 22,' "$tmp/end.json" || die "end snapshot: $(cat "$tmp/end.json")"
"$LEAKLAB" report "$tmp/top.llsnap" >"$tmp/peak.txt"
grep -qF "$src:29: size=97.7 KiB, count=1, average=97.7 KiB" "$tmp/peak.txt" ||
  die "peak snapshot: $(cat "$tmp/peak.txt")"
finish "example_top_lines: ok"
