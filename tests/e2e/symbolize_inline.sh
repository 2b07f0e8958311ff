#!/usr/bin/env bash
# symbolize_inline.sh - one return address inside inlined code expands into the inlined frames, innermost first, then the real function.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

PROG=$LL_PROGRAMS/inlined_alloc

# The test is only meaningful if gcc really inlined the helpers: no call to them may remain.
if command -v objdump >/dev/null; then
  objdump -d "$PROG" >"$tmp/dis"
  if grep -E 'call .*<(inner|middle)_alloc' "$tmp/dis" >/dev/null; then fail "helpers not inlined"; fi
fi

"$LEAKLAB" run -o "$tmp/ia.llcap" -- "$PROG" >"$tmp/out" 2>"$tmp/err" || die "run exited $?: $(cat "$tmp/err")"

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
"$LEAKLAB" report "$tmp/ia.llcap" --at end --group-by traceback --format json >"$tmp/tb.json"
frames "$tmp/tb.json" >"$tmp/got"
chain="inner_alloc:$(line inlined_alloc.c inner) middle_alloc:$(line inlined_alloc.c middle)"
cat >"$tmp/want" <<W
3001 $chain caller:$(line inlined_alloc.c call2) main:$(line inlined_alloc.c main)
4001 $chain caller:$(line inlined_alloc.c call1) main:$(line inlined_alloc.c main)
W
diff "$tmp/want" "$tmp/got" || fail "inlined frames differ (want above, got below)"

# ---- --native shows the same chain (no library frame sits between these) -----------------------
"$LEAKLAB" report "$tmp/ia.llcap" --at end --group-by traceback --native --format json >"$tmp/native.json"
frames "$tmp/native.json" >"$tmp/got"
diff "$tmp/want" "$tmp/got" || fail "--native inlined frames differ"

# ---- per line, the allocation is the inlined helper's own line ----------------------------------
"$LEAKLAB" report "$tmp/ia.llcap" --at end --group-by lineno >"$tmp/lines.txt"
grep "inlined_alloc.c:$(line inlined_alloc.c inner): size=7002 B, count=2" "$tmp/lines.txt" >/dev/null ||
  fail "per-line view: $(cat "$tmp/lines.txt")"

# ---- text traceback names the caller at its call site --------------------------------------------
"$LEAKLAB" report "$tmp/ia.llcap" --at end --group-by traceback >"$tmp/tb.txt"
grep "inlined_alloc.c:$(line inlined_alloc.c call1) (caller)" "$tmp/tb.txt" >/dev/null || fail "text: $(cat "$tmp/tb.txt")"
finish "symbolize_inline: ok"
