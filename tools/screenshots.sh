#!/usr/bin/env bash
# screenshots.sh - regenerate the pictures of the HTML report that the READMEs show, each from a real run photographed in headless Chromium.
#
# usage: tools/screenshots.sh [--check] [BUILD_DIR] [LESSON...]
#   (default build/default, every lesson of scenarios/index.txt; tools/lesson_outputs.py --update
#   runs it after refreshing the READMEs' outputs, so pictures and text come from one build)
#
# A lesson's README asks for a picture by naming it; this script takes every picture named:
#   ![what the student should look at](img/VARIANT-chart.png)         the memory-over-time chart
#   ![...](img/VARIANT-flame-MOMENT.png)                               the flamegraph at MOMENT
#   ![...](img/VARIANT-flame-MOMENT-native.png)                        ... with library frames
#   ![...](img/VARIANT-flame-MOMENT-inverted.png)                      ... allocating line on top
#   ![...](img/VARIANT-budget-chart.png), img/VARIANT-budget-flame-... the same from `check`
# (MOMENT: peak, end, leaks, temporary, allocations, lost, reachable.) VARIANT is recorded once
# at full scale, as the student's `leaklab run --html` records it; a -budget- picture comes from
# `leaklab check`'s recording instead, held to the lesson's budget, which the chart then draws.
# `leaklab report --format html` writes the page, web/test/lesson_shots.mjs photographs the
# parts (2x pixels, 1000 px wide). Source paths on the pictures are shown under
# /work/main, as in the READMEs' quoted outputs, whatever the checkout. A picture no README names
# is deleted. --check takes nothing: it only says which named pictures are missing (exit 1).
# Also docs/img/report.png, the top README's whole-page picture of method_cache:leaky.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
build=build/default
if [ $# -gt 0 ] && [ -d "$1" ] && [ -x "$1/leaklab" ]; then build=$1; shift; fi
leaklab=$build/leaklab
index=scenarios/index.txt
lessons=("$@")
[ ${#lessons[@]} -gt 0 ] || mapfile -t lessons < <(awk -F'\t' '!/^#/ && NF { print $1 }' "$index")

# pictures LESSON: "VARIANT[-budget] SHOT-SPEC FILE" for each picture its README names.
pictures() {
  { grep -o '](img/[A-Za-z0-9_.-]*\.png)' "scenarios/$1/README.md" || true; } |
    sed 's/^](img\///; s/)$//' | sort -u |
    while read -r f; do
      base=${f%.png}
      if [[ $base =~ ^([a-z0-9_]+(-budget)?)-chart$ ]]; then
        echo "${BASH_REMATCH[1]} chart $f"
      elif [[ $base =~ ^([a-z0-9_]+(-budget)?)-flame-([a-z]+)((-native|-inverted)*)$ ]]; then
        echo "${BASH_REMATCH[1]} flame:${BASH_REMATCH[3]}${BASH_REMATCH[4]//-/:} $f"
      else
        echo "screenshots: scenarios/$1/README.md names img/$f: not VARIANT-chart.png or VARIANT-flame-MOMENT[-native][-inverted].png" >&2
        return 1
      fi
    done
}

missing=0
for lesson in "${lessons[@]}"; do
  [ -f "scenarios/$lesson/README.md" ] || { echo "screenshots: no lesson '$lesson' (scenarios/$lesson/README.md)" >&2; exit 2; }
  pictures "$lesson" >/dev/null
  if [ $check -eq 1 ]; then
    while read -r _ _ f; do
      [ -s "scenarios/$lesson/img/$f" ] || { echo "screenshots: scenarios/$lesson/img/$f is missing" >&2; missing=1; }
    done < <(pictures "$lesson")
  fi
done
[ $check -eq 0 ] || exit $missing

[ -x "$leaklab" ] || { echo "screenshots: $leaklab is missing: run 'make build'" >&2; exit 3; }
[ -x /usr/bin/chromium ] && [ -d web/node_modules/puppeteer-core ] ||
  { echo "screenshots: chromium or web/node_modules is missing: run 'make deps'" >&2; exit 3; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# page run|check LESSON:VARIANT OUT.html: record the variant as `run` does, or held to its
# lesson's budget by `check`, and write its page.
page() {
  local status=0
  if [ "$1" = check ]; then
    "$leaklab" check -o "$T/capture.llcap" "$2" >/dev/null 2>"$T/rec.txt" || status=$?
  else
    "$leaklab" run --no-report -o "$T/capture.llcap" "$2" >/dev/null 2>"$T/rec.txt" || status=$?
  fi
  [ $status -le 1 ] || { cat "$T/rec.txt" >&2; echo "screenshots: $1 $2 exited $status" >&2; exit 3; }
  shift
  "$leaklab" report "$T/capture.llcap" --format html -o "$T/raw.html"
  # The READMEs quote outputs from a checkout at /work/main: the pictures say the same.
  if [ "$root" != /work/main ]; then
    sed "s#$root/#/work/main/#g" "$T/raw.html" >"$2"
  else
    mv "$T/raw.html" "$2"
  fi
  rm -f "$T/capture.llcap"
}

for lesson in "${lessons[@]}"; do
  mapfile -t wanted < <(pictures "$lesson")
  dir=scenarios/$lesson/img
  # Pictures no README names any more go (the folder holds exactly what the README shows).
  if [ -d "$dir" ]; then
    for old in "$dir"/*.png; do
      [ -e "$old" ] || continue
      printf '%s\n' "${wanted[@]}" | awk '{ print $3 }' | grep -qx "$(basename "$old")" ||
        { rm -f "$old"; echo "screenshots: $old removed (no README names it)"; }
    done
  fi
  [ ${#wanted[@]} -gt 0 ] || continue
  mkdir -p "$dir"
  for variant in $(printf '%s\n' "${wanted[@]}" | awk '{ print $1 }' | sort -u); do
    echo "screenshots: $lesson:$variant" >&2
    if [[ $variant == *-budget ]]; then
      page check "$lesson:${variant%-budget}" "$T/page.html"
    else
      page run "$lesson:$variant" "$T/page.html"
    fi
    shots=()
    for w in "${wanted[@]}"; do
      read -r v spec f <<<"$w"
      [ "$v" = "$variant" ] && shots+=("$dir/$f=$spec")
    done
    node web/test/lesson_shots.mjs "$T/page.html" "${shots[@]}"
  done
done

# The top README's whole page.
if [ $# -eq 0 ]; then
  page check method_cache:leaky "$T/page.html"
  mkdir -p docs/img
  node web/test/screenshot.mjs "$T/page.html" docs/img/report.png 1280 1500
  echo "screenshots: docs/img/report.png (method_cache:leaky)"
fi
