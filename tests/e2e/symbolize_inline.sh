#!/usr/bin/env bash
# symbolize_inline.sh - one return address inside inlined code expands into the inlined frames, innermost first, then the real function.
set -euo pipefail
: "${LEAKLAB:?}" "${LL_PROGRAMS:?}" "${LL_SOURCE_DIR:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SRC=$LL_SOURCE_DIR/tests/programs/inlined_alloc.c
PROG=$LL_PROGRAMS/inlined_alloc
line() { grep -n "/\* @$1 \*/" "$SRC" | head -1 | cut -d: -f1; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# The test is only meaningful if gcc really inlined the helpers: no call to them may remain.
if command -v objdump >/dev/null; then
  objdump -d "$PROG" >"$T/dis"
  if grep -E 'call .*<(inner|middle)_alloc' "$T/dis" >/dev/null; then fail "helpers not inlined"; fi
fi

"$LEAKLAB" run -o "$T/ia.llcap" -- "$PROG" >"$T/out" 2>"$T/err" || fail "run exited $?: $(cat "$T/err")"

# Per traceback: "function:line" for each of its first frames in this file, "size" first.
frames() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for s in d["sites"]:
    fr = [f for f in s["frames"] if f["file"].endswith("inlined_alloc.c")]
    print(s["size"], " ".join("%s:%d" % (f["function"], f["line"]) for f in fr))' "$1" | sort
}

# ---- default attribution: both inlined call sites stay apart, each with the whole chain ---------
"$LEAKLAB" report "$T/ia.llcap" --at end --group-by traceback --format json >"$T/tb.json"
frames "$T/tb.json" >"$T/got"
chain="inner_alloc:$(line inner) middle_alloc:$(line middle)"
cat >"$T/want" <<W
3001 $chain caller:$(line call2) main:$(line main)
4001 $chain caller:$(line call1) main:$(line main)
W
diff "$T/want" "$T/got" || fail "inlined frames differ (want above, got below)"

# ---- --native shows the same chain (no library frame sits between these) -----------------------
"$LEAKLAB" report "$T/ia.llcap" --at end --group-by traceback --native --format json >"$T/native.json"
frames "$T/native.json" >"$T/got"
diff "$T/want" "$T/got" || fail "--native inlined frames differ"

# ---- per line, the allocation is the inlined helper's own line ----------------------------------
"$LEAKLAB" report "$T/ia.llcap" --at end --group-by lineno >"$T/lines.txt"
grep "inlined_alloc.c:$(line inner): size=7002 B, count=2" "$T/lines.txt" >/dev/null ||
  fail "per-line view: $(cat "$T/lines.txt")"

# ---- text traceback names the caller at its call site --------------------------------------------
"$LEAKLAB" report "$T/ia.llcap" --at end --group-by traceback >"$T/tb.txt"
grep "inlined_alloc.c:$(line call1) (caller)" "$T/tb.txt" >/dev/null || fail "text: $(cat "$T/tb.txt")"
echo "symbolize_inline: ok"
