#!/usr/bin/env bash
# massif_errors.sh - `leaklab massif` / `memcheck` misuse exits 2, corrupt massif.out or missing valgrind exits 3, one line each.
set -euo pipefail

: "${LEAKLAB:?LEAKLAB must name the leaklab binary}"
: "${LL_SOURCE_DIR:?LL_SOURCE_DIR must name the source tree}"
data="$LL_SOURCE_DIR/tests/data/massif"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect NAME STATUS NEEDLE CMD...: exits STATUS with nothing on stdout and exactly one line on
# stderr, starting "leaklab: " and containing NEEDLE.
expect() {
  local name=$1 want=$2 needle=$3
  shift 3
  set +e
  "$@" >"$tmp/out" 2>"$tmp/err"
  local status=$?
  set -e
  local lines
  lines=$(wc -l <"$tmp/err")
  if [ "$status" -ne "$want" ]; then
    fail "$name: exit $status, want $want ($(head -c 300 "$tmp/err"))"
  elif [ -s "$tmp/out" ]; then
    fail "$name: wrote to stdout: $(head -c 200 "$tmp/out")"
  elif [ "$lines" -ne 1 ]; then
    fail "$name: $lines lines on stderr, want 1: $(head -c 300 "$tmp/err")"
  elif ! grep -q '^leaklab: ' "$tmp/err" || ! grep -qF -- "$needle" "$tmp/err"; then
    fail "$name: stderr lacks '$needle': $(cat "$tmp/err")"
  fi
}

# Hand-broken massif files: the line and what is wrong, exit 3.
expect bad_header 3 "bad_header.out:2: file is corrupt" "$LEAKLAB" massif --file "$data/bad_header.out"
expect bad_time_unit 3 "time_unit must be i, ms or B" "$LEAKLAB" massif --file "$data/bad_time_unit.out"
expect bad_tree_line 3 "bad_tree_line.out:172:" "$LEAKLAB" massif --file "$data/bad_tree_line.out"
expect children 3 "declares 7 children, found 6" "$LEAKLAB" massif --file "$data/children_mismatch.out"
expect nonnumeric 3 "mem_heap_B= is not a number" "$LEAKLAB" massif --file "$data/nonnumeric.out"
expect sums 3 "sum_mismatch.out:99:" "$LEAKLAB" massif --file "$data/sum_mismatch.out"
expect order 3 "expected snapshot=3, got 7" "$LEAKLAB" massif --file "$data/out_of_order.out"
expect truncated 3 "truncated.out:194: file is truncated" "$LEAKLAB" massif --file "$data/truncated.out"
expect missing 3 "no such file" "$LEAKLAB" massif --file "$tmp/none.out"
printf 'garbage\n' >"$tmp/garbage.out"
expect garbage 3 "garbage.out:1:" "$LEAKLAB" massif --file "$tmp/garbage.out"
: >"$tmp/empty.out"
expect empty 3 "empty.out" "$LEAKLAB" massif --file "$tmp/empty.out"

# Cut a real file at many points: never a crash, exit 0 (a whole-snapshot prefix) or 3, one line.
size=$(wc -c <"$data/pattern.out")
for cut in $(seq 1 97 "$size"); do
  head -c "$cut" "$data/pattern.out" >"$tmp/cut.out"
  set +e
  "$LEAKLAB" massif --file "$tmp/cut.out" >"$tmp/out" 2>"$tmp/err"
  status=$?
  set -e
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
expect no_target 2 "missing SCENARIO" "$LEAKLAB" massif
expect both 2 "not both" "$LEAKLAB" massif method_cache -- /bin/true
expect bad_scale 2 "bad --scale '2'" "$LEAKLAB" massif method_cache --scale 2
expect scale_prog 2 "--scale is for lessons" "$LEAKLAB" massif --scale 0.1 -- /bin/true
expect no_scenario 2 "unknown lesson 'no_such_lesson'" "$LEAKLAB" massif no_such_lesson
expect no_variant 2 "has no variant 'nope'" "$LEAKLAB" memcheck method_cache:nope
expect bad_top 2 "bad --top" "$LEAKLAB" memcheck --top x -- /bin/true
expect mc_no_target 2 "missing SCENARIO" "$LEAKLAB" memcheck
expect mc_capture 2 "--capture goes with --xml" "$LEAKLAB" memcheck --capture x -- /bin/true
expect bad_option 2 "unknown option '--bogus'" "$LEAKLAB" massif --bogus

# A program that does not exist, and valgrind missing: exit 3, the second with the apt-get hint.
expect no_program 3 "cannot run '$tmp/nope'" "$LEAKLAB" massif -- "$tmp/nope"
mkdir "$tmp/bin"
expect no_valgrind 3 "apt-get install valgrind" env PATH="$tmp/bin" "$LEAKLAB" massif -o "$tmp/r" -- /bin/true
expect mc_no_valgrind 3 "apt-get install valgrind" env PATH="$tmp/bin" "$LEAKLAB" memcheck -o "$tmp/r" -- /bin/true

# A memcheck XML cut short.
printf '<?xml version="1.0"?>\n<valgrindoutput>\n<error>\n<kind>Leak_Defini' >"$tmp/cut.xml"
expect mc_cut_xml 3 "cut.xml: file is truncated" "$LEAKLAB" memcheck --xml "$tmp/cut.xml"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "massif_errors: all passed"
