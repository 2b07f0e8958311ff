#!/usr/bin/env bash
# known_pattern.sh - the HTML report of tests/programs/known_pattern in Chromium: peak label, flamegraphs, table, zoom, no network; run --html writes the same page.
set -euo pipefail
: "${LL_PROGRAMS:?}"
source "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$LEAKLAB" run --html "$T/run.html" -o "$T/kp.llcap" -- "$LL_PROGRAMS/known_pattern" >"$T/run.out" 2>"$T/run.err" ||
  fail "run exited $?: $(cat "$T/run.err")"
[ "$(cat "$T/run.out")" = "known_pattern done" ] || fail "run --html changed the program's output"
grep -qx "leaklab: HTML report written to $T/run.html" "$T/run.err" || fail "run --html did not say so"
check_page "$T/kp.llcap" "$T/page"
cmp -s "$T/run.html" "$T/page/report.html" || fail "run --html and report --format html differ"
"$LEAKLAB" report "$T/kp.llcap" --format html --at peak -o "$T/x.html" 2>"$T/err" && fail "--at with html accepted"
grep -q -- "--at cannot be used with --format html" "$T/err" || fail "bad message: $(cat "$T/err")"
