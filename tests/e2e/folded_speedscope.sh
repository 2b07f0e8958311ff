#!/usr/bin/env bash
# folded_speedscope.sh - speedscope (pinned, tests/speedscope) imports leaklab's folded stacks in headless Chromium: its sandwich table's totals and self weights are leaklab's.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
server=
stop_server() {
  if [[ -n $server ]]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
}
# lib.sh's exit handler still decides the verdict (with the script's own exit status).
trap 'rc=$?; stop_server; (exit $rc); ll__at_exit' EXIT

SS=$LL_SOURCE_DIR/tests/speedscope/node_modules/speedscope/dist/release
[[ -f $SS/index.html ]] || die "speedscope is not installed: make deps runs npm ci in tests/speedscope"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[[ -n $CHROMIUM ]] || die "chromium is not installed (make deps installs it)"

for p in known_pattern inlined_alloc; do
  "$LEAKLAB" run -o "$tmp/$p.llcap" -- "$LL_PROGRAMS/$p" >/dev/null 2>"$tmp/err" ||
    die "run $p: $(cat "$tmp/err")"
done

# speedscope loads a profile by URL only over http: serve its page and the folded files from
# the loopback, on a port the kernel picks.
mkdir "$tmp/www"
cp -r "$SS"/. "$tmp/www/"
# The interpreter itself, not lib.sh's python3 function: $! must be the server's own pid.
server_py=/usr/bin/python3
[[ -x $server_py ]] || server_py=$(type -P python3)
"$server_py" -c '
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
handler.log_message = lambda *a: None
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()' "$tmp/www" >"$tmp/port" &
server=$!
for _ in $(seq 100); do [[ -s $tmp/port ]] && break; sleep 0.1; done
port=$(cat "$tmp/port")
[[ -n $port ]] || die "the local http server did not start"

# sandwich NAME: speedscope's sandwich view of $tmp/www/NAME as "total self symbol" lines.
sandwich() {
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$tmp/chromium" --virtual-time-budget=10000 \
    --dump-dom "http://127.0.0.1:$port/index.html#profileURL=/$1&view=sandwich" \
    >"$tmp/dom.html" 2>"$tmp/chromium.err" || die "chromium: $(tail -3 "$tmp/chromium.err")"
  python3 - "$tmp/dom.html" <<'PY'
import html, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
text = re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S)
cells = [c for c in (html.unescape(x).strip() for x in re.split(r"<[^>]+>", text)) if c]
# The table: "Total", "Self", "Symbol Name", then per symbol "N (P%)", "N (P%)", name.
start = cells.index("Symbol Name") + 1
num = re.compile(r"^([\d,]+) \([^)]*\)$")
for i in range(start, len(cells) - 2, 3):
    t, s = num.match(cells[i]), num.match(cells[i + 1])
    if not (t and s):
        break
    print(t.group(1).replace(",", ""), s.group(1).replace(",", ""), cells[i + 2])
PY
}

# want_self JSON: "self symbol" per line of leaklab's JSON (the folded name of its frame).
want_self() {
  python3 - "$1" "$2" <<'PY'
import json, sys
field = sys.argv[2]
for s in json.load(open(sys.argv[1]))["sites"]:
    if s[field]:
        print(s[field], "%s (%s:%d)" % (s["function"], s["file"], s["line"]))
PY
}

checked=0
for case in known_pattern:peak:bytes known_pattern:end:count inlined_alloc:peak:bytes; do
  IFS=: read -r p at weight <<<"$case"
  name=$p.$at.$weight.folded
  "$LEAKLAB" report "$tmp/$p.llcap" --at "$at" --format folded --weight "$weight" >"$tmp/www/$name"
  "$LEAKLAB" report "$tmp/$p.llcap" --at "$at" --format json >"$tmp/l.json"
  field=$([[ $weight == bytes ]] && echo size || echo count)
  # A dump can come before the table's rows do (speedscope fetches and parses the profile
  # after load; under load that can outlast the virtual time budget): dumped again, 3 tries.
  for _ in 1 2 3; do
    sandwich "$name" >"$tmp/table"
    [[ -s $tmp/table ]] && break
  done
  [[ -s $tmp/table ]] || fail "$case: speedscope showed no table: $(head -c 2000 "$tmp/dom.html")"
  # Self weight per symbol: the frames stacks end on, as leaklab's lines.
  awk '$2 != 0 { s = $2; $1 = ""; $2 = ""; sub(/^  /, ""); print s, $0 }' "$tmp/table" | sort >"$tmp/got"
  want_self "$tmp/l.json" "$field" | sort >"$tmp/want"
  diff "$tmp/want" "$tmp/got" >"$tmp/diff" || fail "$case: self weights differ (leaklab <, speedscope >): $(cat "$tmp/diff")"
  # Nothing lost: the self weights add up to the moment's total.
  total=$(python3 -c "import json,sys; print(sum(s['$field'] for s in json.load(open(sys.argv[1]))['sites']))" "$tmp/l.json")
  shown=$(awk '{ s += $1 } END { printf "%d", s }' "$tmp/got")
  [[ $shown == "$total" ]] || fail "$case: speedscope's self weights add up to $shown, leaklab's total is $total"
  checked=$((checked + 1))
done
finish "folded_speedscope: ok ($checked profiles)"
