#!/usr/bin/env bash
# report_pprof.sh - `leaklab report --format pprof` read by Go's own pprof: totals, lines, tracebacks and -diff_base equal leaklab's to the byte.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
need go "make deps installs Debian's golang-go"
# pprof keeps its settings and downloads under HOME; nothing here may touch the real one.
export HOME=$tmp PPROF_TMPDIR=$tmp
pprof() { go tool pprof "$@" 2>"$tmp/pprof.err" || die "go tool pprof $*: $(cat "$tmp/pprof.err")"; }

for p in known_pattern inlined_alloc massif_pattern; do
  "$LEAKLAB" run -o "$tmp/$p.llcap" -- "$LL_PROGRAMS/$p" >/dev/null 2>"$tmp/err" ||
    die "run $p: $(cat "$tmp/err")"
done

# compare WHAT A B: two "key value" listings (sorted here) must be equal.
compare() {
  sort "$2" >"$2.s"
  sort "$3" >"$3.s"
  diff "$2.s" "$3.s" >"$tmp/diff" || fail "$1 differ (leaklab <, pprof >): $(cat "$tmp/diff")"
}

# leaklab's JSON as "file:line value" per site (FIELD: size, count or size_diff), with the
# total on a line "TOTAL value"; zero values left out (pprof lists no zero lines).
from_json() {
  python3 - "$1" "$2" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
field = sys.argv[2]
total = 0
for s in d["sites"]:
    total += s[field]
    if s[field] != 0:
        # pprof shows file names cleaned ("./string/strdup.c" as "string/strdup.c")
        print("%s:%d %d" % (os.path.normpath(s["file"]), s["line"], s[field]))
print("TOTAL %d" % total)
PY
}

# pprof -top -lines as "file:line value" (own bytes) and "TOTAL value" (no node dropped).
from_top() {
  python3 - "$1" <<'PY'
import re, sys
total = None
for line in open(sys.argv[1]):
    # "Showing nodes accounting for X, 100% of Y total": X is the sum (Y is the base's with
    # -diff_base), and no node is dropped here
    m = re.search(r"accounting for (-?\d+)B?, ", line)
    if m:
        total = int(m.group(1))
        continue
    f = line.split()
    if f and f[-1] == "(inline)":  # a function inlined at that line
        f.pop()
    if len(f) >= 7 and re.fullmatch(r"-?\d+B?", f[0]) and f[1].endswith("%"):
        if int(f[0].rstrip("B")) != 0:  # callers listed for their cumulative bytes only
            print("%s %d" % (f[-1], int(f[0].rstrip("B"))))
print("TOTAL %d" % (total if total is not None else 0))
PY
}

top() { # top PROFILE INDEX [more pprof options]: the listing of -top -lines
  local prof=$1 index=$2
  shift 2
  pprof -top -lines -unit=B -nodefraction=0 -edgefraction=0 -nodecount=1000000 \
    -sample_index="$index" "$@" "$prof" >"$tmp/top.txt"
  from_top "$tmp/top.txt"
}

# Per traceback: "size;function;function..." from leaklab's traceback JSON and pprof -traces.
traces_json() {
  python3 - "$1" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["sites"]:
    if s["size"]:
        print(";".join([str(s["size"])] + [f["function"] for f in s["frames"]]))
PY
}
traces_pprof() {
  python3 - "$1" <<'PY'
import re, sys
cur = None
out = []
for line in open(sys.argv[1]):
    if line.startswith("-----------+"):
        if cur: out.append(cur)
        cur = []
        continue
    if cur is None: continue
    m = re.match(r"\s*(\d+)B?\s+(.*)$", line)
    if m and not cur:
        cur = [m.group(1), m.group(2)]
    elif line.strip():
        cur.append(line.strip())
for t in out:
    if t and t[0] != "0":  # a traceback with allocations only, none of them in use
        print(";".join(re.sub(r" \(inline\)$", "", x) for x in t))
PY
}

checked=0
# Every moment once; library frames (--native) and inlined frames on the peak.
for case in known_pattern:peak:--no-native known_pattern:end:--no-native \
  known_pattern:leaks:--no-native known_pattern:temporary:--no-native \
  known_pattern:end:--native inlined_alloc:peak:--no-native inlined_alloc:peak:--native; do
  IFS=: read -r p at native <<<"$case"
  cap=$tmp/$p.llcap
  prof=$tmp/$p.$at$native.pb.gz
  "$LEAKLAB" report "$cap" --at "$at" $native --format pprof -o "$prof" ||
    fail "$case: report --format pprof failed"
  "$LEAKLAB" report "$cap" --at "$at" $native --format json >"$tmp/l.json"
  from_json "$tmp/l.json" size >"$tmp/want"
  top "$prof" inuse_space >"$tmp/got"
  compare "$case: inuse_space per line" "$tmp/want" "$tmp/got"
  from_json "$tmp/l.json" count >"$tmp/want"
  top "$prof" inuse_objects >"$tmp/got"
  compare "$case: inuse_objects per line" "$tmp/want" "$tmp/got"

  "$LEAKLAB" report "$cap" --at "$at" $native --group-by traceback --format json >"$tmp/tb.json"
  traces_json "$tmp/tb.json" >"$tmp/want"
  pprof -traces -unit=B -sample_index=inuse_space "$prof" >"$tmp/traces.txt"
  traces_pprof "$tmp/traces.txt" >"$tmp/got"
  compare "$case: tracebacks" "$tmp/want" "$tmp/got"
  checked=$((checked + 1))
done

# Every allocation of the run: Go's alloc_objects and alloc_space, whatever the moment.
for case in known_pattern:peak:--no-native known_pattern:end:--native; do
  IFS=: read -r p at native <<<"$case"
  prof=$tmp/$p.$at$native.pb.gz
  "$LEAKLAB" report "$tmp/$p.llcap" --at allocations $native --format json >"$tmp/l.json"
  from_json "$tmp/l.json" size >"$tmp/want"
  top "$prof" alloc_space >"$tmp/got"
  compare "$case: alloc_space per line" "$tmp/want" "$tmp/got"
  from_json "$tmp/l.json" count >"$tmp/want"
  top "$prof" alloc_objects >"$tmp/got"
  compare "$case: alloc_objects per line" "$tmp/want" "$tmp/got"
done
pprof -raw "$tmp/known_pattern.peak--no-native.pb.gz" >"$tmp/raw.txt"
grep -qx "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes\[dflt\]" \
  "$tmp/raw.txt" || fail "sample types are not Go's heap profile's: $(grep -m1 count "$tmp/raw.txt")"

# The peak's figures, written out, so that a wrong comparison cannot pass by being empty.
top "$tmp/known_pattern.peak--no-native.pb.gz" inuse_space >"$tmp/got"
grep -qx "TOTAL 109120" "$tmp/got" || fail "known_pattern's peak is not 109120 B in pprof: $(cat "$tmp/got")"
[[ $(wc -l <"$tmp/got") -eq 5 ]] || fail "known_pattern's peak: want 4 lines: $(cat "$tmp/got")"

# Inlined functions are lines of one location; the mapping carries the program's build id.
pprof -raw "$tmp/inlined_alloc.peak--no-native.pb.gz" >"$tmp/raw.txt"
grep -A1 -E '^ +[0-9]+: 0x[0-9a-f]+ M=[0-9]+ inner_alloc ' "$tmp/raw.txt" >"$tmp/inl.txt" || true
grep -q ' middle_alloc ' "$tmp/inl.txt" ||
  fail "inlined frames are not lines of one location: $(cat "$tmp/raw.txt")"
if command -v readelf >/dev/null; then
  id=$(readelf -n "$LL_PROGRAMS/inlined_alloc" | sed -n 's/.*Build ID: //p')
  [[ -n $id ]] && { grep -q "inlined_alloc $id \[FN\]\[FL\]\[LN\]\[IN\]" "$tmp/raw.txt" ||
    fail "no mapping with build id $id: $(sed -n '/^Mappings/,$p' "$tmp/raw.txt")"; }
fi

# ---- -diff_base gives what leaklab diff gives -----------------------------------------------------
"$LEAKLAB" report "$tmp/massif_pattern.llcap" --format pprof -o "$tmp/new.pb.gz"
old=$tmp/known_pattern.peak--no-native.pb.gz
"$LEAKLAB" diff "$tmp/known_pattern.llcap" "$tmp/massif_pattern.llcap" --format json >"$tmp/d.json"
from_json "$tmp/d.json" size_diff >"$tmp/want"
top "$tmp/new.pb.gz" inuse_space -diff_base "$old" >"$tmp/got"
compare "diff known_pattern -> massif_pattern" "$tmp/want" "$tmp/got"
grep -q -- "-100000$" "$tmp/got" || fail "the diff lost known_pattern's 100000 B block: $(cat "$tmp/got")"

# ---- what pprof cannot be asked for -----------------------------------------------------------
set +e
"$LEAKLAB" diff "$tmp/known_pattern.llcap" "$tmp/massif_pattern.llcap" --format pprof >/dev/null 2>"$tmp/err"
st=$?
set -e
[[ $st -eq 2 ]] && grep -q -- "-diff_base" "$tmp/err" || fail "diff --format pprof: exit $st: $(cat "$tmp/err")"
finish "report_pprof: ok ($checked moments compared)"
