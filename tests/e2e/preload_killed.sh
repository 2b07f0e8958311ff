#!/usr/bin/env bash
# preload_killed.sh - a program killed by a signal it does not catch (SIGKILL as the OOM killer sends, SIGPIPE, SIGINT ...) still leaves a capture under the helper (written by it, marked so), and run/check exit 128+N whatever the recorder.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

P=$LL_PROGRAMS/killed
SRC=killed.c

# end_sites CAPTURE: "line size count " of killed.c's two kept lines live at the end.
end_sites() {
  sites "$1" end $SRC | grep -e "^$(line $SRC killed_a) " -e "^$(line $SRC killed_t) " | tr '\n' ' '
}
WANT="$(line $SRC killed_t) 6000 3 $(line $SRC killed_a) 3000 3 "

# ---- every signal that kills without our handler, under the helper: a capture, and 128+N -------
for sig in KILL PIPE INT HUP QUIT ALRM USR1 XCPU TERM:handler; do
  name=${sig%%:*} mode=${sig#*:}
  [ "$mode" = "$sig" ] && mode=""
  num=$(kill -l "$name")
  rm -f "$tmp/k.llcap"
  set +e
  (ulimit -c 0; "$LEAKLAB" run --recorder async -o "$tmp/k.llcap" -- "$P" "$num" $mode >"$tmp/k.out" 2>"$tmp/k.err")
  rc=$?
  set -e
  [ $rc = $((128 + num)) ] || fail "SIG$name: exit $rc, want $((128 + num)): $(cat "$tmp/k.err")"
  grep -q "killed by SIG$name; leaklab's helper process wrote the capture" "$tmp/k.err" ||
    fail "SIG$name: not said: $(cat "$tmp/k.err")"
  [ -f "$tmp/k.llcap" ] && [ "$(end_sites "$tmp/k.llcap")" = "$WANT" ] ||
    fail "SIG$name: end $(end_sites "$tmp/k.llcap" 2>&1)"
  # The signal is in the capture (the helper read it from the program's zombie).
  "$LEAKLAB" report "$tmp/k.llcap" --format html -o "$tmp/k.html" 2>/dev/null
  grep -q "\"how\":\"signal\",\"signal\":$num," "$tmp/k.html" ||
    fail "SIG$name: the capture's end: $(grep -o '"how":[^,]*,"signal":[^,]*' "$tmp/k.html")"
done
# The capture says who wrote it, and that its allocations are all there.
"$LEAKLAB" report "$tmp/k.llcap" --at allocations --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [s for s in d["sites"] if s["file"].endswith("killed.c") and s["line"] == int(sys.argv[1])]
assert s and s[0]["count"] == 200 and s[0]["size"] == 12800, s' "$(line $SRC killed_churn)" ||
  fail "SIGTERM: allocations lost"

# ---- `check` too ------------------------------------------------------------------------------
set +e
"$LEAKLAB" check --limit-memory 1GB -- "$P" 9 >"$tmp/c.out" 2>"$tmp/c.err"; rc=$?
set -e
[ $rc = 137 ] || fail "check, SIGKILL: exit $rc, want 137: $(cat "$tmp/c.err")"
grep -q "killed by SIGKILL: the program failed" "$tmp/c.err" || fail "check, SIGKILL: $(cat "$tmp/c.err")"

# ---- the synchronous recorder has no survivor to write it: said, and still 128+N ----------------
set +e
"$LEAKLAB" run --recorder sync -o "$tmp/s.llcap" -- "$P" 9 >/dev/null 2>"$tmp/s.err"; rc=$?
set -e
[ $rc = 137 ] || fail "sync, SIGKILL: exit $rc, want 137"
grep -q "killed by SIGKILL before it could write its capture; nothing was recorded" "$tmp/s.err" ||
  fail "sync, SIGKILL: $(cat "$tmp/s.err")"

# ---- SIGPIPE as a pipeline gives it: `leaklab run -- seq ... | head -1` --------------------------
for rec in async sync; do
  set +e
  "$LEAKLAB" run --recorder $rec -o "$tmp/p.llcap" -- seq 1 10000000 2>"$tmp/p.err" | head -1 >"$tmp/p.out"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" = 141 ] || fail "seq | head, $rec: exit $rc, want 141: $(cat "$tmp/p.err")"
  [ "$(cat "$tmp/p.out")" = 1 ] || fail "seq | head, $rec: output $(cat "$tmp/p.out")"
done
[ -f "$tmp/p.llcap" ] && fail "sync: a capture appeared from nowhere"

finish "killed programs: captured by the helper, exit 128+N"
