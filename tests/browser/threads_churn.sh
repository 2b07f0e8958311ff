#!/usr/bin/env bash
# threads_churn.sh - the HTML report of tests/programs/threads_churn (several threads allocating) in Chromium.
set -euo pipefail
: "${LL_PROGRAMS:?}"
source "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$LEAKLAB" run -o "$T/tc.llcap" -- "$LL_PROGRAMS/threads_churn" >/dev/null 2>"$T/run.err" ||
  fail "run exited $?: $(cat "$T/run.err")"
check_page "$T/tc.llcap" "$T/page"
