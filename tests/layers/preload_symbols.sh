#!/usr/bin/env bash
# preload_symbols.sh - libleaklab-preload.so carries no symbol of the layers above engine and capture (report, budget, symbolize, valgrind), while it does carry the engine's.
# usage: preload_symbols.sh PRELOAD --engine OBJ... --above OBJ...
set -euo pipefail

preload=$1
shift
engine=()
above=()
list=
for a in "$@"; do
  case $a in
  --engine) list=engine ;;
  --above) list=above ;;
  *) if [[ $list == engine ]]; then engine+=("$a"); else above+=("$a"); fi ;;
  esac
done
[[ ${#engine[@]} -gt 0 && ${#above[@]} -gt 0 ]] || { echo "usage: $0 PRELOAD --engine OBJ... --above OBJ..." >&2; exit 2; }

# Global definitions of a set of objects; every definition in the library (local ones too: its
# version script hides all but the hooks, and a hidden copy still is a copy).
defined() { nm --defined-only "$@" | awk 'NF == 3 && $2 ~ /^[TDBR]$/ {print $3}' | sort -u; }
in_preload=$(nm --defined-only "$preload" | awk 'NF == 3 {print $3}' | sort -u)

bad=$(comm -12 <(defined "${above[@]}") <(echo "$in_preload"))
if [[ -n $bad ]]; then
  echo "FAIL: libleaklab-preload.so defines symbols of layers above engine and capture:" >&2
  echo "$bad" | head -20 >&2
  exit 1
fi
# The check can see: the engine's own symbols are there.
seen=$(comm -12 <(defined "${engine[@]}") <(echo "$in_preload") | wc -l)
if [[ $seen -eq 0 ]]; then
  echo "FAIL: no engine symbol found in $preload: the check cannot see its symbols" >&2
  exit 1
fi
echo "ok: $seen engine symbols, none of report, budget, symbolize or valgrind ($(defined "${above[@]}" | wc -l) checked)"
