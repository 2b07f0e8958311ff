#!/usr/bin/env bash
# preload_processes.sh - leaklab run with threads, children (fork, vfork, posix_spawn, system), --follow-fork and abnormal ends.
set -euo pipefail
: "${LEAKLAB:?}" "${LL_PROGRAMS:?}" "${LL_SOURCE_DIR:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
line() { grep -n "/\* @$2 \*/" "$LL_SOURCE_DIR/tests/programs/$1" | head -1 | cut -d: -f1; }
# "line size count" for the sites of one source file at one moment, sorted.
sites() {
  "$LEAKLAB" report "$1" --at "$2" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d["sites"]:
    if s["file"].endswith(sys.argv[1]):
        print(s["line"], s["size"], s["count"])' "$3" | sort
}
total() {
  "$LEAKLAB" report "$1" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["total_allocations"], d["total_bytes"])'
}

# ---- 8 threads, cross-thread frees: no crash, totals exact, end balanced ------------------------
P=$LL_PROGRAMS/threads_churn
"$LEAKLAB" run -o "$T/th0.llcap" -- "$P" 0 >/dev/null 2>&1 || fail "threads 0"
"$LEAKLAB" run -o "$T/th.llcap" -- "$P" 200000 >"$T/out" 2>/dev/null || fail "threads run"
[ "$(cat "$T/out")" = "$("$P" 200000)" ] || fail "threads stdout differs"
read -r n0 b0 < <(total "$T/th0.llcap")
read -r n1 b1 < <(total "$T/th.llcap")
read -r _ want_n _ want_b _ <"$T/out"
[ $((n1 - n0)) = "$want_n" ] || fail "allocations: $((n1 - n0)) recorded, $want_n made"
[ $((b1 - b0)) = "$want_b" ] || fail "bytes: $((b1 - b0)) recorded, $want_b made"
# Every churn block was freed: the end holds exactly the kept blocks, as with no churn at all.
[ "$(sites "$T/th.llcap" end threads_churn.c)" = "$(sites "$T/th0.llcap" end threads_churn.c)" ] ||
  fail "end set depends on the churn"
sites "$T/th.llcap" end threads_churn.c | grep -x "$(line threads_churn.c keep) 32112 32" >/dev/null ||
  fail "kept blocks wrong: $(sites "$T/th.llcap" end threads_churn.c)"

# ---- children run untraced and unharmed; the parent's capture holds only the parent -------------
P=$LL_PROGRAMS/fork_exec
"$P" >"$T/plain.out"
"$LEAKLAB" run -o "$T/fe.llcap" -- "$P" >"$T/traced.out" 2>"$T/err" || fail "fork_exec run"
diff "$T/plain.out" "$T/traced.out" || fail "children behave differently under leaklab run"
grep -q "says preloaded" "$T/traced.out" && fail "a child saw the preload"
ls "$T"/fe.llcap.* >/dev/null 2>&1 && fail "child captures without --follow-fork"
[ "$(sites "$T/fe.llcap" end fork_exec.c | grep "^$(line fork_exec.c parent_keep) ")" = \
  "$(line fork_exec.c parent_keep) 2048 1" ] || fail "parent block missing"
sites "$T/fe.llcap" end fork_exec.c |
  grep -qE "^($(line fork_exec.c child_block)|$(line fork_exec.c fork_child_block)) " &&
  fail "a child's block is in the parent's capture"

# ---- --follow-fork: each child its own readable capture -----------------------------------------
"$LEAKLAB" run --follow-fork -o "$T/ff.llcap" -- "$P" >"$T/ff.out" 2>"$T/err" || fail "follow run"
n=$(ls "$T"/ff.llcap.* | wc -l)
# fork+exec, fork only, vfork+exec, posix_spawn, system's shell and the program it runs
[ "$n" = 6 ] || fail "$n child captures, want 6: $(ls "$T")"
found=0
for f in "$T"/ff.llcap.*; do
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
  "$LEAKLAB" run -o "$T/gmp.llcap" -- "$P" >"$T/out" 2>/dev/null || fail "gmp run"
  [ "$(cat "$T/out")" = "201! has 378 digits" ] || fail "gmp output"
  sites "$T/gmp.llcap" end gmp_dlopen.c | grep "^$(line gmp_dlopen.c gmp_mul) " >/dev/null ||
    fail "GMP's limbs not attributed to the user's line"
  "$LEAKLAB" run --native -o "$T/gmpn.llcap" -- "$P" >/dev/null 2>&1 || fail "gmp --native run"
  "$LEAKLAB" report "$T/gmpn.llcap" --group-by traceback --top 1 >"$T/tb"
  grep -q "libgmp.so.10:0 (__gmpz_mul_ui)" "$T/tb" || fail "no GMP frame with --native: $(cat "$T/tb")"
  grep -q "gmp_dlopen.c:$(line gmp_dlopen.c gmp_mul) (main)" "$T/tb" || fail "no user frame under GMP's"
fi

# ---- abnormal ends: the capture holds everything up to them -------------------------------------
P=$LL_PROGRAMS/crash
for how in abort:134 segv:139 _exit:7 term:143 exit:5; do
  mode=${how%%:*} want=${how##*:}
  set +e
  "$LEAKLAB" run -o "$T/c_$mode.llcap" -- "$P" "$mode" >/dev/null 2>"$T/err"; rc=$?
  set -e
  [ $rc = "$want" ] || fail "$mode: exit $rc, want $want"
  got=$(sites "$T/c_$mode.llcap" end crash.c | tr '\n' ' ')
  [ "$got" = "$(line crash.c crash_a) 4000 1 $(line crash.c crash_b) 300 3 " ] || fail "$mode: end $got"
done
grep -q "killed by SIGTERM" "$T/err" && fail "exit mode reported a signal"
echo "preload_processes: ok"
