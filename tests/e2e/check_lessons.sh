#!/usr/bin/env bash
# check_lessons.sh - `leaklab check` on the lessons: over-budget variants fail with pytest-memray's text and exit 1, the fixes pass with exit 0.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cd "$tmp" # captures land here

expect_fail method_cache:leaky 70.0MiB
# The leaky cache's lines: the big integers and the memo entries, in the program's own code.
grep -Eq '^        mc_factorial_plus at .*/method_cache\.c:[0-9]+$' "$tmp/err" ||
  fail "leaky: mc_factorial_plus not named: $(cat "$tmp/err")"
grep -Eq '^        memo_insert at .*/method_cache\.c:[0-9]+$' "$tmp/err" || fail "leaky: memo_insert not named"
expect_fail method_cache:value_keyed 70.0MiB
expect_pass method_cache:per_instance 70.0MiB
expect_pass method_cache:lru 70.0MiB
expect_pass method_cache:periodic_clear 70.0MiB
expect_fail slots_vs_dict:dict 128.0MiB
expect_pass slots_vs_dict:slots 128.0MiB

# --limit-memory replaces the lesson's budget: the leaky variant passes a 1 GiB limit, and
# --limit-leaks catches the cache that is never freed (one run: the verdicts are separate lines).
check_lesson method_cache:leaky 1 --limit-memory 1GB --limit-leaks 1MB
grep -q '^PASS: method_cache:leaky: peak 614\.[0-9]MiB ([0-9]* B) is below the limit 1\.0GiB$' "$tmp/err" ||
  fail "leaky under 1GB: $(grep -E '^(PASS|FAIL)' "$tmp/err")"
grep -q '^Test was limited to leaking 1\.0MiB per line but leaked [0-9.]*MiB at 3 lines$' "$tmp/err" ||
  fail "leaky --limit-leaks 1MB: $(grep -A2 '^FAIL' "$tmp/err")"
grep -Eq '^    - [0-9.]+ MiB leaked here:$' "$tmp/err" || fail "leaky --limit-leaks: no leaked line"
# The per-instance fix frees its caches: nothing near 64 KiB is left at any line.
check_lesson method_cache:per_instance 0 --limit-leaks 64KB
grep -Eq '^PASS: method_cache:per_instance: no line leaked 64\.0KiB or more \(largest: [0-9.]+(B|KiB)\)$' "$tmp/err" ||
  fail "per_instance --limit-leaks 64KB: $(grep -E '^(PASS|FAIL)' "$tmp/err")"

finish "check_lessons: ok"
