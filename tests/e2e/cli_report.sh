#!/usr/bin/env bash
# cli_report.sh - `leaklab report` and `leaklab diff` on snapshot files of known contents: exact text, valid JSON, options.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# expect_ok NAME WANT_STDOUT CMD...: exit 0, nothing on stderr, stdout exactly WANT_STDOUT.
expect_ok() {
  local name=$1 want=$2
  shift 2
  run "$@"
  if [[ $status -ne 0 ]]; then
    fail "$name: exit $status, want 0; stderr: $(cat "$tmp/err")"
    return
  fi
  [[ -s $tmp/err ]] && fail "$name: unexpected stderr: $(cat "$tmp/err")"
  if [[ "$(cat "$tmp/out")" != "$want" ]]; then
    fail "$name: stdout differs"
    diff <(printf '%s\n' "$want") "$tmp/out" >&2 || true
  fi
}

# check_json NAME PYTHON_ASSERTIONS: stdout parses as JSON (bound to `d`) and the assertions hold.
check_json() {
  local name=$1 code=$2
  if ! python3 -c "
import json, sys
d = json.load(open(sys.argv[1], encoding='utf-8'))
$code
" "$tmp/out" 2>"$tmp/pyerr"; then
    fail "$name: $(tail -n 3 "$tmp/pyerr")"
  fi
}

make_snap() {
  "$LL_PROGRAMS/snapshot_maker" "$tmp/$1.llsnap" "$1"
}
for v in base grown many weird current; do make_snap "$v"; done
base=$tmp/base.llsnap grown=$tmp/grown.llsnap many=$tmp/many.llsnap
weird=$tmp/weird.llsnap current=$tmp/current.llsnap

head_base='peak=10.1 KiB, end=224 B, 6 allocations totalling 10.2 KiB ]'

# ---- text ------------------------------------------------------------------------------------

expect_ok "default moment is the peak" \
"[ Top 2 lines at peak of snapshot_maker base: $head_base
app.c:20: size=10.0 KiB, count=1, average=10.0 KiB
app.c:12: size=124 B, count=3, average=41 B" \
  "$LEAKLAB" report "$base"

expect_ok "--at current" \
"[ Top 2 lines at current of snapshot_maker base: $head_base
app.c:12: size=124 B, count=3, average=41 B
util.c:7: size=100 B, count=2, average=50 B" \
  "$LEAKLAB" report "$base" --at current

expect_ok "--at=peak and option before the file" \
"[ Top 2 lines at peak of snapshot_maker base: $head_base
app.c:20: size=10.0 KiB, count=1, average=10.0 KiB
app.c:12: size=124 B, count=3, average=41 B" \
  "$LEAKLAB" report --at=peak "$base"

expect_ok "--group-by filename" \
"[ Top 2 files at current of snapshot_maker base: $head_base
app.c:0: size=124 B, count=3, average=41 B
util.c:0: size=100 B, count=2, average=50 B" \
  "$LEAKLAB" report "$base" --at current --group-by filename

expect_ok "--group-by traceback" \
"[ Top 2 tracebacks at current of snapshot_maker base: $head_base
app.c:12: size=124 B, count=3, average=41 B
    app.c:12 (make_names)
    app.c:40 (main)
util.c:7: size=100 B, count=2, average=50 B
    util.c:7 (helper)
    app.c:42 (main)" \
  "$LEAKLAB" report "$base" --at current --group-by traceback

run "$LEAKLAB" report "$base" --at current --cumulative
[[ $status -eq 0 ]] || fail "--cumulative: exit $status"
head -n 1 "$tmp/out" | grep -q '^\[ Top 4 lines (cumulative) at current ' \
  || fail "--cumulative heading: $(head -n 1 "$tmp/out")"
for line in 'app.c:12: size=124 B, count=3, average=41 B' 'app.c:40: size=124 B, count=3, average=41 B' \
  'util.c:7: size=100 B, count=2, average=50 B' 'app.c:42: size=100 B, count=2, average=50 B'; do
  grep -qxF "$line" "$tmp/out" || fail "--cumulative: missing '$line'"
done

expect_ok "--top 1" \
"[ Top 1 of 2 lines at peak of snapshot_maker base: $head_base
app.c:20: size=10.0 KiB, count=1, average=10.0 KiB
...and 1 more" \
  "$LEAKLAB" report "$base" --top 1

# The default shows 10 lines of text; --top 0 shows all.
run "$LEAKLAB" report "$many" --at current
[[ $status -eq 0 ]] || fail "many: exit $status"
[[ $(wc -l <"$tmp/out") -eq 12 ]] || fail "many: want heading + 10 lines + tail, got $(wc -l <"$tmp/out") lines"
head -n 1 "$tmp/out" | grep -q '^\[ Top 10 of 25 lines at current ' || fail "many heading: $(head -n 1 "$tmp/out")"
sed -n 2p "$tmp/out" | grep -qxF 'many.c:25: size=200 B, count=1, average=200 B' || fail "many: largest first"
tail -n 1 "$tmp/out" | grep -qxF '...and 15 more' || fail "many: tail line"
run "$LEAKLAB" report "$many" --top 0
[[ $status -eq 0 && $(wc -l <"$tmp/out") -eq 26 ]] || fail "--top 0: exit $status, $(wc -l <"$tmp/out") lines"

expect_ok "a file with only the current moment" \
"[ Top 2 lines at current of snapshot_maker current: $head_base
app.c:12: size=124 B, count=3, average=41 B
util.c:7: size=100 B, count=2, average=50 B" \
  "$LEAKLAB" report "$current"

# ---- filters ---------------------------------------------------------------------------------

expect_ok "--include GLOB" \
"[ Top 1 lines at current of snapshot_maker base: $head_base
util.c:7: size=100 B, count=2, average=50 B" \
  "$LEAKLAB" report "$base" --at current --include 'util*'

expect_ok "--exclude GLOB:LINE" \
"[ Top 1 lines at peak of snapshot_maker base: $head_base
app.c:12: size=124 B, count=3, average=41 B" \
  "$LEAKLAB" report "$base" --exclude 'app.c:20'

expect_ok "--include on a caller's line matches nothing without --all-frames" \
"[ No lines at current of snapshot_maker base: $head_base" \
  "$LEAKLAB" report "$base" --at current --include 'app.c:42'

expect_ok "--all-frames" \
"[ Top 1 lines at current of snapshot_maker base: $head_base
util.c:7: size=100 B, count=2, average=50 B" \
  "$LEAKLAB" report "$base" --at current --include 'app.c:42' --all-frames

# ---- JSON ------------------------------------------------------------------------------------

run "$LEAKLAB" report "$base" --format json
[[ $status -eq 0 ]] || fail "json: exit $status"
check_json "json report" '
assert d["program"] == "snapshot_maker base", d["program"]
assert (d["at"], d["group_by"], d["cumulative"]) == ("peak", "lineno", False)
assert (d["peak_bytes"], d["end_bytes"]) == (10364, 224)
assert (d["total_allocations"], d["total_bytes"]) == (6, 10464)
assert (d["untracked_allocations"], d["untracked_bytes"]) == (0, 0)
s = d["sites"]
assert [(x["file"], x["line"], x["function"], x["size"], x["count"]) for x in s] == [
    ("app.c", 20, "load_table", 10240, 1), ("app.c", 12, "make_names", 124, 3)], s
assert s[0]["frames"] == [{"file": "app.c", "line": 20, "function": "load_table", "ip": 0}]
assert all("usable" in x and "size_diff" not in x for x in s)
'

run "$LEAKLAB" report "$many" --format json
[[ $status -eq 0 ]] || fail "json many: exit $status"
check_json "json shows every site by default" 'assert len(d["sites"]) == 25 and d["sites_total"] == 25'

run "$LEAKLAB" report "$base" --format json --group-by traceback --at current --top 1
check_json "json traceback --top 1" '
assert d["group_by"] == "traceback" and len(d["sites"]) == 1
assert [(f["file"], f["line"], f["function"]) for f in d["sites"][0]["frames"]] == [
    ("app.c", 12, "make_names"), ("app.c", 40, "main")]
'

# A file name with a quote, a backslash, a tab, a control character and a byte that is not UTF-8.
run "$LEAKLAB" report "$weird" --format json
[[ $status -eq 0 ]] || fail "json weird: exit $status"
check_json "json escaping" '
s = d["sites"][0]
assert s["file"] == "we\"ird\\dir/na\tme\x01\ufffd.c", repr(s["file"])
assert s["function"] == "f\n" and s["size"] == 77
'
run "$LEAKLAB" report "$weird"
[[ $status -eq 0 ]] || fail "text weird: exit $status"

# ---- output file -----------------------------------------------------------------------------

run "$LEAKLAB" report "$base" -o "$tmp/report.txt"
[[ $status -eq 0 && ! -s $tmp/out && ! -s $tmp/err ]] || fail "-o: exit $status, stdout/stderr not empty"
"$LEAKLAB" report "$base" >"$tmp/stdout.txt"
cmp -s "$tmp/report.txt" "$tmp/stdout.txt" || fail "-o: file differs from stdout"
run "$LEAKLAB" report "$base" --format=json --output="$tmp/report.json"
[[ $status -eq 0 ]] || fail "--output=: exit $status"
cp "$tmp/report.json" "$tmp/out"
check_json "--output json" 'assert d["peak_bytes"] == 10364'

# ---- diff ------------------------------------------------------------------------------------

expect_ok "diff --at current" \
"[ Top 3 line differences at current of snapshot_maker grown: peak=10.1 KiB, end=1224 B, 8 allocations totalling 11.3 KiB ]
new.c:3: size=1000 B (+1000 B), count=1 (+1), average=1000 B
app.c:12: size=224 B (+100 B), count=4 (+1), average=56 B
util.c:7: size=0 B (-100 B), count=0 (-2)" \
  "$LEAKLAB" diff "$base" "$grown" --at current

expect_ok "diff at the peak (default): nothing changed" \
"[ Top 2 line differences at peak of snapshot_maker grown: peak=10.1 KiB, end=1224 B, 8 allocations totalling 11.3 KiB ]
app.c:20: size=10.0 KiB (+0 B), count=1 (+0), average=10.0 KiB
app.c:12: size=124 B (+0 B), count=3 (+0), average=41 B" \
  "$LEAKLAB" diff "$base" "$grown"

expect_ok "diff --top 1 --group-by filename" \
"[ Top 1 of 3 file differences at current of snapshot_maker grown: peak=10.1 KiB, end=1224 B, 8 allocations totalling 11.3 KiB ]
new.c:0: size=1000 B (+1000 B), count=1 (+1), average=1000 B
...and 2 more" \
  "$LEAKLAB" diff "$base" "$grown" --at current --group-by filename --top 1

run "$LEAKLAB" diff "$base" "$grown" --at current --format json
[[ $status -eq 0 ]] || fail "diff json: exit $status"
check_json "diff json" '
assert d["at"] == "current" and d["end_bytes"] == 1224
got = [(s["file"], s["line"], s["size"], s["size_diff"], s["count"], s["count_diff"]) for s in d["sites"]]
assert got == [("new.c", 3, 1000, 1000, 1, 1), ("app.c", 12, 224, 100, 4, 1), ("util.c", 7, 0, -100, 0, -2)], got
'

# ---- help and version ------------------------------------------------------------------------

run "$LEAKLAB" --version
[[ $status -eq 0 && "$(cat "$tmp/out")" == "leaklab 0.1.0" ]] || fail "--version: exit $status, '$(cat "$tmp/out")'"
for h in --help -h; do
  run "$LEAKLAB" "$h"
  [[ $status -eq 0 && ! -s $tmp/err ]] || fail "$h: exit $status"
  grep -q '^usage: leaklab VERB' "$tmp/out" || fail "$h: no usage line"
  for verb in report diff; do grep -q "^  $verb " "$tmp/out" || fail "$h: verb $verb not listed"; done
done
for verb in report diff; do
  for h in --help -h; do
    run "$LEAKLAB" "$verb" "$h"
    [[ $status -eq 0 && ! -s $tmp/err ]] || fail "$verb $h: exit $status"
    grep -q "^usage: leaklab $verb " "$tmp/out" || fail "$verb $h: no usage line"
    grep -q -- '--group-by' "$tmp/out" || fail "$verb $h: options not described"
  done
done

finish "cli_report: all checks passed"
