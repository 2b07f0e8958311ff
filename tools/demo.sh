#!/usr/bin/env bash
# demo.sh - the main job: every variant of every lesson, checked against its budget and reported.
# Writes reports/<scenario>/<variant>/{capture.llcap,peak.txt,peak.json,leaks.txt,check.txt,
# stdout.txt,report.html} and ends with the table: scenario, variant, peak, budget, verdict; the
# same table, linking each variant's HTML report and each lesson's README, is reports/index.html.
set -euo pipefail

build=${1:-build/default}
cd "$(dirname "$0")/.."
leaklab=$build/leaklab
index=$build/scenarios/index.txt
if [ ! -x "$leaklab" ] || [ ! -f "$index" ]; then
  echo "demo: $leaklab or $index is missing: run 'make demo' (it builds first)" >&2
  exit 3
fi

rows=()
while IFS=$'\t' read -r name _desc variants budget; do
  case "$name" in '#'*|'') continue ;; esac
  IFS=, read -r -a vlist <<<"$variants"
  for v in "${vlist[@]}"; do
    out=reports/$name/$v
    mkdir -p "$out"
    printf 'demo: %-14s %-15s ' "$name" "$v" >&2
    # check records the lesson (keeping the capture) and holds it to the lesson's budget.
    set +e
    "$leaklab" check -o "$out/capture.llcap" "$name:$v" >"$out/stdout.txt" 2>"$out/check.txt"
    status=$?
    set -e
    case $status in
      0) verdict=PASS ;;
      1) verdict=OVER ;;
      *) echo "failed (exit $status), see $out/check.txt" >&2; tail -n 3 "$out/check.txt" >&2; exit 3 ;;
    esac
    "$leaklab" report "$out/capture.llcap" --at peak >"$out/peak.txt"
    "$leaklab" report "$out/capture.llcap" --at peak --format json >"$out/peak.json"
    "$leaklab" report "$out/capture.llcap" --at leaks >"$out/leaks.txt"
    "$leaklab" report "$out/capture.llcap" --format html -o "$out/report.html"
    peak=$(sed -n 's/^  "peak_bytes": \([0-9]*\),$/\1/p' "$out/peak.json")
    echo "peak $peak B: $verdict" >&2
    rows+=("$name|$v|$peak|$budget|$verdict")
  done
done <"$index"

title="Every lesson variant, recorded by leaklab (peak = requested bytes live at the high-water mark):"
index=reports/index.html
{
  cat <<'HEAD'
<!doctype html>
<!-- index.html - written by tools/demo.sh: every lesson variant's peak and verdict, linking its HTML report. -->
<html lang="en"><head><meta charset="utf-8"><title>leaklab: every lesson variant</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d1d1f; }
table { border-collapse: collapse; } th, td { padding: 4px 12px; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } .over { color: #c0392b; font-weight: 600; }
</style></head><body>
<h1>leaklab: every lesson variant</h1>
HEAD
  echo '<p>Every lesson variant, recorded by leaklab and held to its lesson'"'"'s budget. The peak is the'
  echo 'requested bytes live at the high-water mark. Click a variant for its HTML report (memory over time,'
  echo 'flamegraphs, lines) and a lesson for its text (the README: the steps, the pictures, the exercises).</p>'
  echo '<table><thead><tr><th>scenario</th><th>variant</th><th>peak (B)</th><th>peak</th><th>budget</th><th>verdict</th></tr></thead><tbody>'
} >"$index"
echo
echo "$title"
echo
printf '%-14s  %-15s  %12s  %11s  %8s  %s\n' scenario variant "peak (B)" peak budget verdict
printf '%-14s  %-15s  %12s  %11s  %8s  %s\n' -------- ------- -------- ---- ------ -------
for r in "${rows[@]}"; do
  IFS='|' read -r s v p b verdict <<<"$r"
  mib=$(awk -v b="$p" 'BEGIN { if (b < 10240) printf "%d B", b; else if (b < 1048576) printf "%.1f KiB", b / 1024; else printf "%.1f MiB", b / 1048576 }')
  words=$([ "$verdict" = PASS ] && echo "PASS (below budget)" || echo "OVER budget")
  printf '%-14s  %-15s  %12s  %11s  %8s  %s\n' "$s" "$v" "$p" "$mib" "$b" "$words"
  # Lesson and variant names are identifiers: nothing to escape.
  printf '<tr><td><a href="../scenarios/%s/README.md">%s</a></td><td><a href="%s/%s/report.html">%s</a></td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td%s>%s</td></tr>\n' \
    "$s" "$s" "$s" "$v" "$v" "$p" "$mib" "$b" "$([ "$verdict" = PASS ] || echo ' class="over"')" "$words" >>"$index"
done
echo '</tbody></table></body></html>' >>"$index"
echo
echo "Reports: reports/<scenario>/<variant>/ (peak.txt, peak.json, leaks.txt, check.txt, report.html)."
echo "Open reports/index.html in a browser (offline): every variant's table row links its HTML report."
echo "Read a lesson: $leaklab explain method_cache"
