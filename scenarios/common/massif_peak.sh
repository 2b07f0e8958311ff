#!/usr/bin/env bash
# massif_peak.sh - print mem_heap_B of the peak snapshot in each massif.out file given.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 MASSIF_OUT..." >&2; exit 2; }
for f in "$@"; do
  # Each snapshot lists mem_heap_B before its heap_tree line; the peak's says heap_tree=peak.
  peak=$(awk -F= '/^mem_heap_B=/ { heap = $2 } /^heap_tree=peak/ { print heap; exit }' "$f")
  [ -n "$peak" ] || { echo "$0: no peak snapshot in $f" >&2; exit 3; }
  printf '%s\t%s\n' "$peak" "$f"
done
