#!/usr/bin/env bash
# check_lessons.sh - `leaklab check` on the lessons: over-budget variants fail with pytest-memray's text and exit 1, the fixes pass with exit 0.
set -euo pipefail

: "${LEAKLAB:?LEAKLAB must name the leaklab binary}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" # captures land here
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# check_lesson SPEC WANT_STATUS [OPTIONS...]: runs the check; its stderr is in $tmp/err.
check_lesson() {
  local spec=$1 want=$2
  shift 2
  set +e
  "$LEAKLAB" check "$@" "$spec" >"$tmp/out" 2>"$tmp/err"
  status=$?
  set -e
  [[ $status -eq $want ]] || fail "$spec $*: exit $status, want $want; stderr: $(tail -20 "$tmp/err")"
  # The program's stdout is its own, untouched: the lessons print their results there.
  [[ -s $tmp/out ]] || fail "$spec: the program's stdout is missing"
  grep -q '^PASS: \|^FAIL: ' "$tmp/out" && fail "$spec: a verdict went to stdout"
  return 0
}

# expect_pass SPEC LIMIT: one PASS line naming the exact peak and the limit.
expect_pass() {
  local spec=$1 limit=$2
  check_lesson "$spec" 0
  grep -Eq "^PASS: $spec: peak [0-9.]+(B|KiB|MiB) \([0-9]+ B\) is below the limit $limit$" "$tmp/err" ||
    fail "$spec: no PASS line: $(grep -E '^(PASS|FAIL)' "$tmp/err")"
}

# expect_fail SPEC LIMIT: FAIL, then pytest-memray's text with the top lines and their frames.
expect_fail() {
  local spec=$1 limit=$2
  check_lesson "$spec" 1
  local first nl=$'\n'
  first=$(grep -A4 '^FAIL: ' "$tmp/err" | head -5) || true
  local re="^FAIL: $spec: peak ([0-9.]+MiB) \(([0-9]+) B\) is not below the limit $limit$nl"
  re+="Test was limited to $limit but allocated ([0-9.]+MiB)${nl}List of allocations:$nl"
  re+="    - [0-9.]+ (B|KiB|MiB) allocated here:$nl        [a-z_]+ at /[^ ]*\.c:[0-9]+$"
  if [[ ! $first =~ $re ]]; then
    fail "$spec: pytest-memray text not found: $first"
  elif [[ ${BASH_REMATCH[1]} != "${BASH_REMATCH[3]}" ]]; then
    fail "$spec: the FAIL line and the text disagree on the peak: $first"
  fi
}

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

# --limit-memory replaces the lesson's budget: the leaky variant passes a 1 GiB limit ...
check_lesson method_cache:leaky 0 --limit-memory 1GB
grep -q '^PASS: method_cache:leaky: peak 614\.[0-9]MiB ([0-9]* B) is below the limit 1\.0GiB$' "$tmp/err" ||
  fail "leaky under 1GB: $(grep -E '^(PASS|FAIL)' "$tmp/err")"
# ... and options may follow the lesson; --limit-leaks catches the cache that is never freed.
check_lesson method_cache:leaky 1 --limit-memory 1GB --limit-leaks 1MB
grep -q '^Test was limited to leaking 1\.0MiB per line but leaked [0-9.]*MiB at 3 lines$' "$tmp/err" ||
  fail "leaky --limit-leaks 1MB: $(grep -A2 '^FAIL' "$tmp/err")"
grep -Eq '^    - [0-9.]+ MiB leaked here:$' "$tmp/err" || fail "leaky --limit-leaks: no leaked line"
# The per-instance fix frees its caches: nothing near 64 KiB is left at any line.
check_lesson method_cache:per_instance 0 --limit-leaks 64KB
grep -Eq '^PASS: method_cache:per_instance: no line leaked 64\.0KiB or more \(largest: [0-9.]+(B|KiB)\)$' "$tmp/err" ||
  fail "per_instance --limit-leaks 64KB: $(grep -E '^(PASS|FAIL)' "$tmp/err")"

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "check_lessons: ok"
