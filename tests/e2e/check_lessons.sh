#!/usr/bin/env bash
# check_lessons.sh - `leaklab check` on the lessons: over-budget variants fail with pytest-memray's text and exit 1, the fixes pass with exit 0.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cd "$tmp" # captures land here

# The leaky variant fails its budget and, in the same run (the verdicts are separate lines),
# --limit-leaks catches the cache that is never freed.
expect_fail method_cache:leaky 70.0MiB '[a-z_]+' --limit-leaks 1MB
grep -q '^FAIL: method_cache:leaky: peak 614\.[0-9]MiB ([0-9]* B) is not below the limit 70\.0MiB$' "$tmp/err" ||
  fail "leaky: not a 614 MiB peak: $(grep -E '^(PASS|FAIL)' "$tmp/err")"
grep -q '^Test was limited to leaking 1\.0MiB per line but leaked [0-9.]*MiB at 3 lines$' "$tmp/err" ||
  fail "leaky --limit-leaks 1MB: $(grep -A2 '^FAIL: .*leaked' "$tmp/err")"
grep -Eq '^    - [0-9.]+ MiB leaked here:$' "$tmp/err" || fail "leaky --limit-leaks: no leaked line"
# The leaky cache's lines: the big integers and the memo entries, in the program's own code.
grep -Eq '^        mc_factorial_plus at .*/method_cache\.c:[0-9]+$' "$tmp/err" ||
  fail "leaky: mc_factorial_plus not named: $(cat "$tmp/err")"
grep -Eq '^        memo_insert at .*/method_cache\.c:[0-9]+$' "$tmp/err" || fail "leaky: memo_insert not named"
expect_fail method_cache:value_keyed 70.0MiB
# The per-instance fix passes its budget and frees its caches: nothing near 64 KiB is left at
# any line (one run).
expect_pass method_cache:per_instance 70.0MiB --limit-leaks 64KB
grep -Eq '^PASS: method_cache:per_instance: no line leaked 64\.0KiB or more \(largest: [0-9.]+(B|KiB)\)$' "$tmp/err" ||
  fail "per_instance --limit-leaks 64KB: $(grep -E '^(PASS|FAIL)' "$tmp/err")"
expect_pass method_cache:lru 70.0MiB
expect_pass method_cache:periodic_clear 70.0MiB
expect_fail slots_vs_dict:dict 128.0MiB
expect_pass slots_vs_dict:slots 128.0MiB

# --limit-memory replaces the lesson's budget: a fix that passes its 70 MiB budget fails a 64 KiB
# limit (at a tenth of its scale: its peak is still over 1 MiB), and the budget is not judged.
check_lesson method_cache:lru 1 --scale 0.1 --limit-memory 64KB
grep -q '^FAIL: method_cache:lru: peak [0-9.]*MiB ([0-9]* B) is not below the limit 64\.0KiB$' "$tmp/err" ||
  fail "lru under 64KB: $(grep -E '^(PASS|FAIL)' "$tmp/err")"
grep -q '70\.0MiB' "$tmp/err" && fail "lru under 64KB: the lesson's budget was judged too: $(grep -E '^(PASS|FAIL)' "$tmp/err")"

finish "check_lessons: ok"
