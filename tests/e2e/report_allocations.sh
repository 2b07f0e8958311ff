#!/usr/bin/env bash
# report_allocations.sh - `--at allocations` in report and diff (every allocation of the run per line, exact counts), and run's churn hint naming the lines that allocate most.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

SRC=$LL_SOURCE_DIR/tests/programs/known_pattern.c
kp=$tmp/kp.llcap
run "$LEAKLAB" run -o "$kp" -- "$LL_PROGRAMS/known_pattern"
[[ $status -eq 0 ]] || die "run known_pattern: exit $status: $(cat "$tmp/err")"
# 1016 allocations, 13 blocks live at the peak: no churn worth a hint.
grep -q "churn" "$tmp/err" && fail "known_pattern got a churn hint: $(cat "$tmp/err")"

# ---- text: every allocation per line; a realloc is one allocation of its new size ---------------
run "$LEAKLAB" report "$kp" --at allocations --top 0
[[ $status -eq 0 ]] || die "report --at allocations: exit $status: $(cat "$tmp/err")"
at() { echo "$SRC:$(line known_pattern.c "$1")"; }
for want in "$(at temp): size=62.5 KiB, count=1000, average=64 B" \
  "$(at big): size=97.7 KiB, count=1, average=97.7 KiB" \
  "$(at loop): size=5120 B, count=10, average=512 B" \
  "$(at realloc): size=3000 B, count=1, average=3000 B" \
  "$(at malloc): size=1000 B, count=1, average=1000 B" \
  "$(at calloc): size=1000 B, count=1, average=1000 B" \
  "$(at helper): size=777 B, count=1, average=777 B"; do
  grep -qxF "$want" "$tmp/out" || fail "--at allocations: no line '$want' in: $(cat "$tmp/out")"
done
grep -q "^\[ Top [0-9]* lines at allocations of " "$tmp/out" || fail "heading: $(head -1 "$tmp/out")"

# ---- json: the counts add up to the run's allocations -------------------------------------------
"$LEAKLAB" report "$kp" --at allocations --native --format json >"$tmp/a.json"
python3 - "$tmp/a.json" <<'PY' || fail "--at allocations json: counts do not add up"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["at"] == "allocations", d["at"]
assert sum(s["count"] for s in d["sites"]) == d["total_allocations"], d["total_allocations"]
assert sum(s["size"] for s in d["sites"]) == d["total_bytes"], d["total_bytes"]
PY

# ---- diff --at allocations: the same shapes as any moment ------------------------------------------
"$LEAKLAB" run -o "$tmp/mp.llcap" -- "$LL_PROGRAMS/massif_pattern" >/dev/null 2>&1 ||
  die "run massif_pattern failed"
run "$LEAKLAB" diff "$kp" "$tmp/mp.llcap" --at allocations --top 0
[[ $status -eq 0 ]] || fail "diff --at allocations: exit $status: $(cat "$tmp/err")"
grep -qxF "$(at temp): size=0 B (-62.5 KiB), count=0 (-1000)" "$tmp/out" ||
  fail "diff --at allocations: $(cat "$tmp/out")"

# ---- churn: many more allocations than live blocks names the busiest line -----------------------
churn_line=$(line churn.c churn_malloc)
run "$LEAKLAB" run -o "$tmp/churn.llcap" -- "$LL_PROGRAMS/churn" 300000
[[ $status -eq 0 ]] || die "run churn: exit $status: $(cat "$tmp/err")"
# (300001: stdout's buffer too)
grep -q "^leaklab: churn: 300001 allocations for 1024 blocks live at the peak" "$tmp/err" ||
  fail "no churn hint: $(cat "$tmp/err")"
grep -qE "^  .*/churn\.c:$churn_line: size=[0-9.]+ [KM]iB, count=300000, average=" "$tmp/err" ||
  fail "the churn hint does not name churn.c:$churn_line with its 300000 allocations: $(cat "$tmp/err")"

# ---- help and errors ------------------------------------------------------------------------------
# (into a file: grep -q stops reading at its match, and a pipe would then fail the writer)
"$LEAKLAB" report --help >"$tmp/help"
grep -q "realloc counts as one allocation of its new size" "$tmp/help" ||
  fail "report --help does not say how reallocs are counted"
expect_error "bad --at" 2 "allocations" "$LEAKLAB" report "$kp" --at allocs
expect_error "pprof --at allocations" 2 "--at allocations" \
  "$LEAKLAB" report "$kp" --at allocations --format pprof
finish "report_allocations: ok"
