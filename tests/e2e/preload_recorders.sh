#!/usr/bin/env bash
# preload_recorders.sh - --recorder async gives sync's figures exactly; its helper (and sync's watcher) is invisible to the program; a dead helper is reported, never hidden.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

P=$LL_PROGRAMS/recorder_probe
NOT_ASYNC="recording in the program's threads"

# ---- the option ---------------------------------------------------------------------------------
set +e
"$LEAKLAB" run --recorder fast -- "$P" mix 1 >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 2 ] || fail "--recorder fast: exit $rc, want 2"
grep -q "^leaklab: --recorder takes auto, async or sync, not 'fast'" "$tmp/err" || fail "bad value: $(cat "$tmp/err")"

# ---- the same figures, moment by moment, grouping by grouping, at several depths ----------------
for frames in 1 16 64; do
  for rec in sync async; do
    "$LEAKLAB" run --recorder $rec --frames $frames -o "$tmp/$rec.llcap" -- "$P" mix 3000 \
      >"$tmp/$rec.out" 2>"$tmp/$rec.err" || fail "$rec run (frames $frames)"
  done
  grep -q "$NOT_ASYNC" "$tmp/async.err" && fail "frames $frames: async was not used: $(cat "$tmp/async.err")"
  cmp -s "$tmp/sync.out" "$tmp/async.out" || fail "frames $frames: the program's output differs"
  for at in peak end leaks temporary; do
    for by in lineno traceback; do
      for rec in sync async; do
        "$LEAKLAB" report "$tmp/$rec.llcap" --at $at --group-by $by --top 0 --format json >"$tmp/$rec.json"
      done
      cmp -s "$tmp/sync.json" "$tmp/async.json" ||
        fail "frames $frames, $at by $by: async differs from sync: $(diff <(python3 -m json.tool "$tmp/sync.json") \
          <(python3 -m json.tool "$tmp/async.json") | head -20)"
    done
  done
done
# The counts are the program's own (so "the same" is not "the same and both wrong").
"$LEAKLAB" report "$tmp/async.llcap" --at end --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sites = {s["line"]: s["count"] for s in d["sites"] if s["file"].endswith("recorder_probe.c")}
src = open(sys.argv[1]).read().splitlines()
at = lambda tag: [i + 1 for i, l in enumerate(src) if "/* @%s */" % tag in l][0]
kept = sum(1 for r in range(3000) if r % 7 == 0)
# Every 7th round keeps its shrunk block (attributed to the last realloc) and its strdup.
assert sites.get(at("mix_shrink")) == kept and sites.get(at("mix_strdup")) == kept, (sites, kept)
' "$LL_SOURCE_DIR/tests/programs/recorder_probe.c" || fail "kept blocks miscounted"

# ---- threads: every thread queues to the helper, the figures stay exact (e2e_preload_threads: more) ----
for rec in sync async; do
  "$LEAKLAB" run --recorder $rec -o "$tmp/th_$rec.llcap" -- "$LL_PROGRAMS/threads_churn" 100000 \
    >/dev/null 2>&1 || fail "threads $rec"
  "$LEAKLAB" report "$tmp/th_$rec.llcap" --at end --format json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["total_allocations"], d["end_bytes"])' \
      >"$tmp/th_$rec.txt"
done
cmp -s "$tmp/th_sync.txt" "$tmp/th_async.txt" ||
  fail "threads: async $(cat "$tmp/th_async.txt") vs sync $(cat "$tmp/th_sync.txt")"

# ---- the program sees no child: wait() says ECHILD ----------------------------------------------
for rec in async sync; do
  out=$("$LEAKLAB" run --recorder $rec -o "$tmp/w.llcap" -- "$P" wait 2>/dev/null) || fail "wait run"
  [ "$out" = "wait: ECHILD" ] || fail "under $rec the program has a child: $out"
done

# ---- the helper: not the program's child, its own session, no file descriptor, gone at the end --
helper_of() { # the leaklab-helper forked from the process $1 (same command line)
  local h
  for h in $(pgrep -x leaklab-helper || true); do
    if cmp -s "/proc/$h/cmdline" "/proc/$1/cmdline" 2>/dev/null; then echo "$h"; return; fi
  done
}
# hold_probe RECORDER NAME: `leaklab run` of `recorder_probe pause` in the background ($run),
# output in $tmp/NAME.out and .err, its pid in $prog once it has printed it. The probe waits for
# the end of its stdin, a FIFO this shell holds open on fd 7 until release_probe: the test takes
# as long as it needs to look, and no longer. Nothing long-lived may start while fd 7 is open.
hold_probe() {
  rm -f "$tmp/hold"
  mkfifo "$tmp/hold"
  "$LEAKLAB" run --recorder "$1" -o "$tmp/$2.llcap" -- "$P" pause <"$tmp/hold" >"$tmp/$2.out" 2>"$tmp/$2.err" &
  run=$!
  exec 7>"$tmp/hold"
  for _ in $(seq 1000); do grep -q "^pid" "$tmp/$2.out" 2>/dev/null && break; sleep 0.02; done
  prog=$(sed -n 's/^pid //p' "$tmp/$2.out")
}
release_probe() { exec 7>&-; }

# Under sync the helper is the watcher (it writes the capture if the program is killed): the
# same holds for it; its one descriptor is its own pidfd of the program.
for rec in async sync; do
hold_probe $rec h
[ -n "$prog" ] || die "the probe did not start"
h=$(helper_of "$prog")
[ -n "$h" ] || die "$rec: no leaklab-helper for the program"
[ "$(ps -o ppid= -p "$h" | tr -d ' ')" != "$prog" ] || fail "$rec: the helper is the program's child"
[ "$(ps -o sid= -p "$h" | tr -d ' ')" != "$(ps -o sid= -p "$prog" | tr -d ' ')" ] ||
  fail "$rec: the helper shares the program's session (terminal signals would reach it)"
# (It opens the program's /proc/PID/stat for a moment now and then, to see it is alive: its own.)
held=$(for fd in "/proc/$h/fd"/*; do
  t=$(readlink "$fd" 2>/dev/null) || continue
  [ "$t" = "/proc/$prog/stat" ] || { [ $rec = sync ] && [ "$t" = "anon_inode:[pidfd]" ]; } || echo "$t"
done)
[ -z "$held" ] || fail "$rec: the helper holds file descriptors: $held"
release_probe
wait $run || fail "$rec: pause run"
[ "$(cat "$tmp/h.out")" = "$(printf 'pid %s\ndone' "$prog")" ] || fail "$rec: pause output: $(cat "$tmp/h.out")"
# Gone, or a zombie waiting for init to reap it (a double-forked process's end).
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]'; }
for _ in $(seq 100); do alive "$h" || break; sleep 0.02; done
alive "$h" && fail "$rec: the helper outlived the program"
"$LEAKLAB" report "$tmp/h.llcap" --at end --format json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["end_bytes"] >= 80000, d["end_bytes"]' ||
  fail "$rec: pause capture lacks the program's blocks"
done

# ---- a helper killed mid-run: the program goes on unharmed, leaklab says what happened ----------
hold_probe async k
h=$(helper_of "$prog")
[ -n "$h" ] || die "no helper to kill"
kill -KILL "$h"
release_probe
set +e
wait $run; rc=$?
set -e
[ $rc = 0 ] || fail "the program's status changed when the helper died: $rc"
[ "$(cat "$tmp/k.out")" = "$(printf 'pid %s\ndone' "$prog")" ] || fail "output changed: $(cat "$tmp/k.out")"
grep -q "^leaklab: the recording helper process died" "$tmp/k.err" || fail "no word of the dead helper: $(cat "$tmp/k.err")"
grep -q "partial capture: the recording helper process died" "$tmp/k.err" || fail "capture not marked: $(cat "$tmp/k.err")"

# ---- a crash with a helper running: the capture is whole (the helper drains first) --------------
for how in segv:139 abort:134; do
  mode=${how%%:*} want=${how##*:}
  set +e
  "$LEAKLAB" run --recorder async -o "$tmp/c.llcap" -- "$LL_PROGRAMS/crash" "$mode" >/dev/null 2>"$tmp/c.err"; rc=$?
  set -e
  [ $rc = "$want" ] || fail "crash $mode: exit $rc, want $want"
  grep -q "partial" "$tmp/c.err" && fail "crash $mode: partial capture: $(cat "$tmp/c.err")"
  got=$(sites "$tmp/c.llcap" end crash.c | tr '\n' ' ')
  [ "$got" = "$(line crash.c crash_a) 4000 1 $(line crash.c crash_b) 300 3 " ] || fail "crash $mode: end $got"
done

# ---- async does not combine with --follow-fork: said once, recorded in-thread -------------------
"$LEAKLAB" run --recorder async --follow-fork -o "$tmp/ff.llcap" -- "$P" mix 10 >/dev/null 2>"$tmp/ff.err" ||
  fail "follow-fork run"
grep -q "does not combine with --follow-fork" "$tmp/ff.err" || fail "no word on --follow-fork: $(cat "$tmp/ff.err")"
finish "preload_recorders: ok"
