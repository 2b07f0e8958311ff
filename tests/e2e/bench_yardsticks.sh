#!/usr/bin/env bash
# bench_yardsticks.sh - the bench's floor recorders and engine probe are exact and harmless: every libllfloor mode leaves churn's output unchanged, the exact ones report churn's own peak, engine_rate's peak matches its stream.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

B=$LL_BUILD_DIR/bench
LIB=$B/libllfloor.so

for f in "$B/churn" "$B/engine_rate" "$LIB"; do
  [ -e "$f" ] || die "$f is not built"
done

# The program's own line, untracked: the truth for output and peak.
"$B/churn" --pairs 200000 --slots 512 >"$tmp/plain.out"
truth=$(sed -n 's/.*peak_bytes=\([0-9]*\).*/\1/p' "$tmp/plain.out")
[ -n "$truth" ] || fail "churn printed no peak"

for mode in interpose emit emit_seq emit16 exact exact16 async async16; do
  set +e
  LL_FLOOR=$mode LD_PRELOAD=$LIB "$B/churn" --pairs 200000 --slots 512 >"$tmp/$mode.out" 2>"$tmp/$mode.err"
  rc=$?
  set -e
  [ "$rc" = 0 ] || fail "$mode: churn exited $rc"
  cmp -s "$tmp/plain.out" "$tmp/$mode.out" || fail "$mode: churn's output changed"
  case $mode in
  exact* | async*)
    got=$(sed -n 's/^llfloor: peak_bytes=\([0-9]*\).*/\1/p' "$tmp/$mode.err")
    [ "$got" = "$truth" ] || fail "$mode: peak '$got', churn counted $truth" ;;
  *)
    [ ! -s "$tmp/$mode.err" ] || fail "$mode: wrote to stderr: $(head -c 200 "$tmp/$mode.err")" ;;
  esac
done

# Threads (one mutex around the ring or the table; emit_seq's shared counter): runs and reports,
# output unchanged.
"$B/churn" --pairs 100000 --slots 512 --threads 4 >"$tmp/mt.out"
for mode in exact async emit_seq; do
  LL_FLOOR=$mode LD_PRELOAD=$LIB "$B/churn" --pairs 100000 --slots 512 --threads 4 >"$tmp/mt.$mode.out" 2>"$tmp/mt.$mode.err" ||
    fail "$mode: threaded churn failed"
  cmp -s "$tmp/mt.out" "$tmp/mt.$mode.out" || fail "$mode: threaded churn's output changed"
  case $mode in
  emit_seq) [ ! -s "$tmp/mt.$mode.err" ] || fail "$mode: wrote to stderr" ;;
  *) grep -q '^llfloor: peak_bytes=[1-9]' "$tmp/mt.$mode.err" || fail "$mode: no peak for threaded churn" ;;
  esac
done

# A wrong mode is named, exit 2, and the program never runs.
set +e
LL_FLOOR=fast LD_PRELOAD=$LIB "$B/churn" --pairs 10 >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "LL_FLOOR=fast: exit $rc, expected 2"
grep -q 'LL_FLOOR must be' "$tmp/bad.err" || fail "LL_FLOOR=fast: no message naming LL_FLOOR"
[ ! -s "$tmp/bad.out" ] || fail "LL_FLOOR=fast: the program ran"

# engine_rate checks the engine's peak against its stream itself (exit 1 on a mismatch).
"$B/engine_rate" --pairs 100000 --slots 256 >"$tmp/er.out" || fail "engine_rate exited $?"
[ "$(grep -c '^engine_rate: frames=\(1\|16\) events=[0-9]* ns_per_event=[0-9.]* peak_bytes=[1-9]' "$tmp/er.out")" = 2 ] ||
  fail "engine_rate printed: $(cat "$tmp/er.out")"
set +e
"$B/engine_rate" --pairs 0 2>"$tmp/er.err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q -- '--pairs needs a positive number' "$tmp/er.err" || fail "engine_rate --pairs 0: exit $rc"

finish "bench yardsticks: 7 floor modes exact and harmless on churn (peak $truth B), engine_rate consistent"
