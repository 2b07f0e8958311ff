#!/usr/bin/env bash
# cli_build_hints.sh - `leaklab run` says once, with the fix, when the program was built without -g or without frame pointers, and says nothing for a program built right.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

need cc
src=$LL_SOURCE_DIR/tests/programs/massif_pattern.c
no_g="has no line information (built without -g), so its lines read FILE:0 (FILE+0xOFFSET): rebuild it with -g"
no_fp="stop at the allocating function (built without frame pointers?): rebuild it with -fno-omit-frame-pointer, or record with --unwind libunwind"

# hints NAME WANT_G WANT_FP ARGS...: run records ARGS; each hint is said exactly WANT times.
hints() {
  local name=$1 want_g=$2 want_fp=$3
  shift 3
  run "$LEAKLAB" run -o "$tmp/$name.llcap" "$@"
  [[ $status -eq 0 ]] || { fail "$name: exit $status: $(tail -3 "$tmp/err")"; return; }
  [[ $(grep -cF -- "$no_g" "$tmp/err") -eq $want_g ]] || fail "$name: want $want_g '-g' line(s): $(cat "$tmp/err")"
  [[ $(grep -cF -- "$no_fp" "$tmp/err") -eq $want_fp ]] || fail "$name: want $want_fp frame-pointer line(s): $(cat "$tmp/err")"
}

cc -O0 -fno-omit-frame-pointer -o "$tmp/no_g" "$src" || die "cannot compile $src"
cc -O2 -g -fomit-frame-pointer -fno-inline -o "$tmp/no_fp" "$src" || die "cannot compile $src"
hints no_g 1 0 -- "$tmp/no_g"
hints no_fp 0 1 -- "$tmp/no_fp"
hints no_fp_libunwind 0 0 --unwind libunwind -- "$tmp/no_fp"
hints no_fp_one_frame 0 0 --frames 1 -- "$tmp/no_fp"
hints built_right 0 0 -- "$LL_PROGRAMS/massif_pattern"
# With libunwind the walk gets past the allocating function without frame pointers.
run "$LEAKLAB" report "$tmp/no_fp_libunwind.llcap" --group-by traceback
grep -q "(main)" "$tmp/out" || fail "--unwind libunwind: no stack reaches main: $(cat "$tmp/out")"

finish "cli_build_hints: all passed"
