#!/usr/bin/env bash
# demo.sh - the main job: every variant of every lesson, checked against its budget and reported.
# Writes reports/<scenario>/<variant>/{capture.llcap,peak.txt,peak.json,leaks.txt,check.txt,
# stdout.txt} and ends with the table: scenario, variant, peak, budget, verdict.
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
    peak=$(sed -n 's/^  "peak_bytes": \([0-9]*\),$/\1/p' "$out/peak.json")
    echo "peak $peak B: $verdict" >&2
    rows+=("$name|$v|$peak|$budget|$verdict")
  done
done <"$index"

echo
echo "Every lesson variant, recorded by leaklab (peak = requested bytes live at the high-water mark):"
echo
printf '%-14s  %-15s  %12s  %11s  %8s  %s\n' scenario variant "peak (B)" peak budget verdict
printf '%-14s  %-15s  %12s  %11s  %8s  %s\n' -------- ------- -------- ---- ------ -------
for r in "${rows[@]}"; do
  IFS='|' read -r s v p b verdict <<<"$r"
  mib=$(awk -v b="$p" 'BEGIN { if (b < 10240) printf "%d B", b; else if (b < 1048576) printf "%.1f KiB", b / 1024; else printf "%.1f MiB", b / 1048576 }')
  printf '%-14s  %-15s  %12s  %11s  %8s  %s\n' "$s" "$v" "$p" "$mib" "$b" \
    "$([ "$verdict" = PASS ] && echo "PASS (below budget)" || echo "OVER budget")"
done
echo
echo "Reports: reports/<scenario>/<variant>/ (peak.txt, peak.json, leaks.txt, check.txt)."
echo "Read a lesson: $leaklab explain method_cache"
