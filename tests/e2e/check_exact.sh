#!/usr/bin/env bash
# check_exact.sh - `leaklab check` is exact: three consecutive checks give the same peak to the byte, and a limit one byte above the known peak passes while the peak itself fails.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cd "$tmp"

# peak_of ARGS...: the exact peak in bytes from the PASS/FAIL line of `leaklab check ARGS`.
peak_of() {
  set +e
  "$LEAKLAB" check "$@" >/dev/null 2>"$tmp/err"
  set -e
  sed -n 's/^\(PASS\|FAIL\): .*peak [0-9.]*[KMG]*i*B (\([0-9]*\) B).*/\2/p' "$tmp/err" | head -1
}

# Three consecutive checks of a lesson (a GMP-heavy program with a bounded cache): one figure.
peaks=()
for run in 1 2 3; do
  p=$(peak_of --limit-memory 70MB method_cache:lru)
  [[ -n $p ]] || fail "run $run: no peak in: $(grep -E '^(PASS|FAIL)' "$tmp/err")"
  peaks+=("$p")
done
[[ ${peaks[0]} == "${peaks[1]}" && ${peaks[1]} == "${peaks[2]}" ]] ||
  fail "method_cache:lru peaks differ between runs: ${peaks[*]}"
echo "method_cache:lru peak, three runs: ${peaks[*]} B"

# known_pattern peaks at exactly 109120 bytes: 109121 B passes, 109120 B (not strictly below) fails.
prog=$LL_PROGRAMS/known_pattern
set +e
"$LEAKLAB" check --limit-memory 109121B -- "$prog" >/dev/null 2>"$tmp/err"
status=$?
set -e
[[ $status -eq 0 ]] || fail "known_pattern under 109121B: exit $status: $(cat "$tmp/err")"
grep -qx "PASS: $prog: peak 106.6KiB (109120 B) is below the limit 106.6KiB" "$tmp/err" ||
  fail "known_pattern PASS line: $(grep -E '^(PASS|FAIL)' "$tmp/err")"
set +e
"$LEAKLAB" check --limit-memory 109120B -- "$prog" >/dev/null 2>"$tmp/err"
status=$?
set -e
[[ $status -eq 1 ]] || fail "known_pattern under 109120B: exit $status, want 1"
grep -qx "FAIL: $prog: peak 106.6KiB (109120 B) is not below the limit 106.6KiB" "$tmp/err" ||
  fail "known_pattern FAIL line: $(grep -E '^(PASS|FAIL)' "$tmp/err")"
[[ $(grep -m1 'allocated here:' "$tmp/err") == '    - 97.7 KiB allocated here:' ]] ||
  fail "known_pattern: @big (100000 B) not listed first: $(cat "$tmp/err")"

finish "check_exact: ok"
