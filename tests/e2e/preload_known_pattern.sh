#!/usr/bin/env bash
# preload_known_pattern.sh - leaklab run on a known pattern: exact peak, lines, leaks, temporaries; = massif's peak; jemalloc; exec chains; errors.
set -euo pipefail
: "${LEAKLAB:?}" "${LL_PROGRAMS:?}" "${LL_SOURCE_DIR:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SRC=$LL_SOURCE_DIR/tests/programs/known_pattern.c
PROG=$LL_PROGRAMS/known_pattern
line() { grep -n "/\* @$1 \*/" "$SRC" | head -1 | cut -d: -f1; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# JSON site sizes as "line size count" rows, for the program's own file.
sites() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("peak", d["peak_bytes"], "end", d["end_bytes"])
for s in d["sites"]:
    if s["file"].endswith("known_pattern.c"):
        print(s["line"], s["size"], s["count"])' "$1"
}

# ---- run: output and status are the program's; the summary goes to stderr ----------------------
"$LEAKLAB" run -o "$T/kp.llcap" -- "$PROG" >"$T/out" 2>"$T/err" || fail "run exited $?"
[ "$(cat "$T/out")" = "known_pattern done" ] || fail "stdout changed: $(cat "$T/out")"
grep -q "peak=107 KiB" "$T/err" || fail "summary lacks the peak: $(cat "$T/err")"
grep -q "known_pattern.c:$(line big): size=97.7 KiB, count=1" "$T/err" || fail "summary lacks @big"

# ---- --no-report: the totals and the capture, nothing symbolised; the same capture -------------
"$LEAKLAB" run --no-report -o "$T/nr.llcap" -- "$PROG" >"$T/nr.out" 2>"$T/nr.err" || fail "--no-report run"
[ "$(cat "$T/nr.out")" = "known_pattern done" ] || fail "--no-report: stdout changed"
grep -qx "leaklab: $PROG: peak=107 KiB, end=6349 B, [0-9]* allocations totalling [0-9.]* KiB" "$T/nr.err" ||
  fail "--no-report totals: $(cat "$T/nr.err")"
grep -q "known_pattern.c:" "$T/nr.err" && fail "--no-report printed lines"
grep -q "^leaklab: capture written to $T/nr.llcap" "$T/nr.err" || fail "--no-report: no capture line"
"$LEAKLAB" report "$T/nr.llcap" >/dev/null || fail "--no-report capture unreadable"

# ---- exact peak and per-line sizes at the peak ---------------------------------------------------
"$LEAKLAB" report "$T/kp.llcap" --at peak --format json >"$T/peak.json"
sites "$T/peak.json" >"$T/peak.txt"
cat >"$T/want" <<W
peak 109120 end 6349
$(line big) 100000 1
$(line loop) 5120 10
$(line realloc) 3000 1
$(line calloc) 1000 1
W
diff "$T/want" "$T/peak.txt" || fail "peak view differs"

# ---- leaks (end set with own-code frames, minus stdio buffers) and temporaries ------------------
"$LEAKLAB" report "$T/kp.llcap" --at leaks --format json >"$T/leaks.json"
sites "$T/leaks.json" | tail -n +2 | sort >"$T/leaks.txt"
printf '%s\n' "$(line realloc) 3000 1" "$(line loop) 2560 5" "$(line helper) 777 1" "$(line strdup) 12 1" | sort >"$T/want"
diff "$T/want" "$T/leaks.txt" || fail "leaks differ"
"$LEAKLAB" report "$T/kp.llcap" --at temporary --format json >"$T/tmp.json"
sites "$T/tmp.json" | tail -n +2 | sort >"$T/tmp.txt"
printf '%s\n' "$(line big) 100000 1" "$(line temp) 64000 1000" | sort >"$T/want"
diff "$T/want" "$T/tmp.txt" || fail "temporaries differ"
# The traceback of @helper goes through main (a real native stack, symbolised with libdw).
"$LEAKLAB" report "$T/kp.llcap" --at leaks --group-by traceback >"$T/tb.txt"
grep -q "known_pattern.c:$(line helper) (helper)" "$T/tb.txt" || fail "no helper frame: $(cat "$T/tb.txt")"

# ---- the preload's own sections: memory over time keeps the exact peak; the histogram counts all
python3 - "$T/kp.llcap" <<'PY' || fail "timeline / histogram sections"
import struct, sys
b = open(sys.argv[1], "rb").read()
off, secs = 24, {}
while off < len(b) - 16:
    typ, flags, ln = struct.unpack_from("<IIQ", b, off)
    secs.setdefault(typ, b[off + 16: off + 16 + ln])
    off += 16 + ln + (-ln % 8)
tl = secs[0x101]
interval, n = struct.unpack_from("<QI", tl, 0)
pts = [struct.unpack_from("<QQQ", tl, 16 + 24 * i) for i in range(n)]
assert n >= 1 and max(p[2] for p in pts) == 109120, pts
assert pts[-1][1] == 6349, pts[-1]            # the last point is the end
h = secs[0x102]
nb = struct.unpack_from("<I", h, 0)[0]
counts = struct.unpack_from("<%dQ" % nb, h, 8)
sizes = struct.unpack_from("<%dQ" % nb, h, 8 + 8 * nb)
assert sum(counts) == 1016 and sum(sizes) == 174909, (sum(counts), sum(sizes))
# bucket i: sizes in [2^(i-1), 2^i): @temp's 64 B in 7; 1000, 1000, 10 x 512 and 777 in 10
assert counts[7] == 1000 and counts[10] == 13 and counts[4] == 1 and counts[17] == 1, counts
PY

# ---- the same peak as valgrind massif's useful heap ---------------------------------------------
if command -v valgrind >/dev/null; then
  valgrind --tool=massif --peak-inaccuracy=0 --heap-admin=0 --threshold=0 \
    --massif-out-file="$T/massif.out" "$PROG" >/dev/null 2>&1
  massif_peak=$(grep -B4 "heap_tree=peak" "$T/massif.out" | sed -n 's/^mem_heap_B=//p')
  [ "$massif_peak" = 109120 ] || fail "massif peak $massif_peak, leaklab 109120"
else
  echo "note: valgrind not installed, massif comparison not run"
fi

# ---- jemalloc: its size classes show as usable sizes ---------------------------------------------
# `--allocator jemalloc`, and jemalloc preloaded by the user (not in a sanitize build: there the
# leaklab binary itself carries ASan, which refuses a preloaded allocator).
JE=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1 || true)
[ -n "$JE" ] || fail "libjemalloc.so.2 not found (make deps installs libjemalloc2)"
check_jemalloc() {
  "$LEAKLAB" report "$1" --format json >"$T/je.json"
  python3 - "$T/je.json" <<'PY' || fail "jemalloc usable sizes ($1)"
import json, sys
d = json.load(open(sys.argv[1]))
usable = {s["size"]: s["usable"] for s in d["sites"]}
assert d["peak_bytes"] == 109120, d["peak_bytes"]
# jemalloc 5 classes: 1000 -> 1024, 3000 -> 3072, 100000 -> 114688 (glibc: 1000, 3000, 100008)
assert usable[1000] == 1024 and usable[3000] == 3072 and usable[100000] == 114688, usable
PY
}
"$LEAKLAB" run --allocator jemalloc -o "$T/je1.llcap" -- "$PROG" >/dev/null 2>&1 || fail "run --allocator jemalloc"
check_jemalloc "$T/je1.llcap"
if [ "${LL_SANITIZE:-0}" != 1 ]; then
  LD_PRELOAD=$JE "$LEAKLAB" run -o "$T/je2.llcap" -- "$PROG" >/dev/null 2>&1 || fail "jemalloc run"
  check_jemalloc "$T/je2.llcap"
fi
set +e
"$LEAKLAB" run --allocator tcmalloc -- "$PROG" >/dev/null 2>"$T/err"
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "allocator takes glibc or jemalloc, not 'tcmalloc'" "$T/err" || fail "bad --allocator: $rc $(cat "$T/err")"

# ---- an exec chain: a wrapper script that execs the program -------------------------------------
printf '#!/bin/sh\nexec "%s" "$@"\n' "$PROG" >"$T/wrapper.sh"
chmod +x "$T/wrapper.sh"
"$LEAKLAB" run -o "$T/wrap.llcap" -- "$T/wrapper.sh" >"$T/out" 2>"$T/err" || fail "wrapper run"
[ "$(cat "$T/out")" = "known_pattern done" ] || fail "wrapper stdout"
grep -q "process chain" "$T/err" || fail "no process chain: $(cat "$T/err")"
grep -q "wrapper.sh.*before its exec" "$T/err" || fail "wrapper stage missing"
"$LEAKLAB" report "$T/wrap.llcap" --format json >"$T/wrap.json"
[ "$(sites "$T/wrap.json" | sed -n 1p)" = "peak 109120 end 6349" ] || fail "chain capture is not the program's"

# ---- errors: truncated capture, static program, missing program ---------------------------------
head -c 200 "$T/kp.llcap" >"$T/trunc.llcap"
set +e
"$LEAKLAB" report "$T/trunc.llcap" >/dev/null 2>"$T/err"; rc=$?
set -e
[ $rc = 3 ] || fail "truncated capture: exit $rc"
grep -q "trunc.llcap: file is truncated" "$T/err" || fail "truncated message: $(cat "$T/err")"

if [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/libc.a ]; then
  printf '#include <stdlib.h>\nint main(void){return malloc(10)==0;}\n' >"$T/static.c"
  gcc -static -o "$T/static" "$T/static.c"
  set +e
  timeout 60 "$LEAKLAB" run -o "$T/static.llcap" -- "$T/static" >/dev/null 2>"$T/err"; rc=$?
  set -e
  [ $rc = 3 ] || fail "static program: exit $rc"
  grep -q "statically linked" "$T/err" || fail "static message: $(cat "$T/err")"
  [ ! -e "$T/static.llcap" ] || fail "a capture exists for a static program"
  # The same through a wrapper that execs it: detected after the run (no capture appeared).
  printf '#!/bin/sh\nexec "%s"\n' "$T/static" >"$T/wrap_static.sh"
  chmod +x "$T/wrap_static.sh"
  set +e
  timeout 60 "$LEAKLAB" run -o "$T/ws.llcap" -- "$T/wrap_static.sh" >/dev/null 2>"$T/err"; rc=$?
  set -e
  [ $rc = 3 ] || fail "wrapped static program: exit $rc"
  grep -q "statically linked" "$T/err" || fail "wrapped static message: $(cat "$T/err")"
fi

set +e
"$LEAKLAB" run -- /nonexistent/program >/dev/null 2>"$T/err"; rc=$?
set -e
[ $rc = 3 ] || fail "missing program: exit $rc"
grep -q "/nonexistent/program: program not found" "$T/err" || fail "missing message"
echo "preload_known_pattern: ok"
