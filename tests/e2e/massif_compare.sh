#!/usr/bin/env bash
# massif_compare.sh - a known program and a lesson under `leaklab massif` / `memcheck`: massif's peak equals leaklab's, ms_print reads both files.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

need valgrind
need ms_print

# The largest mem_heap_B of a massif.out. Not just the heap_tree=peak snapshot's: massif marks a
# peak only when a free follows it, so a heap that grows after its last free peaks later.
massif_peak() {
  awk -F= '/^mem_heap_B=/ { if ($2 + 0 > max + 0) max = $2 } END { print max + 0 }' "$1"
}

# ms_print's useful-heap column of snapshot N.
ms_print_useful() {
  ms_print "$1" | awk -v n="$2" '$1 == n && NF == 6 { gsub(",", "", $4); print $4; exit }'
}

# ---- the known program: 216700 B at the peak, 4556 B at exit ------------------------------------
out="$tmp/pattern"
if ! "$LEAKLAB" massif -o "$out" -- "$LL_PROGRAMS/massif_pattern" >"$tmp/stdout" 2>"$tmp/stderr"; then
  fail "massif on massif_pattern: $(tail -3 "$tmp/stderr")"
else
  grep -q "valgrind done in" "$tmp/stderr" || fail "no progress lines on stderr"
  [ "$(massif_peak "$out/massif.out")" = 216700 ] || fail "massif's peak: $(massif_peak "$out/massif.out")"
  [ "$(leaklab_peak "$out/leaklab.capture")" = 216700 ] ||
    fail "leaklab's peak: $(leaklab_peak "$out/leaklab.capture")"
  grep -q "peak (requested bytes) .*equal: 216700 B" "$tmp/stdout" || fail "peak not equal: $(cat "$tmp/stdout")"
  grep -q "at exit (massif: last snap.) .*equal: 4556 B" "$tmp/stdout" || fail "exit not equal: $(cat "$tmp/stdout")"
  # Every line at massif's peak, strdup's included (attributed to its caller), matches leaklab's.
  for want in "massif_pattern.c:41: size=195 KiB" "massif_pattern.c:22: size=8672 B" \
      "massif_pattern.c:31: size=5000 B" "massif_pattern.c:49: size=3000 B" "massif_pattern.c:50: size=28 B"; do
    grep -qF "$want   | leaklab: size=" "$tmp/stdout" || fail "no '$want' beside leaklab's"
  done
  [ "$(grep -c '(equal)$' "$tmp/stdout")" = 5 ] || fail "not every line equal: $(cat "$tmp/stdout")"
  # ms_print reads massif's file and leaklab's export; both peaks are the same.
  for f in massif.out leaklab-massif.out; do
    ms_print "$out/$f" >/dev/null 2>"$tmp/ms_err" || fail "ms_print $f: $(cat "$tmp/ms_err")"
  done
  [ "$(ms_print_useful "$out/leaklab-massif.out" 1)" = 216700 ] ||
    fail "ms_print's peak of the export: $(ms_print_useful "$out/leaklab-massif.out" 1)"
  ms_print "$out/leaklab-massif.out" | grep "big_block (.*massif_pattern.c:41)" >/dev/null ||
    fail "export lacks big_block's node"
  # The verb reads back its own files.
  "$LEAKLAB" massif --file "$out/massif.out" --capture "$out/leaklab.capture" >"$tmp/again" ||
    fail "--file --capture failed"
  grep -q "equal: 216700 B" "$tmp/again" || fail "--file --capture: $(cat "$tmp/again")"
fi

# memcheck on the same program: the string is lost, the table still reachable.
if ! "$LEAKLAB" memcheck -o "$tmp/mc" -- "$LL_PROGRAMS/massif_pattern" >"$tmp/stdout" 2>"$tmp/stderr"; then
  fail "memcheck on massif_pattern: $(tail -3 "$tmp/stderr")"
else
  # Each kind: memcheck's bytes, blocks, exact bytes | leaklab's exit scan, the same.
  grep -Eq "^  definitely lost +28 B +1 +28 +\| +28 B +1 +28$" "$tmp/stdout" || fail "definitely lost: $(cat "$tmp/stdout")"
  grep -Eq "^  still reachable +4528 B +4 +4528 +\| +4528 B +4 +4528$" "$tmp/stdout" || fail "still reachable: $(cat "$tmp/stdout")"
  grep -q "^  memcheck and leaklab agree on all four kinds$" "$tmp/stdout" || fail "kinds: $(cat "$tmp/stdout")"
  grep -qF "massif_pattern.c:50: size=28 B, count=1 (definitely lost)   | leaklab: size=28 B, count=1" "$tmp/stdout" ||
    fail "lost string not beside leaklab's"
  if grep -q "Why memcheck finds no leak" "$tmp/stdout"; then fail "explained a leak memcheck found"; fi
fi

# ---- a lesson: the method cache, leaky, at a small scale ---------------------------------------
if lesson_built method_cache; then
  out="$tmp/lesson"
  if ! "$LEAKLAB" massif method_cache:leaky --scale 0.05 -o "$out" >"$tmp/stdout" 2>"$tmp/stderr"; then
    fail "massif on method_cache:leaky: $(tail -3 "$tmp/stderr")"
  else
    mp=$(massif_peak "$out/massif.out")
    lp=$(leaklab_peak "$out/leaklab.capture")
    [ -n "$mp" ] && [ "$mp" = "$lp" ] || fail "lesson: massif's peak $mp, leaklab's $lp"
    grep -q "peak (requested bytes) .*equal: $lp B" "$tmp/stdout" || fail "lesson: $(cat "$tmp/stdout")"
    ms_print "$out/leaklab-massif.out" >/dev/null 2>"$tmp/ms_err" || fail "ms_print lesson export: $(cat "$tmp/ms_err")"
    [ "$(ms_print_useful "$out/leaklab-massif.out" 1)" = "$lp" ] || fail "ms_print's lesson peak"
    grep -q "method_cache.c:[0-9]*: size=.*(equal)$" "$tmp/stdout" || fail "lesson: no equal line"
  fi
  if ! "$LEAKLAB" memcheck method_cache:leaky --scale 0.05 -o "$tmp/lmc" >"$tmp/stdout" 2>"$tmp/stderr"; then
    fail "memcheck on method_cache:leaky: $(tail -3 "$tmp/stderr")"
  else
    grep -Eq "^  definitely lost +0 B +0 +0 +\| +0 B +0 +0$" "$tmp/stdout" || fail "lesson: something definitely lost"
    grep -Eq "^  still reachable +[0-9.]+ [KM]iB +[1-9][0-9]* +[1-9][0-9]* +\|" "$tmp/stdout" || fail "lesson: nothing still reachable"
    grep -q "Why memcheck finds no leak" "$tmp/stdout" || fail "lesson: no explanation"
    # The cache's lines: memcheck's still-reachable records and leaklab's, the same.
    for ln in 314 194 105; do
      grep -Eq "^method_cache.c:$ln: size=.*\(still reachable\)   \| leaklab: size=[^(]*$" "$tmp/stdout" ||
        fail "lesson: method_cache.c:$ln: $(grep "method_cache.c:$ln:" "$tmp/stdout")"
    done
  fi
fi

# ---- C++: libstdc++'s emergency pool, allocated before leaklab's constructor, counts in both -----
if command -v c++ >/dev/null 2>&1; then
  c++ -O0 -g -fno-omit-frame-pointer -o "$tmp/cxx_peak" "$LL_SOURCE_DIR/tests/programs/cxx_peak.cc"
  if ! "$LEAKLAB" massif -o "$tmp/cxx" -- "$tmp/cxx_peak" >"$tmp/stdout" 2>"$tmp/stderr"; then
    fail "massif on cxx_peak: $(tail -3 "$tmp/stderr")"
  else
    mp=$(massif_peak "$tmp/cxx/massif.out")
    lp=$(leaklab_peak "$tmp/cxx/leaklab.capture")
    [[ -n $mp && $mp == "$lp" ]] || fail "C++: massif's peak $mp, leaklab's $lp"
    grep -q "peak (requested bytes) .*equal: $mp B" "$tmp/stdout" || fail "C++: $(cat "$tmp/stdout")"
    for rec in sync async; do
      "$LEAKLAB" run --no-report --recorder $rec -o "$tmp/cxx-$rec.llcap" -- "$tmp/cxx_peak" >/dev/null 2>&1 ||
        fail "C++: run --recorder $rec"
      [[ $(leaklab_peak "$tmp/cxx-$rec.llcap") == "$mp" ]] ||
        fail "C++, --recorder $rec: leaklab's peak $(leaklab_peak "$tmp/cxx-$rec.llcap"), massif's $mp"
    done
  fi
else
  fail "c++ is missing (build-essential: run make deps)"
fi

# ---- a program that crashes: both sides still shown, and the exit status is run's 128+N -----------
run "$LEAKLAB" massif -o "$tmp/crash" -- "$LL_PROGRAMS/crash" abort
[[ $status -eq 134 ]] || fail "massif on a crash: exit $status, want 134: $(tail -3 "$tmp/err")"
grep -q "peak (requested bytes) .*equal: 4300 B" "$tmp/out" || fail "massif on a crash: $(cat "$tmp/out")"
grep -q "was killed by SIGABRT" "$tmp/err" || fail "massif on a crash: not said: $(cat "$tmp/err")"

finish "massif_compare: all passed"
