#!/usr/bin/env bash
# preload_processes.sh - leaklab run with threads, children (fork, vfork, posix_spawn, system), --follow-fork and abnormal ends.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

total() {
  "$LEAKLAB" report "$1" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["total_allocations"], d["total_bytes"])'
}

# ---- 8 threads, cross-thread frees: no crash, totals exact, end balanced ------------------------
P=$LL_PROGRAMS/threads_churn
"$LEAKLAB" run -o "$tmp/th0.llcap" -- "$P" 0 >/dev/null 2>&1 || fail "threads 0"
"$LEAKLAB" run -o "$tmp/th.llcap" -- "$P" 200000 >"$tmp/out" 2>/dev/null || fail "threads run"
[ "$(cat "$tmp/out")" = "$("$P" 200000)" ] || fail "threads stdout differs"
read -r n0 b0 < <(total "$tmp/th0.llcap")
read -r n1 b1 < <(total "$tmp/th.llcap")
read -r _ want_n _ want_b _ <"$tmp/out"
[ $((n1 - n0)) = "$want_n" ] || fail "allocations: $((n1 - n0)) recorded, $want_n made"
[ $((b1 - b0)) = "$want_b" ] || fail "bytes: $((b1 - b0)) recorded, $want_b made"
# Every churn block was freed: the end holds exactly the kept blocks, as with no churn at all.
[ "$(sites "$tmp/th.llcap" end threads_churn.c)" = "$(sites "$tmp/th0.llcap" end threads_churn.c)" ] ||
  fail "end set depends on the churn"
sites "$tmp/th.llcap" end threads_churn.c | grep -x "$(line threads_churn.c keep) 32112 32" >/dev/null ||
  fail "kept blocks wrong: $(sites "$tmp/th.llcap" end threads_churn.c)"

# ---- children run untraced and unharmed; the parent's capture holds only the parent -------------
P=$LL_PROGRAMS/fork_exec
"$P" >"$tmp/plain.out"
"$LEAKLAB" run -o "$tmp/fe.llcap" -- "$P" >"$tmp/traced.out" 2>"$tmp/err" || fail "fork_exec run"
diff "$tmp/plain.out" "$tmp/traced.out" || fail "children behave differently under leaklab run"
grep -q "says preloaded" "$tmp/traced.out" && fail "a child saw the preload"
ls "$tmp"/fe.llcap.* >/dev/null 2>&1 && fail "child captures without --follow-fork"
[ "$(sites "$tmp/fe.llcap" end fork_exec.c | grep "^$(line fork_exec.c parent_keep) ")" = \
  "$(line fork_exec.c parent_keep) 2048 1" ] || fail "parent block missing"
sites "$tmp/fe.llcap" end fork_exec.c |
  grep -qE "^($(line fork_exec.c child_block)|$(line fork_exec.c fork_child_block)) " &&
  fail "a child's block is in the parent's capture"

# ---- --follow-fork: each child its own readable capture -----------------------------------------
"$LEAKLAB" run --follow-fork -o "$tmp/ff.llcap" -- "$P" >"$tmp/ff.out" 2>"$tmp/err" || fail "follow run"
n=$(ls "$tmp"/ff.llcap.* | wc -l)
# fork+exec, fork only, vfork+exec, posix_spawn, system's shell and the program it runs
[ "$n" = 6 ] || fail "$n child captures, want 6: $(ls "$tmp")"
found=0
for f in "$tmp"/ff.llcap.*; do
  "$LEAKLAB" report "$f" --format json >/dev/null || fail "unreadable child capture $f"
  if sites "$f" end fork_exec.c |
    grep -qE "^($(line fork_exec.c child_block)|$(line fork_exec.c fork_child_block)) 1048576 1$"; then
    found=$((found + 1))
  fi
done
[ $found = 5 ] || fail "$found child captures hold the child's 1 MiB block, want 5"

# ---- dlopen'd library frames: the user's line by default, GMP's functions with --native -------
if ls /usr/lib/*/libgmp.so.10 >/dev/null 2>&1; then
  P=$LL_PROGRAMS/gmp_dlopen
  "$LEAKLAB" run -o "$tmp/gmp.llcap" -- "$P" >"$tmp/out" 2>/dev/null || fail "gmp run"
  [ "$(cat "$tmp/out")" = "201! has 378 digits" ] || fail "gmp output"
  sites "$tmp/gmp.llcap" end gmp_dlopen.c | grep "^$(line gmp_dlopen.c gmp_mul) " >/dev/null ||
    fail "GMP's limbs not attributed to the user's line"
  "$LEAKLAB" run --native -o "$tmp/gmpn.llcap" -- "$P" >/dev/null 2>&1 || fail "gmp --native run"
  "$LEAKLAB" report "$tmp/gmpn.llcap" --group-by traceback --top 1 >"$tmp/tb"
  grep -q "libgmp.so.10:0 (__gmpz_mul_ui)" "$tmp/tb" || fail "no GMP frame with --native: $(cat "$tmp/tb")"
  grep -q "gmp_dlopen.c:$(line gmp_dlopen.c gmp_mul) (main)" "$tmp/tb" || fail "no user frame under GMP's"
fi

# ---- abnormal ends: the capture holds everything up to them -------------------------------------
P=$LL_PROGRAMS/crash
for how in abort:134 segv:139 _exit:7 term:143 exit:5; do
  mode=${how%%:*} want=${how##*:}
  set +e
  "$LEAKLAB" run -o "$tmp/c_$mode.llcap" -- "$P" "$mode" >/dev/null 2>"$tmp/err"; rc=$?
  set -e
  [ $rc = "$want" ] || fail "$mode: exit $rc, want $want"
  got=$(sites "$tmp/c_$mode.llcap" end crash.c | tr '\n' ' ')
  [ "$got" = "$(line crash.c crash_a) 4000 1 $(line crash.c crash_b) 300 3 " ] || fail "$mode: end $got"
done
grep -q "killed by SIGTERM" "$tmp/err" && fail "exit mode reported a signal"
finish "preload_processes: ok"
