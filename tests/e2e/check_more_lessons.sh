#!/usr/bin/env bash
# check_more_lessons.sh - budgets of chunked, memo_tables and state_churn: over-budget variants fail `leaklab check` (exit 1), fixes pass (exit 0), peaks repeat exactly.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cd "$tmp" # captures land here

# same_peak_twice SPEC: a second recording of the last checked SPEC has the same peak, to the byte.
same_peak_twice() {
  local spec=$1 first second
  first=$(json_field "$tmp/${spec/:/-}.llcap" peak_bytes)
  "$LEAKLAB" run -o "$tmp/again.llcap" "$spec" >/dev/null 2>"$tmp/err.again" ||
    fail "$spec: second run failed: $(tail -5 "$tmp/err.again")"
  second=$(json_field "$tmp/again.llcap" peak_bytes)
  [[ -n $first && $first == "$second" ]] || fail "$spec: peak $first B, then $second B"
}

# ---- chunked: three arrays of 5,000,000 doubles against 16 MiB ---------------------------------
expect_fail chunked:full 16.0MiB basel_full
same_peak_twice chunked:full
# Three lines of 40,000,000 B each at the peak; at the end none is left, and the inverses, freed
# before anything else was allocated, are the temporary.
[[ $(json_field chunked-full.llcap peak_bytes) -ge 120000000 ]] || fail "chunked:full: peak below 3 arrays"
[[ $("$LEAKLAB" report chunked-full.llcap --at peak | grep -c 'chunked\.c:[0-9]*: size=38\.1 MiB, count=1,') -eq 3 ]] ||
  fail "chunked:full: not three 38.1 MiB lines at the peak: $("$LEAKLAB" report chunked-full.llcap --at peak)"
"$LEAKLAB" report chunked-full.llcap --at end | grep -q 'chunked\.c' &&
  fail "chunked:full: an array is still live at the end"
"$LEAKLAB" report chunked-full.llcap --at temporary | grep -q 'chunked\.c:[0-9]*: size=38\.1 MiB, count=1,' ||
  fail "chunked:full: the inverses are not a temporary: $("$LEAKLAB" report chunked-full.llcap --at temporary)"
full_sum=$(grep '^sum: ' "$tmp/out")
for v in chunked streaming; do
  expect_pass chunked:$v 16.0MiB
  same_peak_twice chunked:$v
  [[ $(grep '^sum: ' "$tmp/out") == "$full_sum" ]] || fail "chunked:$v: $(grep '^sum' "$tmp/out") vs $full_sum"
done
# One 4096-double buffer (32 KiB) is the chunked variant's whole working set.
"$LEAKLAB" report chunked-chunked.llcap --at peak | grep -q 'chunked\.c:[0-9]*: size=32\.0 KiB, count=1,' ||
  fail "chunked:chunked: no 32 KiB buffer at the peak"

# The README's "freeing early" solution, built as a student would (free each array once the next
# step has used it, in a copy), prints exactly the check output the README shows from its FAIL.
mkdir -p "$tmp/ck"
cp "$LL_SOURCE_DIR"/scenarios/chunked/*.[ch] "$LL_SOURCE_DIR"/scenarios/common/scenario_args.[ch] "$tmp/ck/"
awk '/^  free\((squares|indices)\);$/ { next } { print }
     /^  square\(squares, indices, n\);$/ { print "  free(indices);" }
     /^  invert\(inverses, squares, n\);$/ { print "  free(squares);" }' \
  "$LL_SOURCE_DIR/scenarios/chunked/chunked.c" >"$tmp/ck/chunked.c"
[[ $(grep -c 'free(' "$tmp/ck/chunked.c") -eq $(grep -c 'free(' "$LL_SOURCE_DIR/scenarios/chunked/chunked.c") ]] ||
  fail "chunked: the freed-early copy does not move exactly two frees"
gcc -O2 -g -fno-omit-frame-pointer -I"$tmp/ck" -o "$tmp/ck/chunked" "$tmp/ck/main.c" "$tmp/ck/chunked.c" \
  "$tmp/ck/scenario_args.c" -lm || die "chunked: the freed-early copy does not build"
run "$LEAKLAB" check --limit-memory "16 MiB" -- "$tmp/ck/chunked" --variant full
[[ $status -eq 1 ]] || fail "chunked freed early: check exited $status, want 1"
sed -n '/^FAIL: /,$p' "$tmp/err" | sed "s#$tmp/ck/#/tmp/ck/#g" >"$tmp/got"
sed -n '/^   \$ leaklab check --limit-memory "16 MiB" -- \/tmp\/ck\/chunked/,/^   ```$/p' \
  "$LL_SOURCE_DIR/scenarios/chunked/README.md" | sed -n '/^   FAIL: /,$p' | sed '/^   ```$/d; s/^   //' >"$tmp/want"
[[ -s $tmp/want ]] || fail "chunked: no freed-early check output in the README"
diff -u "$tmp/want" "$tmp/got" >"$tmp/diff" || fail "chunked freed early: README vs check: $(cat "$tmp/diff")"

# ---- memo_tables: an unbounded memo against 32 MiB --------------------------------------------
expect_fail memo_tables:memoized 32.0MiB mt_memo_put
same_peak_twice memo_tables:memoized
# The memo's entries at the peak: as many as the program says it cached, 40 B each.
entries=$(sed -n 's/^validator memo: \([0-9]*\) entries x 40 B.*/\1/p' "$tmp/out")
[[ -n $entries ]] || fail "memoized: no memo line: $(cat "$tmp/out")"
"$LEAKLAB" report memo_tables-memoized.llcap --at peak |
  grep -q "memo_tables\.c:[0-9]*: size=[0-9.]* MiB, count=$entries, average=40 B$" ||
  fail "memoized: no line of $entries 40 B entries at the peak"
for v in naive precomputed; do
  expect_pass memo_tables:$v 32.0MiB
  same_peak_twice memo_tables:$v
done
# Step 5: a memo kept until exit grows without a bound and is bounded with one (check
# --no-growth fails and passes); the bounded one's hits and allocations are the README's.
memo=$LL_BUILD_DIR/scenarios/memo_tables
run "$LEAKLAB" check --no-growth -o kept.llcap -- "$memo" --variant memoized --keep-memo
[[ $status -eq 1 ]] || fail "memo kept: check --no-growth exited $status, want 1: $(tail -5 "$tmp/err")"
grep -q '/memo_tables\.c:155: grows, size=60\.9 MiB, +40 B per allocation' "$tmp/err" ||
  fail "memo kept: the entries do not grow: $(tail -5 "$tmp/err")"
grep -q '/memo_tables\.c:58: bounded, size=16\.0 MiB, level=16\.0 MiB, settled at 66% of the run$' "$tmp/err" ||
  fail "memo kept: the buckets are not bounded at 66%: $(tail -5 "$tmp/err")"
run "$LEAKLAB" check --no-growth -o bounded.llcap -- "$memo" --variant memoized --keep-memo --memo-size 100000
[[ $status -eq 0 ]] || fail "memo bounded: check --no-growth exited $status, want 0: $(tail -5 "$tmp/err")"
grep -q '/memo_tables\.c:155: bounded, size=3906 KiB, level=3906 KiB, settled at 3% of the run$' "$tmp/err" ||
  fail "memo bounded: the entries are not bounded at 3%: $(tail -5 "$tmp/err")"
grep -q '^memo hits: 140389, misses: 2859611$' "$tmp/out" || fail "memo bounded: $(grep hits "$tmp/out")"
[[ $(json_field bounded.llcap total_allocations) == 2859669 && $(json_field bounded.llcap peak_bytes) == 5052744 ]] ||
  fail "memo bounded: $(json_field bounded.llcap total_allocations) allocations, peak $(json_field bounded.llcap peak_bytes) B"
[[ $(json_field kept.llcap total_allocations) == 1596346 ]] || fail "memo kept: $(json_field kept.llcap total_allocations) allocations"

# ---- state_churn: every variant passes 8 KiB; the churn is in the totals ----------------------
for v in copying in_place arithmetic; do
  expect_pass state_churn:$v 8.0KiB
  same_peak_twice state_churn:$v
done
copying=$(json_field state_churn-copying.llcap total_allocations)
in_place=$(json_field state_churn-in_place.llcap total_allocations)
arithmetic=$(json_field state_churn-arithmetic.llcap total_allocations)
[[ $copying -gt 1000000 && $in_place -lt 100 && $arithmetic -lt $in_place ]] ||
  fail "state_churn totals: copying $copying, in_place $in_place, arithmetic $arithmetic"
# The README's exact figures: totals, and the allocation counts per line (its "ncalls" step):
# the allocators, then the copying callers with --cumulative, then split per traceback.
for f in "copying total_allocations 5869452" "copying total_bytes 251686320" \
  "in_place total_allocations 52" "in_place total_bytes 6448" "arithmetic total_allocations 2" \
  "arithmetic total_bytes 4304"; do
  read -r v key want <<<"$f"
  got=$(json_field "state_churn-$v.llcap" "$key")
  [[ $got == "$want" ]] || fail "state_churn:$v: $key $got, README says $want"
done
"$LEAKLAB" report state_churn-copying.llcap --at allocations >"$tmp/alloc"
"$LEAKLAB" report state_churn-copying.llcap --at allocations --cumulative --top 0 >"$tmp/alloc_cum"
"$LEAKLAB" report state_churn-copying.llcap --at allocations --group-by traceback --top 0 >"$tmp/alloc_tb"
for f in "alloc 84 234778" "alloc 75 5634672" "alloc_cum 166 4610800" "alloc_cum 104 234777" \
  "alloc_cum 107 5634648" "alloc_cum 158 629325" "alloc_cum 178 629300" "alloc_tb 75 4426368" \
  "alloc_tb 75 604152"; do
  read -r file line count <<<"$f"
  grep -q "/state_churn\.c:$line: size=[0-9.]* [KMG]*i*B, count=$count, " "$tmp/$file" ||
    fail "copying --at allocations ($file): no state_churn.c:$line with count=$count: $(cat "$tmp/$file")"
done
[[ $(grep -c '/state_churn\.c:\(84\|75\): ' "$tmp/alloc") -eq 2 && $(grep -c ': size=' "$tmp/alloc") -eq 4 ]] ||
  fail "copying --at allocations: not the four lines the README shows: $(cat "$tmp/alloc")"
# One temporary per delay tried: the last scanner of the packet's world, freed right away.
delay=$(sed -n 's/^first safe delay: \([0-9]*\)$/\1/p' "$tmp/out")
"$LEAKLAB" report state_churn-copying.llcap --at temporary |
  grep -q "state_churn\.c:[0-9]*: size=[0-9.]* KiB, count=$((delay + 1)), average=12 B$" ||
  fail "copying: no $((delay + 1)) temporaries: $("$LEAKLAB" report state_churn-copying.llcap --at temporary)"
# in_place allocates nothing during the search, so only its scratch world's last scanner, freed
# at the very end, counts (the definition looks at allocations in between, not at time).
"$LEAKLAB" report state_churn-in_place.llcap --at temporary |
  grep -q "state_churn\.c:[0-9]*: size=12 B, count=1, average=12 B$" ||
  fail "in_place: not exactly one temporary: $("$LEAKLAB" report state_churn-in_place.llcap --at temporary)"

finish "check_more_lessons: ok"
