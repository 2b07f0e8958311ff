#!/usr/bin/env bash
# report_massif.sh - `leaklab report CAPTURE --format massif`: ms_print reads the file, its peak is leaklab's peak_bytes; bad option mixes are usage errors.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

need ms_print "apt-get install valgrind"

# ms_print's table row for the peak: the snapshot ms_print itself marks as the peak in its
# list "Detailed snapshots: [1 (peak), 2]"; prints its useful-heap column.
ms_print_peak() {
  local out n
  out=$(ms_print "$1")
  n=$(printf '%s\n' "$out" | sed -n 's/^ *Detailed snapshots: \[.*\b\([0-9][0-9]*\) (peak).*/\1/p')
  [ -n "$n" ] || return 1
  printf '%s\n' "$out" | awk -v n="$n" '$1 == n && NF == 6 { gsub(",", "", $4); print $4; exit }'
}

check_export() { # LABEL CAPTURE
  local label=$1 cap=$2 want got
  "$LEAKLAB" report "$cap" --format json >"$tmp/json" || { fail "$label: json report"; return; }
  want=$(json_num peak_bytes "$tmp/json")
  if ! "$LEAKLAB" report "$cap" --format massif -o "$tmp/$label.massif" 2>"$tmp/err"; then
    fail "$label: report --format massif: $(cat "$tmp/err")"
    return
  fi
  ms_print "$tmp/$label.massif" >"$tmp/ms" 2>"$tmp/ms_err" || { fail "$label: ms_print rejects the export: $(cat "$tmp/ms_err")"; return; }
  [ ! -s "$tmp/ms_err" ] || fail "$label: ms_print complained: $(cat "$tmp/ms_err")"
  got=$(ms_print_peak "$tmp/$label.massif") || got=""
  [ -n "$want" ] && [ "$got" = "$want" ] || fail "$label: ms_print's peak '$got', leaklab's peak_bytes '$want'"
  # The same bytes on stdout without -o.
  "$LEAKLAB" report "$cap" --format massif >"$tmp/stdout.massif" || fail "$label: massif to stdout"
  cmp -s "$tmp/stdout.massif" "$tmp/$label.massif" || fail "$label: stdout and -o differ"
}

# ---- a known program: 216700 B at the peak ------------------------------------------------------
"$LEAKLAB" run -o "$tmp/pattern.llcap" -- "$LL_PROGRAMS/massif_pattern" >/dev/null 2>"$tmp/run_err" ||
  fail "run massif_pattern: $(tail -3 "$tmp/run_err")"
check_export pattern "$tmp/pattern.llcap"
[ "$(ms_print_peak "$tmp/pattern.massif")" = 216700 ] || fail "massif_pattern's exported peak is not 216700 B"
ms_print "$tmp/pattern.massif" | grep -q "big_block (.*massif_pattern.c:41)" || fail "export lacks big_block's node"

# ---- a lesson run --------------------------------------------------------------------------------
if lesson_built method_cache; then
  "$LEAKLAB" run -o "$tmp/lesson.llcap" method_cache:per_instance --scale 0.05 >/dev/null 2>"$tmp/run_err" ||
    fail "run method_cache: $(tail -3 "$tmp/run_err")"
  check_export lesson "$tmp/lesson.llcap"
fi

# ---- options that make no sense with a massif.out are usage errors naming the option ------------
for opt in "--at end" "--group-by filename" "--top 3" "--cumulative" "--usable"; do
  name=${opt%% *}
  set +e
  # shellcheck disable=SC2086
  "$LEAKLAB" report "$tmp/pattern.llcap" --format massif $opt >/dev/null 2>"$tmp/err"
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "--format massif $opt: exit $rc, not 2"
  grep -q -- "$name cannot be used with --format massif" "$tmp/err" || fail "--format massif $opt: $(cat "$tmp/err")"
done
set +e
"$LEAKLAB" diff "$tmp/pattern.llcap" "$tmp/pattern.llcap" --format massif >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "diff --format massif: exit $rc, not 2"

finish "report_massif: all passed"
