#!/usr/bin/env bash
# preload_signal_handlers.sh - allocations a signal handler makes while the interrupted code is inside leaklab's recording are recorded exactly (#13 item 3), with either recorder and unwinder.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

P=$LL_PROGRAMS/signal_alloc
SRC=$LL_SOURCE_DIR/tests/programs/signal_alloc.c
N=3000

# A SIGALRM every 50 us while the main loop mallocs and frees as fast as it can: most signals
# land inside the hooks' recording. The handler keeps N blocks of 2000 bytes (a malloc grown by
# realloc) and makes one temporary of 1200 bytes each time.
for unwind in auto fp; do
  for rec in sync async; do
    name="--recorder $rec --unwind $unwind"
    "$LEAKLAB" run --no-report --recorder $rec --unwind $unwind -o "$tmp/c.llcap" -- "$P" $N \
      >"$tmp/out" 2>"$tmp/err" || { fail "$name: exit $?: $(cat "$tmp/err")"; continue; }
    grep -q "^kept $N blocks" "$tmp/out" || fail "$name: the program printed: $(cat "$tmp/out")"
    for at in end leaks temporary; do
      "$LEAKLAB" report "$tmp/c.llcap" --at $at --top 0 --format json >"$tmp/$at.json" ||
        fail "$name: report --at $at"
    done
    python3 - "$SRC" "$tmp" "$N" "$name" <<'PY' || fail "$name: the handler's blocks are not all there"
import json, sys
src, tmp, n, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
lines = open(src).read().splitlines()
at = lambda tag: [i + 1 for i, l in enumerate(lines) if "/* @%s */" % tag in l][0]
ok = True
def check(what, got, want):
    global ok
    if got != want:
        print("%s: %s is %s, want %s" % (name, what, got, want), file=sys.stderr)
        ok = False
def sites(moment):
    d = json.load(open("%s/%s.json" % (tmp, moment)))
    return d, {s["line"]: (s["size"], s["count"]) for s in d["sites"] if s["file"].endswith("signal_alloc.c")}
d, end = sites("end")
check("end_bytes", d["end_bytes"], n * 2000)
check("untracked allocations", d["untracked_allocations"], 0)
check("end at the realloc line", end.get(at("realloc")), (n * 2000, n))
_, leaks = sites("leaks")
check("leaks at the realloc line", leaks.get(at("realloc")), (n * 2000, n))
_, tmpo = sites("temporary")
check("temporaries at the handler's line", tmpo.get(at("temporary")), (n * 1200, n))
sys.exit(0 if ok else 1)
PY
  done
done

finish "preload_signal_handlers: every block a SIGALRM handler made while the recording was interrupted is recorded, both recorders"
