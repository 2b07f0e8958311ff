#!/usr/bin/env bash
# known_pattern.sh - the HTML report of tests/programs/known_pattern in Chromium: peak label, flamegraphs, table, zoom, no network.
set -euo pipefail
: "${LL_PROGRAMS:?}"
source "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$LEAKLAB" run -o "$T/kp.llcap" -- "$LL_PROGRAMS/known_pattern" >/dev/null 2>"$T/run.err" ||
  fail "run exited $?: $(cat "$T/run.err")"
check_page "$T/kp.llcap" "$T/page"
