#!/usr/bin/env bash
# growth_verdicts.sh - `report --growth` and `check --no-growth`: grows, bounded and released on a program with one line of each shape and on every method_cache variant, the same run to run, with both recorders.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cd "$tmp"

# verdict CAPTURE FILE:LINE: the growth word of that site in `report --growth --format json`.
verdict() {
  "$LEAKLAB" report "$1" --growth --format json | python3 -c '
import json, sys
want = sys.argv[1]
for s in json.load(sys.stdin)["sites"]:
    if "%s:%d" % (s["file"].rsplit("/", 1)[-1], s["line"]) == want:
        print(s["growth"])
        break
else:
    print("missing")' "$2"
}

# verdicts CAPTURE: every judged site's "file:line growth", in report order.
verdicts() {
  "$LEAKLAB" report "$1" --growth --format json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["sites"]:
    print("%s:%d %s" % (s["file"].rsplit("/", 1)[-1], s["line"], s["growth"]))'
}

# A program with one line of each shape, with each recorder.
prog=$LL_PROGRAMS/growth_shapes
for rec in sync async; do
  LEAKLAB_RECORDER=$rec "$LEAKLAB" run -o "shapes_$rec.llcap" -- "$prog" >/dev/null 2>"$tmp/err" ||
    die "growth_shapes under $rec: $(cat "$tmp/err")"
  for want in GROWS:grows BOUNDED:bounded RELEASED:released; do
    site="growth_shapes.c:$(line growth_shapes.c "${want%%:*}")"
    got=$(verdict "shapes_$rec.llcap" "$site")
    [[ $got == "${want#*:}" ]] || fail "$rec: $site is '$got', want '${want#*:}'"
  done
done
# The same verdicts whichever recorder ran it (the series is on the allocation clock).
[[ "$(verdicts shapes_sync.llcap)" == "$(verdicts shapes_async.llcap)" ]] ||
  fail "sync and async verdicts differ: $(verdicts shapes_sync.llcap) / $(verdicts shapes_async.llcap)"

# The text form: one line per site in tracemalloc's size format, the words of the contract.
"$LEAKLAB" report shapes_sync.llcap --growth >text.out
grep -Eq "^\[ Growth of 3 lines of .*growth_shapes over [0-9]+ allocations, [0-9]+ points \]$" text.out ||
  fail "growth heading: $(head -1 text.out)"
grep -Eq "growth_shapes.c:$(line growth_shapes.c GROWS): grows, size=[0-9.]+ [KM]iB, \+[0-9.]+ B per allocation \(\+[0-9.]+ [KM]?i?B/s\), rising until [0-9]+% of the run$" text.out ||
  fail "grows line: $(grep growth_shapes.c text.out)"
grep -Eq "growth_shapes.c:$(line growth_shapes.c BOUNDED): bounded, size=97.7 KiB, level=97.7 KiB, settled at [0-9]+% of the run$" text.out ||
  fail "bounded line: $(grep growth_shapes.c text.out)"
grep -Eq "growth_shapes.c:$(line growth_shapes.c RELEASED): released, peak=260 KiB, end=0 B$" text.out ||
  fail "released line: $(grep growth_shapes.c text.out)"

# Nothing judged: the heading says why, in words (not "0 lines").
"$LEAKLAB" report shapes_sync.llcap --growth --growth-min 2MB >none.out
grep -Eq "^\[ No growth verdict: no line of .*growth_shapes reached 2048 KiB over [0-9]+ allocations, [0-9]+ points \]$" none.out ||
  fail "heading with nothing judged: $(head -1 none.out)"

# A series with no points (python3 rewrites the LINES section, lengths and checksum): --growth
# says so, and the HTML report draws no bands and frees what it loaded - LSan checks that in the
# sanitize preset, valgrind here.
"$LEAKLAB" run -o true.llcap -- /bin/true >/dev/null 2>err || die "run /bin/true: $(cat err)"
python3 "$LL_SOURCE_DIR/tools/llcap_fixcrc.py" --empty-lines true.llcap empty.llcap || die "llcap_fixcrc.py --empty-lines"
"$LEAKLAB" report empty.llcap --growth >none.out 2>err || fail "--growth, no points: $(cat err)"
grep -Eq "^\[ No growth verdict: no line of /bin/true held memory over 0 allocations, 0 points \]$" none.out ||
  fail "heading with no points: $(head -1 none.out)"
memcheck=()
[[ $LL_SANITIZE == 1 ]] || memcheck=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9)
"${memcheck[@]}" "$LEAKLAB" report empty.llcap --format html -o empty.html 2>err ||
  fail "html, no points: exit $? $(tail -5 err)"

# The HTML report stacks the lines from the same series, each with its verdict.
"$LEAKLAB" report shapes_sync.llcap --format html -o shapes.html || die "html report"
python3 - shapes.html "growth_shapes.c:$(line growth_shapes.c GROWS)" <<'PY' || fail "HTML bands: $(cat "$tmp/err" 2>/dev/null)"
import json, re, sys
page = open(sys.argv[1]).read()
data = json.loads(re.search(r'<script type="application/json" id="leaklab-data">(.*?)</script>', page, re.S).group(1))
tl = data["timeline"]
band = [l for l in tl["lines"] if l["key"].split(" ")[0].endswith(sys.argv[2])]
assert band and band[0]["growth"] == "grows", tl["lines"]
# every point: the bands and "other" add up to the total, and the peak is one of the points
for i in range(len(tl["t_ns"])):
    assert sum(l["values"][i] for l in tl["lines"]) + tl["other"][i] == tl["current"][i]
assert max(tl["high"]) == data["summary"]["peak_bytes"]
PY

# run's summary ends with the growing lines (only those), and says nothing of growth without them.
"$LEAKLAB" run -o summary.llcap -- "$prog" >/dev/null 2>err || die "run growth_shapes: $(cat err)"
grep -A1 "^leaklab: still growing at the end of the run (leaklab report --growth):$" err |
  grep -q "growth_shapes.c:$(line growth_shapes.c GROWS): grows, " || fail "run summary: $(cat err)"
grep -q ": bounded, \|: released, " err && fail "run summary names lines that do not grow: $(cat err)"
"$LEAKLAB" run -o summary2.llcap -- "$LL_PROGRAMS/known_pattern" >/dev/null 2>err || die "run known_pattern"
grep -q "still growing" err && fail "known_pattern's summary speaks of growth: $(cat err)"

# check --no-growth fails on the growing line (exit 1, FAIL then the verdicts), and passes when
# only lines above a size that the growing one never reaches are judged.
set +e
"$LEAKLAB" check --no-growth -o chk.llcap -- "$prog" >/dev/null 2>err
status=$?
set -e
[[ $status -eq 1 ]] || fail "check --no-growth on growth_shapes: exit $status, want 1"
grep -q "^FAIL: $prog: 1 line is still growing at the end of the run$" err || fail "FAIL line: $(cat err)"
grep -q "growth_shapes.c:$(line growth_shapes.c GROWS): grows" err || fail "verdicts not printed: $(cat err)"
"$LEAKLAB" check --no-growth --growth-min 2MB -o chk.llcap -- "$prog" >/dev/null 2>err ||
  fail "check --no-growth --growth-min 2MB: $(cat err)"
grep -q "^PASS: $prog: no line grows$" err || fail "PASS line: $(cat err)"

# The lessons: the cache that keeps every instance or value grows, the LRU is bounded, a cache
# per instance or cleared periodically gives its memory back. The big-integer line (314) and the
# cache entries (194) are the ones the lesson is about.
if lesson_built method_cache; then
  for want in leaky:grows value_keyed:grows lru:bounded per_instance:released periodic_clear:released; do
    v=${want%%:*}
    "$LEAKLAB" run -o "mc_$v.llcap" "method_cache:$v" --scale 0.2 >/dev/null 2>"$tmp/err" ||
      die "method_cache:$v: $(cat "$tmp/err")"
    for ln in 314 194; do
      got=$(verdict "mc_$v.llcap" "method_cache.c:$ln")
      [[ $got == "${want#*:}" ]] || fail "method_cache:$v: method_cache.c:$ln is '$got', want '${want#*:}'"
    done
  done
  # Stable from run to run.
  "$LEAKLAB" run -o mc_leaky2.llcap method_cache:leaky --scale 0.2 >/dev/null 2>"$tmp/err"
  [[ "$(verdicts mc_leaky.llcap)" == "$(verdicts mc_leaky2.llcap)" ]] ||
    fail "method_cache:leaky verdicts differ between runs"
  set +e
  "$LEAKLAB" check --no-growth --scale 0.2 method_cache:lru >/dev/null 2>err
  status=$?
  set -e
  [[ $status -eq 0 ]] || fail "check --no-growth method_cache:lru: exit $status: $(cat err)"
fi

# Usage errors name what was wrong.
expect_error growth-with-at 2 "--growth judges the whole run" "$LEAKLAB" report shapes_sync.llcap --growth --at end
expect_error growth-min-alone 2 "--growth-min goes with --growth" "$LEAKLAB" report shapes_sync.llcap --growth-min 1MB
expect_error growth-diff 2 "--growth is for 'leaklab report'" "$LEAKLAB" diff shapes_sync.llcap shapes_async.llcap --growth

finish "growth verdicts: grows, bounded and released as the shapes and lessons have them"
