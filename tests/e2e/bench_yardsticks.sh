#!/usr/bin/env bash
# bench_yardsticks.sh - the bench's floor recorders and engine probe are exact and harmless: every libllfloor mode leaves churn's output unchanged, the exact ones report churn's own peak, engine_rate's peak matches its stream.
set -euo pipefail

: "${LL_BUILD_DIR:?LL_BUILD_DIR must name the build directory}"

B=$LL_BUILD_DIR/bench
LIB=$B/libllfloor.so
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

for f in "$B/churn" "$B/engine_rate" "$LIB"; do
  [ -e "$f" ] || { echo "FAIL: $f is not built" >&2; exit 1; }
done

# The program's own line, untracked: the truth for output and peak.
"$B/churn" --pairs 200000 --slots 512 >"$T/plain.out"
truth=$(sed -n 's/.*peak_bytes=\([0-9]*\).*/\1/p' "$T/plain.out")
[ -n "$truth" ] || fail "churn printed no peak"

for mode in interpose emit emit16 exact exact16 async async16; do
  set +e
  LL_FLOOR=$mode LD_PRELOAD=$LIB "$B/churn" --pairs 200000 --slots 512 >"$T/$mode.out" 2>"$T/$mode.err"
  rc=$?
  set -e
  [ "$rc" = 0 ] || fail "$mode: churn exited $rc"
  cmp -s "$T/plain.out" "$T/$mode.out" || fail "$mode: churn's output changed"
  case $mode in
  exact* | async*)
    got=$(sed -n 's/^llfloor: peak_bytes=\([0-9]*\).*/\1/p' "$T/$mode.err")
    [ "$got" = "$truth" ] || fail "$mode: peak '$got', churn counted $truth" ;;
  *)
    [ ! -s "$T/$mode.err" ] || fail "$mode: wrote to stderr: $(head -c 200 "$T/$mode.err")" ;;
  esac
done

# Threads (one mutex around the ring or the table): runs and reports, output unchanged.
"$B/churn" --pairs 100000 --slots 512 --threads 4 >"$T/mt.out"
for mode in exact async; do
  LL_FLOOR=$mode LD_PRELOAD=$LIB "$B/churn" --pairs 100000 --slots 512 --threads 4 >"$T/mt.$mode.out" 2>"$T/mt.$mode.err" ||
    fail "$mode: threaded churn failed"
  cmp -s "$T/mt.out" "$T/mt.$mode.out" || fail "$mode: threaded churn's output changed"
  grep -q '^llfloor: peak_bytes=[1-9]' "$T/mt.$mode.err" || fail "$mode: no peak for threaded churn"
done

# A wrong mode is named, exit 2, and the program never runs.
set +e
LL_FLOOR=fast LD_PRELOAD=$LIB "$B/churn" --pairs 10 >"$T/bad.out" 2>"$T/bad.err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "LL_FLOOR=fast: exit $rc, expected 2"
grep -q 'LL_FLOOR must be' "$T/bad.err" || fail "LL_FLOOR=fast: no message naming LL_FLOOR"
[ ! -s "$T/bad.out" ] || fail "LL_FLOOR=fast: the program ran"

# engine_rate checks the engine's peak against its stream itself (exit 1 on a mismatch).
"$B/engine_rate" --pairs 100000 --slots 256 >"$T/er.out" || fail "engine_rate exited $?"
[ "$(grep -c '^engine_rate: frames=\(1\|16\) events=[0-9]* ns_per_event=[0-9.]* peak_bytes=[1-9]' "$T/er.out")" = 2 ] ||
  fail "engine_rate printed: $(cat "$T/er.out")"
set +e
"$B/engine_rate" --pairs 0 2>"$T/er.err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q -- '--pairs needs a positive number' "$T/er.err" || fail "engine_rate --pairs 0: exit $rc"

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "bench yardsticks: 7 floor modes exact and harmless on churn (peak $truth B), engine_rate consistent"
