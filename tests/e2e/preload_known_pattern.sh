#!/usr/bin/env bash
# preload_known_pattern.sh - leaklab run on a known pattern: exact peak, lines, leaks, temporaries, every allocation; = massif's peak; jemalloc; exec chains; errors.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

PROG=$LL_PROGRAMS/known_pattern

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
"$LEAKLAB" run -o "$tmp/kp.llcap" -- "$PROG" >"$tmp/out" 2>"$tmp/err" || die "run exited $?"
[ "$(cat "$tmp/out")" = "known_pattern done" ] || fail "stdout changed: $(cat "$tmp/out")"
grep -q "peak=107 KiB" "$tmp/err" || fail "summary lacks the peak: $(cat "$tmp/err")"
grep -q "known_pattern.c:$(line known_pattern.c big): size=97.7 KiB, count=1" "$tmp/err" || fail "summary lacks @big"

# ---- --no-report: the totals and the capture, nothing symbolised; the same capture -------------
"$LEAKLAB" run --no-report -o "$tmp/nr.llcap" -- "$PROG" >"$tmp/nr.out" 2>"$tmp/nr.err" || fail "--no-report run"
[ "$(cat "$tmp/nr.out")" = "known_pattern done" ] || fail "--no-report: stdout changed"
grep -qx "leaklab: $PROG: peak=107 KiB, end=6349 B, [0-9]* allocations totalling [0-9.]* KiB" "$tmp/nr.err" ||
  fail "--no-report totals: $(cat "$tmp/nr.err")"
grep -q "known_pattern.c:" "$tmp/nr.err" && fail "--no-report printed lines"
grep -q "^leaklab: capture written to $tmp/nr.llcap" "$tmp/nr.err" || fail "--no-report: no capture line"
"$LEAKLAB" report "$tmp/nr.llcap" >/dev/null || fail "--no-report capture unreadable"

# ---- exact peak and per-line sizes at the peak ---------------------------------------------------
"$LEAKLAB" report "$tmp/kp.llcap" --at peak --format json >"$tmp/peak.json"
sites "$tmp/peak.json" >"$tmp/peak.txt"
cat >"$tmp/want" <<W
peak 109120 end 6349
$(line known_pattern.c big) 100000 1
$(line known_pattern.c loop) 5120 10
$(line known_pattern.c realloc) 3000 1
$(line known_pattern.c calloc) 1000 1
W
diff "$tmp/want" "$tmp/peak.txt" || fail "peak view differs"

# ---- leaks (end set with own-code frames, minus stdio buffers) and temporaries ------------------
"$LEAKLAB" report "$tmp/kp.llcap" --at leaks --format json >"$tmp/leaks.json"
sites "$tmp/leaks.json" | tail -n +2 | sort >"$tmp/leaks.txt"
printf '%s\n' "$(line known_pattern.c realloc) 3000 1" "$(line known_pattern.c loop) 2560 5" "$(line known_pattern.c helper) 777 1" "$(line known_pattern.c strdup) 12 1" | sort >"$tmp/want"
diff "$tmp/want" "$tmp/leaks.txt" || fail "leaks differ"
"$LEAKLAB" report "$tmp/kp.llcap" --at temporary --format json >"$tmp/tmp.json"
sites "$tmp/tmp.json" | tail -n +2 | sort >"$tmp/tmp.txt"
printf '%s\n' "$(line known_pattern.c big) 100000 1" "$(line known_pattern.c temp) 64000 1000" | sort >"$tmp/want"
diff "$tmp/want" "$tmp/tmp.txt" || fail "temporaries differ"
# ---- every allocation per line, freed or not: a realloc is one allocation of its new size -------
"$LEAKLAB" report "$tmp/kp.llcap" --at allocations --format json >"$tmp/all.json"
sites "$tmp/all.json" | tail -n +2 | sort >"$tmp/all.txt"
printf '%s\n' "$(line known_pattern.c malloc) 1000 1" "$(line known_pattern.c calloc) 1000 1" \
  "$(line known_pattern.c loop) 5120 10" "$(line known_pattern.c realloc) 3000 1" \
  "$(line known_pattern.c big) 100000 1" "$(line known_pattern.c temp) 64000 1000" \
  "$(line known_pattern.c helper) 777 1" "$(line known_pattern.c strdup) 12 1" | sort >"$tmp/want"
diff "$tmp/want" "$tmp/all.txt" || fail "allocations differ"
# The traceback of @helper goes through main (a real native stack, symbolised with libdw).
"$LEAKLAB" report "$tmp/kp.llcap" --at leaks --group-by traceback >"$tmp/tb.txt"
grep -q "known_pattern.c:$(line known_pattern.c helper) (helper)" "$tmp/tb.txt" || fail "no helper frame: $(cat "$tmp/tb.txt")"

# ---- the preload's own sections: memory over time keeps the exact peak; the histogram counts all
python3 - "$tmp/kp.llcap" <<'PY' || fail "timeline / histogram sections"
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
    --massif-out-file="$tmp/massif.out" "$PROG" >/dev/null 2>&1
  massif_peak=$(grep -B4 "heap_tree=peak" "$tmp/massif.out" | sed -n 's/^mem_heap_B=//p')
  [ "$massif_peak" = 109120 ] || fail "massif peak $massif_peak, leaklab 109120"
else
  echo "note: valgrind not installed, massif comparison not run"
fi

# ---- jemalloc: its size classes show as usable sizes ---------------------------------------------
# `--allocator jemalloc`, and jemalloc preloaded by the user (not in a sanitize build: there the
# leaklab binary itself carries ASan, which refuses a preloaded allocator).
JE=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1 || true)
[ -n "$JE" ] || die "libjemalloc.so.2 not found (make deps installs libjemalloc2)"
check_jemalloc() {
  "$LEAKLAB" report "$1" --format json >"$tmp/je.json"
  python3 - "$tmp/je.json" <<'PY' || fail "jemalloc usable sizes ($1)"
import json, sys
d = json.load(open(sys.argv[1]))
usable = {s["size"]: s["usable"] for s in d["sites"]}
assert d["peak_bytes"] == 109120, d["peak_bytes"]
# jemalloc 5 classes: 1000 -> 1024, 3000 -> 3072, 100000 -> 114688 (glibc: 1000, 3000, 100008)
assert usable[1000] == 1024 and usable[3000] == 3072 and usable[100000] == 114688, usable
PY
}
"$LEAKLAB" run --allocator jemalloc -o "$tmp/je1.llcap" -- "$PROG" >/dev/null 2>&1 || fail "run --allocator jemalloc"
check_jemalloc "$tmp/je1.llcap"
if [ "${LL_SANITIZE:-0}" != 1 ]; then
  LD_PRELOAD=$JE "$LEAKLAB" run -o "$tmp/je2.llcap" -- "$PROG" >/dev/null 2>&1 || fail "jemalloc run"
  check_jemalloc "$tmp/je2.llcap"
fi
set +e
"$LEAKLAB" run --allocator tcmalloc -- "$PROG" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "allocator takes glibc or jemalloc, not 'tcmalloc'" "$tmp/err" || fail "bad --allocator: $rc $(cat "$tmp/err")"

# ---- an exec chain: a wrapper script that execs the program -------------------------------------
printf '#!/bin/sh\nexec "%s" "$@"\n' "$PROG" >"$tmp/wrapper.sh"
chmod +x "$tmp/wrapper.sh"
"$LEAKLAB" run -o "$tmp/wrap.llcap" -- "$tmp/wrapper.sh" >"$tmp/out" 2>"$tmp/err" || fail "wrapper run"
[ "$(cat "$tmp/out")" = "known_pattern done" ] || fail "wrapper stdout"
grep -q "process chain" "$tmp/err" || fail "no process chain: $(cat "$tmp/err")"
grep -q "wrapper.sh.*before its exec" "$tmp/err" || fail "wrapper stage missing"
"$LEAKLAB" report "$tmp/wrap.llcap" --format json >"$tmp/wrap.json"
[ "$(sites "$tmp/wrap.json" | sed -n 1p)" = "peak 109120 end 6349" ] || fail "chain capture is not the program's"

# ---- errors: truncated capture, static program, missing program ---------------------------------
head -c 200 "$tmp/kp.llcap" >"$tmp/trunc.llcap"
set +e
"$LEAKLAB" report "$tmp/trunc.llcap" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 3 ] || fail "truncated capture: exit $rc"
grep -q "trunc.llcap: file is truncated" "$tmp/err" || fail "truncated message: $(cat "$tmp/err")"

if [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/libc.a ]; then
  printf '#include <stdlib.h>\nint main(void){return malloc(10)==0;}\n' >"$tmp/static.c"
  gcc -static -o "$tmp/static" "$tmp/static.c"
  set +e
  timeout 60 "$LEAKLAB" run -o "$tmp/static.llcap" -- "$tmp/static" >/dev/null 2>"$tmp/err"; rc=$?
  set -e
  [ $rc = 3 ] || fail "static program: exit $rc"
  grep -q "statically linked" "$tmp/err" || fail "static message: $(cat "$tmp/err")"
  [ ! -e "$tmp/static.llcap" ] || fail "a capture exists for a static program"
  # The same through a wrapper that execs it: the shell's recording is written before the exec
  # (the preload cannot enter the static image), and run exits with the program's status.
  printf '#!/bin/sh\nexec "%s"\n' "$tmp/static" >"$tmp/wrap_static.sh"
  chmod +x "$tmp/wrap_static.sh"
  set +e
  timeout 60 "$LEAKLAB" run -o "$tmp/ws.llcap" -- "$tmp/wrap_static.sh" >/dev/null 2>"$tmp/err"; rc=$?
  set -e
  [ $rc = 0 ] || fail "wrapped static program: exit $rc, want its 0"
  grep -q "statically linked" "$tmp/err" || fail "wrapped static message: $(cat "$tmp/err")"
  [ -s "$tmp/ws.llcap" ] || fail "wrapped static program: no capture of the shell before the exec"
fi

set +e
"$LEAKLAB" run -- /nonexistent/program >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 3 ] || fail "missing program: exit $rc"
grep -q "/nonexistent/program: program not found" "$tmp/err" || fail "missing message"
finish "preload_known_pattern: ok"
