#!/usr/bin/env bash
# lesson.sh - the HTML report of a lesson (memo_tables:memoized, scaled down) in Chromium: what it shows equals leaklab's figures.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$LEAKLAB" run --scale 0.1 -o "$T/memo.llcap" memo_tables:memoized >/dev/null 2>"$T/run.err" ||
  fail "run exited $?: $(cat "$T/run.err")"
check_page "$T/memo.llcap" "$T/page"
