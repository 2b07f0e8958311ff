#!/usr/bin/env bash
# peak_last.sh - the HTML report of tests/programs/peak_last (its last allocations make the peak, 0.8 s pass, it exits) in Chromium under both recorders: the peak's mark and label sit at the last allocations, not at the run's end.
set -euo pipefail
: "${LL_PROGRAMS:?}"
source "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for rec in sync async; do
  LEAKLAB_RECORDER=$rec "$LEAKLAB" run -o "$T/$rec.llcap" -- "$LL_PROGRAMS/peak_last" >/dev/null 2>"$T/run.err" ||
    fail "$rec: run exited $?: $(cat "$T/run.err")"
  mkdir -p "$T/$rec/expect"
  # The peak's moment is at least 0.6 s (of the 0.8 s pause) before the last point, the end.
  echo 600 >"$T/$rec/expect/peak_before_end_ms"
  page_expect "$T/$rec.llcap" "$T/$rec"
done
check_pages "$T/sync" "$T/async"
