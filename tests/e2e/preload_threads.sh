#!/usr/bin/env bash
# preload_threads.sh - threaded programs under the helper (--recorder async) give the synchronous recorder's figures: cross-thread frees and reallocs, the peak of the interleaving that happened, thread churn, fork, a thread still running at exit.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

P=$LL_PROGRAMS/threads_exact
NOT_ASYNC="recording in the program's threads"
SRC=threads_exact.c

# record REC NAME MODE [N] [--frames F]: a capture in $tmp/NAME.llcap, output in .out/.err.
record() {
  local rec=$1 name=$2
  shift 2
  "$LEAKLAB" run --no-report --recorder "$rec" -o "$tmp/$name.llcap" -- "$P" "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err" || fail "$name: exit $? ($(tail -1 "$tmp/$name.err"))"
  grep -q "$NOT_ASYNC" "$tmp/$name.err" && fail "$name: async was not used: $(cat "$tmp/$name.err")"
  return 0
}
# json CAPTURE ARGS...: the report as JSON on stdout.
json() {
  local cap=$1
  shift
  "$LEAKLAB" report "$cap" --top 0 --format json "$@"
}
# figures CAPTURE ARGS...: the report without what depends on the interleaving: the peak, the
# allocator's usable sizes (where a block lands), and what the exit scan finds (a stale pointer
# to a block of the same address holds it or not).
figures() {
  json "$@" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in ("peak_bytes", "leak_kinds", "exit_scan"):
    d.pop(k, None)
for s in d["sites"]:
    s.pop("usable", None)
    s.pop("leak_kinds", None)
    s.pop("held_by", None)
json.dump(d, sys.stdout, indent=1, sort_keys=True)'
}
# same A B WHAT ARGS...: the two captures' reports are byte-identical.
same() {
  local a=$1 b=$2 what=$3
  shift 3
  figures "$tmp/$a.llcap" "$@" >"$tmp/a.json"
  figures "$tmp/$b.llcap" "$@" >"$tmp/b.json"
  cmp -s "$tmp/a.json" "$tmp/b.json" || fail "$what ($*): $b differs from $a: $(diff "$tmp/a.json" "$tmp/b.json" | head -6)"
}
# site CAPTURE AT TAG: "size count" of the line tagged @TAG at moment AT.
site() {
  json "$tmp/$1.llcap" --at "$2" | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [s for s in d["sites"] if s["file"].endswith(sys.argv[1]) and s["line"] == int(sys.argv[2])]
print("%d %d" % (s[0]["size"], s[0]["count"]) if s else "none")' "$SRC" "$(line $SRC "$3")"
}
peak() { json "$tmp/$1.llcap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["peak_bytes"])'; }

# ---- cross-thread frees and reallocs, 8 threads, at 1 and 16 frames ----------------------------
N=20000
for frames in 1 16; do
  for rec in sync async; do record $rec "x$rec$frames" cross $N --frames $frames; done
  for at in end leaks; do
    for by in lineno traceback; do same "xsync$frames" "xasync$frames" "cross, frames $frames" --at $at --group-by $by; done
  done
  # (By traceback, which of finish_block's three callers ran depends on the queues' fill.)
  same "xsync$frames" "xasync$frames" "cross, frames $frames" --at allocations --group-by lineno
  # The program's own counts (so "the same" is not "the same and both wrong").
  for rec in sync async; do
    got=$(site "x$rec$frames" allocations cross_alloc)/$(site "x$rec$frames" allocations cross_realloc)/$(site "x$rec$frames" end keep)
    [ "$got" = "$((8 * (N / 200) * (16 * 200 + 199 * 200 / 2))) $((8 * N))/$((8 * N * 224)) $((8 * N))/$((2 * (8 * 500 + 28))) 16" ] ||
      fail "cross $rec frames $frames: allocations/reallocs/kept $got"
  done
  # The peak: every malloc and free of the locked phase runs under the program's lock, so both
  # recorders see them in the lock's order; over the same baseline (the blocks kept by then,
  # libc's own) each peak is the program's own count of that run.
  base_s=$(($(peak "xsync$frames") - $(sed -n 's/^locked_peak //p' "$tmp/xsync$frames.out")))
  base_a=$(($(peak "xasync$frames") - $(sed -n 's/^locked_peak //p' "$tmp/xasync$frames.out")))
  [ "$base_s" = "$base_a" ] && [ "$base_s" -gt 0 ] ||
    fail "frames $frames: the peak over the program's own is $base_a under async, $base_s under sync"
done

# ---- the helper serves every thread: still there while 4 threads run ---------------------------
rm -f "$tmp/hold"
mkfifo "$tmp/hold"
"$LEAKLAB" run --no-report --recorder async -o "$tmp/h.llcap" -- "$P" hold <"$tmp/hold" >"$tmp/h.out" 2>"$tmp/h.err" &
run=$!
exec 7>"$tmp/hold"
for _ in $(seq 1000); do grep -q "^pid" "$tmp/h.out" 2>/dev/null && break; sleep 0.02; done
prog=$(sed -n 's/^pid //p' "$tmp/h.out")
[ -n "$prog" ] || fail "hold: the program did not start"
helper=""
for h in $(pgrep -x leaklab-helper || true); do
  cmp -s "/proc/$h/cmdline" "/proc/$prog/cmdline" 2>/dev/null && helper=$h
done
[ -n "$helper" ] || fail "hold: no helper while the program has 5 threads (async stopped at pthread_create)"
exec 7>&-
wait $run || fail "hold run"
[ "$(site h end hold_alloc2)" = "none" ] && [ "$(site h allocations hold_alloc2)" = "160000 4000" ] ||
  fail "hold: second round $(site h allocations hold_alloc2)"

# ---- thread churn: 100 threads at once (more than the rings), then waves of 24 ------------------
W=12
for rec in sync async; do record $rec "c$rec" churn $W; done
for at in end leaks allocations; do same csync casync churn --at $at; done
[ "$(site casync leaks churn_keep)" = "$((300 * (100 + 24 * (W - 1)))) $((100 + 24 * (W - 1)))" ] ||
  fail "churn: kept $(site casync leaks churn_keep)"
[ "$(site casync allocations churn_alloc)" = "$(((100 + 24 * (W - 1)) * (50 * 32 + 49 * 50 / 2))) $((50 * (100 + 24 * (W - 1))))" ] ||
  fail "churn: allocations $(site casync allocations churn_alloc)"

# ---- fork while 4 threads allocate: children do not record, the parent's figures stay exact ----
for rec in sync async; do record $rec "f$rec" fork 5000; done
cmp -s "$tmp/fsync.out" "$tmp/fasync.out" || fail "fork: output differs"
for at in end leaks; do same fsync fasync fork --at $at; done
[ "$(site fasync allocations cross_realloc)" = "$((4 * 5000 * 224)) $((4 * 5000))" ] ||
  fail "fork: reallocs $(site fasync allocations cross_realloc)"
[ "$(site fasync leaks fork_keep)" = "4321 1" ] || fail "fork: kept $(site fasync leaks fork_keep)"

# ---- a thread still allocating at exit: the program ends as it would, the capture is whole -----
for rec in sync async; do
  start=$(date +%s%N)
  record $rec "r$rec" running
  ms=$((($(date +%s%N) - start) / 1000000))
  [ $ms -lt 5000 ] || fail "running $rec: took $ms ms"
  [ "$(cat "$tmp/r$rec.out")" = "running 1" ] || fail "running $rec: output $(cat "$tmp/r$rec.out")"
  [ "$(site "r$rec" leaks running_keep)" = "2100 3" ] || fail "running $rec: kept $(site "r$rec" leaks running_keep)"
  grep -q partial "$tmp/r$rec.err" && fail "running $rec: partial capture: $(cat "$tmp/r$rec.err")"
done

finish "threads: async gives sync's figures, fork and churn and exit included"
