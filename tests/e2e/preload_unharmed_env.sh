#!/usr/bin/env bash
# preload_unharmed_env.sh - a recorded program sees none of leaklab's environment, even bash (which has its own setenv/unsetenv and copies environ before main).
# shellcheck disable=SC2016 # (whole file) the $VARIABLES in quotes are for the recorded bash
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
need bash

# The same clean environment for the recorded and the untraced run: what `export -p` prints must
# not depend on whether leaklab ran the shell.
clean=(env -i "PATH=$PATH" "HOME=$tmp" "LANG=C")

"${clean[@]}" bash -c 'export -p' >"$tmp/plain.out"
grep -q 'declare -x PATH=' "$tmp/plain.out" || die "untraced export -p printed no PATH: $(cat "$tmp/plain.out")"
for rec in sync async; do
  "${clean[@]}" "$LEAKLAB" run --no-report --recorder $rec -o "$tmp/$rec.llcap" -- bash -c 'export -p' \
    >"$tmp/$rec.out" 2>"$tmp/$rec.err" || fail "$rec: leaklab run bash: $(cat "$tmp/$rec.err")"
  diff "$tmp/plain.out" "$tmp/$rec.out" >"$tmp/diff" || fail "$rec: export -p differs when recorded: $(cat "$tmp/diff")"
  [[ -s $tmp/$rec.llcap ]] || fail "$rec: no capture written"

  out=$("${clean[@]}" "$LEAKLAB" run --no-report --recorder $rec -o "$tmp/$rec-2.llcap" -- \
    bash -c 'echo "[$LD_PRELOAD][${LEAKLAB_CAPTURE:-}]"' 2>"$tmp/err") || fail "$rec: leaklab run bash echo"
  [[ $out == "[][]" ]] || fail "$rec: bash sees leaklab's variables: $out"
done

# A preload of the user's own stays, without ours (set by the recorded env, which execs bash:
# leaklab itself may be an ASan build, which must not get it).
out=$("${clean[@]}" "$LEAKLAB" run --no-report -o "$tmp/keep.llcap" -- \
  env LD_PRELOAD=libc.so.6 bash -c 'echo "[$LD_PRELOAD]"' 2>"$tmp/err") ||
  fail "leaklab run with the user's LD_PRELOAD: $(cat "$tmp/err")"
[[ $out == "[libc.so.6]" ]] || fail "the user's LD_PRELOAD is not kept as it was: $out"

# What bash allocates does not depend on the capture's path (it used to copy LEAKLAB_CAPTURE).
long=$tmp/$(printf 'a%.0s' $(seq 1 200)).llcap
for c in "$tmp/s.llcap" "$long"; do
  "${clean[@]}" "$LEAKLAB" run --no-report --recorder sync -o "$c" -- bash -c 'true' 2>/dev/null ||
    fail "leaklab run -o $c"
done
short_peak=$(leaklab_peak "$tmp/s.llcap")
long_peak=$(leaklab_peak "$long")
[[ -n $short_peak && $short_peak == "$long_peak" ]] ||
  fail "bash's peak depends on the -o path's length: $short_peak vs $long_peak"

finish "preload_unharmed_env: a recorded bash sees the environment an untraced one does"
