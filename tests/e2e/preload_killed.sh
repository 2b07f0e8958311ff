#!/usr/bin/env bash
# preload_killed.sh - a program killed by a signal it does not catch (SIGKILL as the OOM killer sends, SIGPIPE, SIGINT ...) still leaves a capture under either recorder (written by the async helper or the sync watcher, marked so; partial when killed inside the tracker), and run/check exit 128+N.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

P=$LL_PROGRAMS/killed
SRC=killed.c

# end_sites CAPTURE: "line size count " of killed.c's two kept lines live at the end.
end_sites() {
  sites "$1" end $SRC | grep -e "^$(line $SRC killed_a) " -e "^$(line $SRC killed_t) " | tr '\n' ' '
}
WANT="$(line $SRC killed_t) 6000 3 $(line $SRC killed_a) 3000 3 "

# ---- every signal that kills without our handler: a capture, and 128+N -------------------------
# Under async the helper applying the events writes it; under sync the watcher that shares the
# tracker does.
for rec in async sync; do
for sig in KILL PIPE INT HUP QUIT ALRM USR1 XCPU TERM:handler; do
  name=${sig%%:*} mode=${sig#*:}
  [ "$mode" = "$sig" ] && mode=""
  num=$(kill -l "$name")
  rm -f "$tmp/k.llcap"
  set +e
  (ulimit -c 0; "$LEAKLAB" run --recorder $rec -o "$tmp/k.llcap" -- "$P" "$num" $mode >"$tmp/k.out" 2>"$tmp/k.err")
  rc=$?
  set -e
  [ $rc = $((128 + num)) ] || fail "$rec, SIG$name: exit $rc, want $((128 + num)): $(cat "$tmp/k.err")"
  grep -q "killed by SIG$name; leaklab's helper process wrote the capture" "$tmp/k.err" ||
    fail "$rec, SIG$name: not said: $(cat "$tmp/k.err")"
  [ -f "$tmp/k.llcap" ] && [ "$(end_sites "$tmp/k.llcap")" = "$WANT" ] ||
    fail "$rec, SIG$name: end $(end_sites "$tmp/k.llcap" 2>&1)"
  # The signal is in the capture (the helper read it from the program's zombie).
  "$LEAKLAB" report "$tmp/k.llcap" --format html -o "$tmp/k.html" 2>/dev/null
  grep -q "\"how\":\"signal\",\"signal\":$num," "$tmp/k.html" ||
    fail "$rec, SIG$name: the capture's end: $(grep -o '"how":[^,]*,"signal":[^,]*' "$tmp/k.html")"
done
done
# The capture says who wrote it, and that its allocations are all there.
"$LEAKLAB" report "$tmp/k.llcap" --at allocations --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [s for s in d["sites"] if s["file"].endswith("killed.c") and s["line"] == int(sys.argv[1])]
assert s and s[0]["count"] == 200 and s[0]["size"] == 12800, s' "$(line $SRC killed_churn)" ||
  fail "sync, SIGTERM: allocations lost"

# ---- `check` too ------------------------------------------------------------------------------
set +e
"$LEAKLAB" check --limit-memory 1GB -- "$P" 9 >"$tmp/c.out" 2>"$tmp/c.err"; rc=$?
set -e
[ $rc = 137 ] || fail "check, SIGKILL: exit $rc, want 137: $(cat "$tmp/c.err")"
grep -q "killed by SIGKILL: the program failed" "$tmp/c.err" || fail "check, SIGKILL: $(cat "$tmp/c.err")"

# ---- killed anywhere, inside leaklab's tracker too (sync: the program's threads change it) ------
# The watcher writes the capture either way: whole (the kept blocks exact, at most the loop's one
# 64-byte block besides) or, when a thread was changing the tracker at the kill, partial and said
# so; never a wrong figure, and always 137.
whole=0 partial=0
for i in 1 2 3 4 5 6; do
  rm -f "$tmp/b.llcap"
  set +e
  "$LEAKLAB" run --recorder sync -o "$tmp/b.llcap" -- "$P" 9 busy >/dev/null 2>"$tmp/b.err"; rc=$?
  set -e
  [ $rc = 137 ] || fail "sync, SIGKILL while busy: exit $rc, want 137: $(cat "$tmp/b.err")"
  [ -f "$tmp/b.llcap" ] || { fail "sync, SIGKILL while busy: no capture: $(cat "$tmp/b.err")"; continue; }
  if grep -q "partial capture: the program was killed while leaklab's tracker was recording" "$tmp/b.err"; then
    partial=$((partial + 1))
    continue
  fi
  whole=$((whole + 1))
  got=$(end_sites "$tmp/b.llcap")
  loop=$(sites "$tmp/b.llcap" end $SRC | grep "^$(line $SRC killed_loop) " || true)
  [ "$got" = "$WANT" ] && { [ -z "$loop" ] || [ "$loop" = "$(line $SRC killed_loop) 64 1" ]; } ||
    fail "sync, SIGKILL while busy: end '$got' '$loop', want '$WANT' and at most one 64 B block"
done
echo "sync, SIGKILL while busy: $whole whole, $partial partial (killed inside the tracker)"

# ---- SIGPIPE as a pipeline gives it: `leaklab run -- seq ... | head -1` --------------------------
for rec in async sync; do
  set +e
  "$LEAKLAB" run --recorder $rec -o "$tmp/p.llcap" -- seq 1 10000000 2>"$tmp/p.err" | head -1 >"$tmp/p.out"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" = 141 ] || fail "seq | head, $rec: exit $rc, want 141: $(cat "$tmp/p.err")"
  [ "$(cat "$tmp/p.out")" = 1 ] || fail "seq | head, $rec: output $(cat "$tmp/p.out")"
  [ -f "$tmp/p.llcap" ] || fail "seq | head, $rec: no capture: $(cat "$tmp/p.err")"
  rm -f "$tmp/p.llcap"
done

finish "killed programs: captured by the helper or the watcher, exit 128+N"
