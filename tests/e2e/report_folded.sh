#!/usr/bin/env bash
# report_folded.sh - `leaklab report --format folded` on real captures: weights add up to each moment's bytes and blocks, inlined and library frames, usage errors.
set -euo pipefail
: "${LEAKLAB:?}" "${LL_PROGRAMS:?}" "${LL_SOURCE_DIR:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for p in known_pattern inlined_alloc; do
  "$LEAKLAB" run -o "$T/$p.llcap" -- "$LL_PROGRAMS/$p" >/dev/null 2>"$T/err" ||
    fail "run $p: $(cat "$T/err")"
done

# sum FILE: the weights of a folded file (the number after each line's last space).
sum() { awk '{ n = split($0, f, " "); s += f[n] } END { printf "%d\n", s }' "$1"; }
# json_sum FIELD: the total of a field over the sites of leaklab's JSON on stdin.
json_sum() { python3 -c "import json,sys; print(sum(s['$1'] for s in json.load(sys.stdin)['sites']))"; }

# ---- every moment: the weights are the moment's bytes (and blocks) ------------------------------
for at in peak end leaks temporary; do
  for native in --no-native --native; do
    cap=$T/known_pattern.llcap
    "$LEAKLAB" report "$cap" --at "$at" $native --format folded >"$T/f" || fail "--at $at: exit $?"
    "$LEAKLAB" report "$cap" --at "$at" $native --format folded --weight count >"$T/c"
    "$LEAKLAB" report "$cap" --at "$at" $native --format json >"$T/j"
    bytes=$(json_sum size <"$T/j")
    blocks=$(json_sum count <"$T/j")
    [[ $(sum "$T/f") == "$bytes" ]] || fail "--at $at $native: folded bytes $(sum "$T/f"), json $bytes"
    [[ $(sum "$T/c") == "$blocks" ]] || fail "--at $at $native: folded count $(sum "$T/c"), json $blocks"
    # One traceback a line: as many lines as tracebacks with bytes.
    ntb=$("$LEAKLAB" report "$cap" --at "$at" $native --group-by traceback --format json |
      python3 -c "import json,sys; print(sum(1 for s in json.load(sys.stdin)['sites'] if s['size']))")
    [[ $(wc -l <"$T/f") -eq $ntb ]] || fail "--at $at $native: $(wc -l <"$T/f") lines, $ntb tracebacks"
  done
done
"$LEAKLAB" report "$T/known_pattern.llcap" --format folded >"$T/f"
[[ $(sum "$T/f") == 109120 ]] || fail "known_pattern's peak is 109120 B, folded says $(sum "$T/f")"

# ---- inlined frames are frames, root first, named as the traceback view names them --------------
SRC=$LL_SOURCE_DIR/tests/programs/inlined_alloc.c
line() { grep -n "/\* @$1 \*/" "$SRC" | head -1 | cut -d: -f1; }
"$LEAKLAB" report "$T/inlined_alloc.llcap" --format folded >"$T/f"
want="main ($SRC:$(line main));caller ($SRC:$(line call1));middle_alloc ($SRC:$(line middle));inner_alloc ($SRC:$(line inner)) 4001"
grep -qxF "$want" "$T/f" || fail "inlined stack: want '$want', got: $(cat "$T/f")"

# ---- --native: library frames lead (libc's start routine is the root) ----------------------------
"$LEAKLAB" report "$T/inlined_alloc.llcap" --native --format folded >"$T/f"
grep -q "^__libc_start_call_main (.*);main ($SRC:$(line main));caller" "$T/f" ||
  fail "--native: no libc root frame: $(cat "$T/f")"

# ---- usage errors -------------------------------------------------------------------------------
usage() { # usage WHAT ARGS...: exit 2 and one line naming the problem
  local what=$1
  shift
  set +e
  "$LEAKLAB" "$@" >/dev/null 2>"$T/err"
  local st=$?
  set -e
  [[ $st -eq 2 && $(wc -l <"$T/err") -eq 1 ]] || fail "$what: exit $st: $(cat "$T/err")"
}
cap=$T/known_pattern.llcap
usage "--weight without folded" report "$cap" --weight count
usage "bad --weight" report "$cap" --format folded --weight blocks
usage "--top with folded" report "$cap" --format folded --top 3
usage "--group-by with folded" report "$cap" --format folded --group-by filename
usage "diff --format folded" diff "$cap" "$cap" --format folded
echo "report_folded: ok"
