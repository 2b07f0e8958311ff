#!/usr/bin/env bash
# reach_memcheck.sh - the exit scan's leak kinds per line (json, --at lost, --at reachable) equal valgrind memcheck's on a program with globals, lost trees, cycles, interior pointers, TLS, a register and a live thread, with both recorders.
set -euo pipefail
: "${LEAKLAB:?}" "${LL_PROGRAMS:?}" "${LL_SOURCE_DIR:?}"
command -v valgrind >/dev/null || { echo "FAIL: valgrind is not installed" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
P=$LL_PROGRAMS/reach_kinds

# memcheck's loss records of reach_kinds.c's own lines: "line kind direct_bytes blocks" (a
# definitely lost record's leakedbytes include its indirect bytes: the text gives the direct).
memcheck_kinds() {
  python3 - "$1" <<'EOF'
import re, sys, xml.etree.ElementTree as ET
kinds = {"Leak_DefinitelyLost": "definitely_lost", "Leak_IndirectlyLost": "indirectly_lost",
         "Leak_PossiblyLost": "possibly_lost", "Leak_StillReachable": "still_reachable"}
out = {}
for e in ET.parse(sys.argv[1]).getroot().iter("error"):
    k = kinds.get(e.find("kind").text)
    if k is None:
        continue
    line = None
    for f in e.iter("frame"):
        fl = f.find("file")
        if fl is not None and fl.text == "reach_kinds.c":
            line = int(f.find("line").text)
            break
    if line is None:
        continue
    text = e.find("xwhat/text").text
    m = re.search(r"\(([\d,]+) direct, [\d,]+ indirect\)", text)
    b = int(m.group(1).replace(",", "")) if m else int(e.find("xwhat/leakedbytes").text)
    key = (line, k)
    blocks = int(e.find("xwhat/leakedblocks").text)
    old = out.get(key, (0, 0))
    out[key] = (old[0] + b, old[1] + blocks)
for (line, k), (b, n) in sorted(out.items()):
    print(line, k, b, n)
EOF
}

# leaklab's: the same rows from the lost and reachable views (definitely + indirectly lost
# together, still reachable).
leaklab_views() {
  for at in lost reachable; do
    "$LEAKLAB" report "$1" --at $at --top 0 --format json >"$T/$at.json" || fail "report --at $at"
  done
  python3 - "$T/lost.json" "$T/reachable.json" <<'EOF'
import json, sys
for path, kind in ((sys.argv[1], "lost"), (sys.argv[2], "still_reachable")):
    for s in json.load(open(path))["sites"]:
        if s["file"].endswith("reach_kinds.c"):
            print(s["line"], kind, s["size"], s["count"])
EOF
}

# leaklab's per-line kinds from the end report's json ("leak_kinds" of each site).
leaklab_kinds() {
  "$LEAKLAB" report "$1" --at end --top 0 --format json >"$T/end.json" || fail "report --at end"
  python3 - "$T/end.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d["leak_kinds"]) == {"definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable"}
for s in d["sites"]:
    if s["file"].endswith("reach_kinds.c"):
        for k, v in s["leak_kinds"].items():
            if v["blocks"]:
                print(s["line"], k, v["bytes"], v["blocks"])
EOF
}

# memcheck's rows folded the same way (definitely + indirectly lost as "lost").
fold() {
  python3 -c '
import sys
acc = {}
for l in sys.stdin:
    line, k, b, n = l.split()
    if k == "possibly_lost":
        continue
    k = "lost" if k in ("definitely_lost", "indirectly_lost") else k
    o = acc.get((int(line), k), (0, 0))
    acc[(int(line), k)] = (o[0] + int(b), o[1] + int(n))
for (line, k), (b, n) in sorted(acc.items()):
    print(line, k, b, n)
'
}

# pthread_create's own block (the new thread's TLS vector) is charged to the program's line
# that calls it; its size is the runtime's (smaller under valgrind): compare its kind only.
PC=$(grep -n "pthread_create(&th" "$LL_SOURCE_DIR/tests/programs/reach_kinds.c" | cut -d: -f1)
[ -n "$PC" ] || fail "reach_kinds.c has no pthread_create line"
runtime_sized() { awk -v pc="$PC" '$1 == pc { $3 = "-" } { print }'; }

for mode in plain thread; do
  arg=""
  [ $mode = thread ] && arg=thread
  valgrind --leak-check=full --show-leak-kinds=all --xml=yes --xml-file="$T/mc.xml" "$P" $arg \
    >/dev/null 2>"$T/vg.err" || fail "$mode: valgrind: $(tail -3 "$T/vg.err")"
  memcheck_kinds "$T/mc.xml" | runtime_sized | sort >"$T/mc.kinds"
  # Every kind is in the program, so a scan that misses one cannot pass by accident.
  for k in definitely_lost indirectly_lost possibly_lost still_reachable; do
    grep -q " $k " "$T/mc.kinds" || fail "$mode: memcheck found no $k (the program changed?)"
  done
  fold <"$T/mc.kinds" | sort >"$T/mc.rows"
  for rec in sync async; do
    "$LEAKLAB" run --recorder $rec -o "$T/$rec.llcap" -- "$P" $arg >"$T/out" 2>"$T/err" \
      || fail "$mode $rec: run: $(cat "$T/err")"
    leaklab_kinds "$T/$rec.llcap" | runtime_sized | sort >"$T/ll.kinds"
    diff "$T/mc.kinds" "$T/ll.kinds" >"$T/diff" ||
      fail "$mode $rec: leaklab's kinds per line differ from memcheck's (< memcheck, > leaklab):
$(cat "$T/diff")"
    leaklab_views "$T/$rec.llcap" | sort >"$T/ll.rows"
    diff "$T/mc.rows" "$T/ll.rows" >"$T/diff" ||
      fail "$mode $rec: leaklab's lost/still-reachable lines differ from memcheck's (< memcheck, > leaklab):
$(cat "$T/diff")"
  done
done
# `leaklab memcheck` itself: memcheck's summary (a definitely lost record's indirect bytes are
# not counted twice) and each loss record of the program beside leaklab's kind at that line.
"$LEAKLAB" memcheck -o "$T/verb" --top 0 -- "$P" >"$T/verb.out" 2>"$T/verb.err" ||
  fail "leaklab memcheck: $(tail -3 "$T/verb.err")"
grep -q "^  memcheck and leaklab agree on all four kinds$" "$T/verb.out" ||
  fail "leaklab memcheck: the kinds' totals: $(head -8 "$T/verb.out")"
n=$(grep -c "^reach_kinds.c:[0-9]*: size=.*| leaklab: size=" "$T/verb.out" || true)
[ "$n" -ge 10 ] || fail "leaklab memcheck: $n loss records with leaklab's figures: $(cat "$T/verb.out")"
grep "^reach_kinds.c:" "$T/verb.out" | grep -v "^reach_kinds.c:$PC:" | grep -q "differs\|leaklab: -" &&
  fail "leaklab memcheck: lines differ: $(grep "^reach_kinds.c:" "$T/verb.out")"
grep -q "(definitely lost, and [0-9]* B indirectly lost it points to)" "$T/verb.out" ||
  fail "leaklab memcheck: no record names its indirect bytes: $(cat "$T/verb.out")"

# --retainers: every line of the lost tree names its holder line, reachable ones their root.
"$LEAKLAB" report "$T/sync.llcap" --at end --retainers --top 0 >"$T/ret.txt" || fail "--retainers"
grep -q "reach_kinds.c:65 <- 1 block held by reach_kinds.c:63 <- held by reach_kinds.c:62$" "$T/ret.txt" ||
  fail "--retainers: the grandchild's chain: $(cat "$T/ret.txt")"
grep -q "reach_kinds.c:57 <- 1 block held by reach_kinds.c:56 <- held by global g_cycle (reach_kinds.c)$" "$T/ret.txt" ||
  fail "--retainers: the reachable cycle's chain: $(cat "$T/ret.txt")"
grep -q "reach_kinds.c:76 <- 1 block held by thread-local storage of thread 0$" "$T/ret.txt" ||
  fail "--retainers: the TLS root: $(cat "$T/ret.txt")"
grep -q "reach_kinds.c:41 <- 1 block held by stack of thread 1$" "$T/ret.txt" ||
  fail "--retainers: the live thread's stack: $(cat "$T/ret.txt")"
set +e
"$LEAKLAB" report "$T/sync.llcap" --at peak --retainers >/dev/null 2>"$T/err"; rc=$?
set -e
[ $rc = 2 ] || fail "--retainers --at peak: exit $rc, want 2"
echo "reach_memcheck: ok"
