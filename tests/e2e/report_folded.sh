#!/usr/bin/env bash
# report_folded.sh - `leaklab report --format folded` on real captures: weights add up to each moment's bytes and blocks, inlined and library frames, usage errors.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

for p in known_pattern inlined_alloc; do
  "$LEAKLAB" run -o "$tmp/$p.llcap" -- "$LL_PROGRAMS/$p" >/dev/null 2>"$tmp/err" ||
    die "run $p: $(cat "$tmp/err")"
done

# sum FILE: the weights of a folded file (the number after each line's last space).
sum() { awk '{ n = split($0, f, " "); s += f[n] } END { printf "%d\n", s }' "$1"; }
# json_sum FIELD: the total of a field over the sites of leaklab's JSON on stdin.
json_sum() { python3 -c "import json,sys; print(sum(s['$1'] for s in json.load(sys.stdin)['sites']))"; }

# ---- every moment: the weights are the moment's bytes (and blocks) ------------------------------
for at in peak end leaks temporary; do
  for native in --no-native --native; do
    cap=$tmp/known_pattern.llcap
    "$LEAKLAB" report "$cap" --at "$at" $native --format folded >"$tmp/f" || fail "--at $at: exit $?"
    "$LEAKLAB" report "$cap" --at "$at" $native --format folded --weight count >"$tmp/c"
    "$LEAKLAB" report "$cap" --at "$at" $native --format json >"$tmp/j"
    bytes=$(json_sum size <"$tmp/j")
    blocks=$(json_sum count <"$tmp/j")
    [[ $(sum "$tmp/f") == "$bytes" ]] || fail "--at $at $native: folded bytes $(sum "$tmp/f"), json $bytes"
    [[ $(sum "$tmp/c") == "$blocks" ]] || fail "--at $at $native: folded count $(sum "$tmp/c"), json $blocks"
    # One traceback a line: as many lines as tracebacks with bytes.
    ntb=$("$LEAKLAB" report "$cap" --at "$at" $native --group-by traceback --format json |
      python3 -c "import json,sys; print(sum(1 for s in json.load(sys.stdin)['sites'] if s['size']))")
    [[ $(wc -l <"$tmp/f") -eq $ntb ]] || fail "--at $at $native: $(wc -l <"$tmp/f") lines, $ntb tracebacks"
  done
done
"$LEAKLAB" report "$tmp/known_pattern.llcap" --format folded >"$tmp/f"
[[ $(sum "$tmp/f") == 109120 ]] || fail "known_pattern's peak is 109120 B, folded says $(sum "$tmp/f")"

# ---- inlined frames are frames, root first, named as the traceback view names them --------------
SRC=$LL_SOURCE_DIR/tests/programs/inlined_alloc.c
"$LEAKLAB" report "$tmp/inlined_alloc.llcap" --format folded >"$tmp/f"
want="main ($SRC:$(line inlined_alloc.c main));caller ($SRC:$(line inlined_alloc.c call1));middle_alloc ($SRC:$(line inlined_alloc.c middle));inner_alloc ($SRC:$(line inlined_alloc.c inner)) 4001"
grep -qxF "$want" "$tmp/f" || fail "inlined stack: want '$want', got: $(cat "$tmp/f")"

# ---- --native: library frames lead (libc's start routine is the root) ----------------------------
"$LEAKLAB" report "$tmp/inlined_alloc.llcap" --native --format folded >"$tmp/f"
grep -q "^__libc_start_call_main (.*);main ($SRC:$(line inlined_alloc.c main));caller" "$tmp/f" ||
  fail "--native: no libc root frame: $(cat "$tmp/f")"

# ---- usage errors -------------------------------------------------------------------------------
usage() { # usage WHAT ARGS...: exit 2 and one line naming the problem
  local what=$1
  shift
  run "$LEAKLAB" "$@"
  [[ $status -eq 2 && $(wc -l <"$tmp/err") -eq 1 ]] || fail "$what: exit $status: $(cat "$tmp/err")"
}
cap=$tmp/known_pattern.llcap
usage "--weight without folded" report "$cap" --weight count
usage "bad --weight" report "$cap" --format folded --weight blocks
usage "--top with folded" report "$cap" --format folded --top 3
usage "--group-by with folded" report "$cap" --format folded --group-by filename
usage "diff --format folded" diff "$cap" "$cap" --format folded
finish "report_folded: ok"
