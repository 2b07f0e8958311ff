#!/usr/bin/env bash
# reach_lessons.sh - `report --retainers` on method_cache:leaky names the chain that keeps the cached results: entry, the cache table's bucket array, the memo, the world, the global that anchors them.
set -euo pipefail
: "${LEAKLAB:?}" "${LL_SOURCE_DIR:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
SRC=$LL_SOURCE_DIR/scenarios/method_cache/method_cache.c
line_of() { grep -n "$1" "$SRC" | head -1 | cut -d: -f1; }
digits=$(line_of "mpz_init_set(e->value")
entry=$(line_of "memo_insert(cache, &key)")
table=$(line_of "the table's bucket array")
[ -n "$digits" ] && [ -n "$entry" ] && [ -n "$table" ] || fail "method_cache.c lost its marker comments"

"$LEAKLAB" run -o "$T/mc.llcap" method_cache:leaky --scale 0.05 >/dev/null 2>"$T/err" || fail "run: $(cat "$T/err")"
"$LEAKLAB" report "$T/mc.llcap" --at end --retainers >"$T/ret.txt" || fail "report --retainers"
# The digits of each cached result: held by entries, which the cache table holds, up to the
# global the lesson keeps (method_cache_module, main.c).
grep -Eq "^    method_cache.c:$digits <- [0-9]+ blocks held by method_cache.c:[0-9]+ <- held by method_cache.c:$table <- .*held by global method_cache_module \(main.c\)$" "$T/ret.txt" ||
  fail "the digits' chain does not name the table and its global: $(cat "$T/ret.txt")"
grep -Eq "^    kinds: still reachable [0-9]+ B in [0-9]+ blocks$" "$T/ret.txt" || fail "no kinds line: $(cat "$T/ret.txt")"
# Nothing of the cache is lost (memcheck calls it still reachable too).
"$LEAKLAB" report "$T/mc.llcap" --at lost --format json --top 0 >"$T/lost.json"
python3 - "$T/lost.json" <<'PY' || fail "lost blocks in the leaky cache: $(cat "$T/lost.json")"
import json, sys
d = json.load(open(sys.argv[1]))
own = [s for s in d["sites"] if "method_cache" in s["file"]]
assert not own, own
assert d["leak_kinds"]["still_reachable"]["blocks"] > 0
PY
echo "reach_lessons: ok"
