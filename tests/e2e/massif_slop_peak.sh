#!/usr/bin/env bash
# massif_slop_peak.sh - why massif's marked peak can sit a few bytes below leaklab's: valgrind's own event stream reaches leaklab's peak, massif marks peaks by useful + extra heap.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

need valgrind

# The highest useful heap (requested bytes live) over every malloc, calloc, realloc and free
# valgrind performed for the program, from its --trace-malloc lines: the exact figure massif's
# sampling can miss.
valgrind_useful_max() {
  valgrind --tool=massif --massif-out-file=/dev/null --run-libc-freeres=no --trace-malloc=yes \
    "$@" 2>&1 >/dev/null | awk '
    /^--[0-9]+-- (malloc|calloc|realloc|free|memalign)\(/ {
      line = $0; sub(/^--[0-9]+-- /, "", line)
      fn = line; sub(/\(.*/, "", fn)
      args = line; sub(/^[a-z_]+\(/, "", args); sub(/\).*/, "", args)
      n = split(args, a, ",")
      ret = ""; if (match(line, /= 0x[0-9A-Fa-f]+/)) ret = substr(line, RSTART + 2, RLENGTH - 2)
      # Addresses are keys as printed: valgrind writes every one the same way.
      if (fn == "free") { p = a[1]; if (p in live) { cur -= live[p]; delete live[p] }; next }
      if (fn == "malloc") size = a[1]
      else if (fn == "calloc") size = a[1] * a[2]
      else if (fn == "memalign") size = a[2]
      else if (fn == "realloc") { p = a[1]; size = a[2]; if (p in live) { cur -= live[p]; delete live[p] } }
      if (ret == "" || ret ~ /^0x0+$/) next
      live[ret] = size + 0; cur += size
      if (cur > max) max = cur
    }
    END { print max + 0 }'
}

# ---- the crafted program: 72 B marked by massif, 80 B useful peak ---------------------------------
prog="$LL_PROGRAMS/massif_slop_peak"
if ! "$LEAKLAB" massif -o "$tmp/slop" -- "$prog" >"$tmp/stdout" 2>"$tmp/stderr"; then
  fail "massif on massif_slop_peak: $(tail -3 "$tmp/stderr")"
else
  # massif's own peak snapshot (heap_tree=peak) is the first moment of the highest useful+extra.
  peak_snap=$(awk -F= '/^mem_heap_B=/ { h = $2 } /^mem_heap_extra_B=/ { e = $2 }
                      /^heap_tree=peak/ { print h, e }' "$tmp/slop/massif.out")
  [ "$peak_snap" = "72 8" ] || fail "massif's marked peak (useful extra): '$peak_snap', expected '72 8'"
  [ "$(leaklab_peak "$tmp/slop/leaklab.capture")" = 80 ] || fail "leaklab's peak: $(leaklab_peak "$tmp/slop/leaklab.capture")"
fi
[ "$(valgrind_useful_max "$prog")" = 80 ] || fail "valgrind's trace: useful max $(valgrind_useful_max "$prog"), expected 80"

# ---- the lesson where it was seen: valgrind's own events reach leaklab's peak exactly -------------
if lesson_built method_cache; then
  out="$tmp/mc"
  if ! "$LEAKLAB" massif method_cache:per_instance --scale 0.05 -o "$out" >"$tmp/stdout" 2>"$tmp/stderr"; then
    fail "massif on method_cache:per_instance: $(tail -3 "$tmp/stderr")"
  else
    lp=$(leaklab_peak "$out/leaklab.capture")
    vp=$(valgrind_useful_max "$LL_BUILD_DIR/scenarios/method_cache" --variant per_instance --scale 0.05)
    [ -n "$lp" ] && [ "$lp" = "$vp" ] || fail "per_instance: leaklab's peak $lp, valgrind's traced useful max $vp"
    # Any gap in the comparison must be the explained one: leaklab above massif, within its total.
    if ! grep -q "peak (requested bytes) .*equal:" "$tmp/stdout"; then
      grep -q "note: massif marks as its peak the first moment its total is highest" "$tmp/stdout" ||
        fail "per_instance: peaks differ without the note: $(head -6 "$tmp/stdout")"
      read -r mh me < <(awk -F= '/^mem_heap_B=/ { h = $2 } /^mem_heap_extra_B=/ { e = $2 }
                                 /^heap_tree=peak/ { print h, e }' "$out/massif.out")
      [ "$lp" -gt "$mh" ] && [ "$lp" -le $((mh + me)) ] || fail "per_instance: leaklab $lp outside massif's $mh..$((mh + me))"
    fi
  fi
fi

finish "massif_slop_peak: all passed"
