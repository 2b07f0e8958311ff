#!/usr/bin/env bash
# screenshots.sh - regenerate the README's picture of the HTML report: record method_cache:leaky, report it as HTML, and photograph it in headless Chromium.
# usage: tools/screenshots.sh [BUILD_DIR]   (default build/default; writes docs/img/report.png)
set -euo pipefail
build=${1:-build/default}
cd "$(dirname "$0")/.."
leaklab=$build/leaklab
[ -x "$leaklab" ] || { echo "screenshots: $leaklab is missing: run 'make build'" >&2; exit 3; }
[ -x /usr/bin/chromium ] && [ -d web/node_modules/puppeteer-core ] ||
  { echo "screenshots: chromium or web/node_modules is missing: run 'make deps'" >&2; exit 3; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# check records with the lesson's budget, which the page draws.
"$leaklab" check -o "$T/capture.llcap" method_cache:leaky >/dev/null 2>"$T/check.txt" || [ $? -eq 1 ] ||
  { cat "$T/check.txt" >&2; exit 3; }
"$leaklab" report "$T/capture.llcap" --format html -o "$T/report.html"
mkdir -p docs/img
node web/test/screenshot.mjs "$T/report.html" docs/img/report.png 1280 1500
echo "screenshots: docs/img/report.png (method_cache:leaky)"
