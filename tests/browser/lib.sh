#!/usr/bin/env bash
# lib.sh - what the browser tests share: write a capture's HTML page and leaklab's own figures for it, then check the page in headless Chromium.
: "${LEAKLAB:?}" "${LL_SOURCE_DIR:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }

# page_expect CAPTURE DIR [BUDGET_BYTES]: DIR/report.html from `report --format html`, and for
# every moment the capture holds, DIR/expect/M.json, M.native.json (--native) and M.txt (every
# line, as text); DIR/expect/budget when the capture was recorded by check with that limit;
# (a test may add DIR/expect/peak_before_end_ms: the peak at least that long before the end);
# DIR/expect/end.retainers.txt (`--at end --retainers`, every line) when it has the exit scan.
page_expect() {
  local cap=$1 dir=$2 at
  mkdir -p "$dir/expect"
  [ -z "${3:-}" ] || echo "$3" >"$dir/expect/budget"
  "$LEAKLAB" report "$cap" --format html -o "$dir/report.html" || fail "report --format html exited $?"
  for at in peak end leaks temporary current; do
    "$LEAKLAB" report "$cap" --at "$at" --format json >"$dir/expect/$at.json" 2>/dev/null || {
      rm -f "$dir/expect/$at.json"
      continue
    }
    "$LEAKLAB" report "$cap" --at "$at" --native --format json >"$dir/expect/$at.native.json"
    "$LEAKLAB" report "$cap" --at "$at" --top 0 >"$dir/expect/$at.txt"
  done
  if [ -e "$dir/expect/end.json" ] && grep -q '"leak_kinds"' "$dir/expect/end.json"; then
    "$LEAKLAB" report "$cap" --at end --retainers --top 0 >"$dir/expect/end.retainers.txt"
  fi
  [ -n "$(ls "$dir/expect")" ] || fail "$cap holds no moment"
}

# check_pages DIR...: web/test/check_report.mjs compares what Chromium renders of each
# DIR/report.html with DIR/expect (page_expect's), all in one browser.
check_pages() {
  local dir pairs=()
  for dir in "$@"; do pairs+=("$dir/report.html" "$dir/expect"); done
  [ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing: run 'make deps'"
  [ -d "$LL_SOURCE_DIR/web/node_modules/puppeteer-core" ] || fail "web/node_modules is missing: run 'make deps'"
  node "$LL_SOURCE_DIR/web/test/check_report.mjs" "${pairs[@]}" ||
    fail "the page of $* differs from leaklab's figures (see above)"
}

# check_page CAPTURE DIR [BUDGET_BYTES]: page_expect, then check_pages DIR.
check_page() {
  page_expect "$@"
  check_pages "$2"
}
