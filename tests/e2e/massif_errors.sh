#!/usr/bin/env bash
# massif_errors.sh - `leaklab massif` / `memcheck` misuse exits 2, corrupt massif.out or missing valgrind exits 3, one line each.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

data="$LL_SOURCE_DIR/tests/data/massif"

# Hand-broken massif files: the line and what is wrong, exit 3.
expect_error bad_header 3 "bad_header.out:2: file is corrupt" "$LEAKLAB" massif --file "$data/bad_header.out"
expect_error bad_time_unit 3 "time_unit must be i, ms or B" "$LEAKLAB" massif --file "$data/bad_time_unit.out"
expect_error bad_tree_line 3 "bad_tree_line.out:172:" "$LEAKLAB" massif --file "$data/bad_tree_line.out"
expect_error children 3 "declares 7 children, found 6" "$LEAKLAB" massif --file "$data/children_mismatch.out"
expect_error nonnumeric 3 "mem_heap_B= is not a number" "$LEAKLAB" massif --file "$data/nonnumeric.out"
expect_error sums 3 "sum_mismatch.out:99:" "$LEAKLAB" massif --file "$data/sum_mismatch.out"
expect_error order 3 "expected snapshot=3, got 7" "$LEAKLAB" massif --file "$data/out_of_order.out"
expect_error truncated 3 "truncated.out:194: file is truncated" "$LEAKLAB" massif --file "$data/truncated.out"
expect_error missing 3 "no such file" "$LEAKLAB" massif --file "$tmp/none.out"
printf 'garbage\n' >"$tmp/garbage.out"
expect_error garbage 3 "garbage.out:1:" "$LEAKLAB" massif --file "$tmp/garbage.out"
: >"$tmp/empty.out"
expect_error empty 3 "empty.out" "$LEAKLAB" massif --file "$tmp/empty.out"

# Cut a real file at many points: never a crash, exit 0 (a whole-snapshot prefix) or 3, one line.
size=$(wc -c <"$data/pattern.out")
for cut in $(seq 1 97 "$size"); do
  head -c "$cut" "$data/pattern.out" >"$tmp/cut.out"
  run "$LEAKLAB" massif --file "$tmp/cut.out"
  if [ "$status" -ne 0 ] && { [ "$status" -ne 3 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ]; }; then
    fail "cut at $cut: exit $status: $(head -c 300 "$tmp/err")"
  fi
done

# A good file reads.
if ! "$LEAKLAB" massif --file "$data/pattern.out" >"$tmp/out" 2>"$tmp/err"; then
  fail "pattern.out: $(cat "$tmp/err")"
elif ! grep -q "massif_pattern.c:41: size=195 KiB" "$tmp/out"; then
  fail "pattern.out: no big_block line: $(cat "$tmp/out")"
fi

# Usage errors: exit 2.
expect_error no_target 2 "missing SCENARIO" "$LEAKLAB" massif
expect_error both 2 "not both" "$LEAKLAB" massif method_cache -- /bin/true
expect_error bad_scale 2 "bad --scale '2'" "$LEAKLAB" massif method_cache --scale 2
expect_error scale_prog 2 "--scale is for lessons" "$LEAKLAB" massif --scale 0.1 -- /bin/true
expect_error no_scenario 2 "unknown lesson 'no_such_lesson'" "$LEAKLAB" massif no_such_lesson
expect_error no_variant 2 "has no variant 'nope'" "$LEAKLAB" memcheck method_cache:nope
expect_error bad_top 2 "bad --top" "$LEAKLAB" memcheck --top x -- /bin/true
expect_error mc_no_target 2 "missing SCENARIO" "$LEAKLAB" memcheck
expect_error mc_capture 2 "--capture goes with --xml" "$LEAKLAB" memcheck --capture x -- /bin/true
expect_error bad_option 2 "unknown option '--bogus'" "$LEAKLAB" massif --bogus

# A program that does not exist, and valgrind missing: exit 3, the second with the apt-get hint.
expect_error no_program 3 "cannot run '$tmp/nope'" "$LEAKLAB" massif -- "$tmp/nope"
mkdir "$tmp/bin"
expect_error no_valgrind 3 "apt-get install valgrind" env PATH="$tmp/bin" "$LEAKLAB" massif -o "$tmp/r" -- /bin/true
expect_error mc_no_valgrind 3 "apt-get install valgrind" env PATH="$tmp/bin" "$LEAKLAB" memcheck -o "$tmp/r" -- /bin/true

# A memcheck XML cut short.
printf '<?xml version="1.0"?>\n<valgrindoutput>\n<error>\n<kind>Leak_Defini' >"$tmp/cut.xml"
expect_error mc_cut_xml 3 "cut.xml: file is truncated" "$LEAKLAB" memcheck --xml "$tmp/cut.xml"

finish "massif_errors: all passed"
