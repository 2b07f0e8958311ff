#!/usr/bin/env bash
# budget_cmocka.sh - the cmocka budget assertions fail as they must: test_budget --failing fails exactly its four failing tests, each with pytest-memray's message.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

bin=$LL_BUILD_DIR/tests/test_budget
src=$LL_SOURCE_DIR/tests/unit/test_budget.c

# The lines the messages must name, read from the source rather than written down twice.
line_of() {
  local n
  n=$(grep -n -m1 -- "$1" "$src" | cut -d: -f1) || true
  [[ -n $n ]] || die "no line matching '$1' in $src"
  echo "$n"
}
big=$(line_of 'static void \*alloc_big')
small=$(line_of 'static void \*alloc_small')
peak_end=$(line_of 'LL_ASSERT_PEAK_BELOW(1024, kept\[0\]')

set +e
# A failed assertion leaves its test's blocks behind by design (cmocka jumps out of the test), so
# LeakSanitizer, in a sanitize build, would see them and change the exit status.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$bin" --failing >"$tmp/out" 2>&1
status=$?
set -e
out=$(cat "$tmp/out")

# cmocka exits with the number of failed tests: four must fail, the fifth pass.
[[ $status -eq 4 ]] || fail "exit $status, want 4 (failed tests)"
for t in test_fail_peak test_fail_leaks test_fail_bad_size test_fail_inside_block; do
  grep -qx "\[  FAILED  \] $t" "$tmp/out" || fail "$t did not fail"
done
grep -qx "\[       OK \] test_after_abandoned_block" "$tmp/out" ||
  fail "a block abandoned by a failed test broke the next test"

expect_block() {
  local name=$1 want=$2
  [[ $out == *"$want"* ]] || fail "$name: message not found; want:
$want
got:
$out"
}
expect_block peak "Test was limited to 1.0KiB but allocated 4.0KiB
List of allocations:
    - 4096 B allocated here:
        alloc_big at $src:$big
"
expect_block peak-line "$src:$peak_end: error: Failure!"
expect_block leaks "Test was limited to leaking 1.0KiB per line but leaked 2.0KiB at 1 line
List of leaks:
    - 2048 B leaked here:
        alloc_small at $src:$small
"
expect_block bad-size "leaklab: bad SIZE '24 MB of RAM'"

finish "budget_cmocka: ok"
