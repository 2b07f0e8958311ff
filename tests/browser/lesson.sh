#!/usr/bin/env bash
# lesson.sh - the HTML report of a lesson checked against its budget (memo_tables:memoized, scaled down) in Chromium: its figures equal leaklab's, the budget is drawn.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# check records the lesson held to its budget (32 MiB, 'leaklab scenarios'); the page draws it.
"$LEAKLAB" scenarios | grep -q "^memo_tables .* budget 32 MiB" || fail "memo_tables' budget is not 32 MiB"
status=0
"$LEAKLAB" check --scale 0.1 -o "$T/memo.llcap" memo_tables:memoized >/dev/null 2>"$T/check.err" || status=$?
[ "$status" -le 1 ] || fail "check exited $status: $(cat "$T/check.err")"
check_page "$T/memo.llcap" "$T/page" $((32 * 1024 * 1024))
