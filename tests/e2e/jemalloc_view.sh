#!/usr/bin/env bash
# jemalloc_view.sh - recording on jemalloc: per-line usable bytes are what malloc_usable_size tells the program, jemalloc's own figures appear (and hold jemalloc's invariants), --usable text, --allocator for check and the valgrind verbs.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# "line size usable count" per site of a JSON report (sites are one line each).
sites() {
  sed -n 's/^ *{"file": "[^"]*", "line": \([0-9]*\), "function": "[^"]*", "size": \([0-9]*\), "usable": \([0-9]*\), "count": \([0-9]*\),.*/\1 \2 \3 \4/p' "$1"
}

# ---- usable bytes per line = malloc_usable_size as the program saw it, on both allocators --------
for alloc in jemalloc glibc; do
  if ! "$LEAKLAB" run --allocator "$alloc" -o "$tmp/us-$alloc.llcap" -- "$LL_PROGRAMS/usable_sizes" \
      >"$tmp/us-$alloc.out" 2>"$tmp/us-$alloc.err"; then
    fail "run --allocator $alloc usable_sizes: $(tail -3 "$tmp/us-$alloc.err")"
    continue
  fi
  "$LEAKLAB" report "$tmp/us-$alloc.llcap" --at peak --format json >"$tmp/us-$alloc.json"
  sites "$tmp/us-$alloc.json" >"$tmp/us-$alloc.sites"
  [ "$(wc -l <"$tmp/us-$alloc.out")" = 11 ] || fail "$alloc: usable_sizes printed $(wc -l <"$tmp/us-$alloc.out") lines"
  while read -r line size usable; do
    got=$(awk -v l="$line" '$1 == l { print $2, $3, $4 }' "$tmp/us-$alloc.sites")
    [ "$got" = "$size $usable 1" ] ||
      fail "$alloc: usable_sizes.c:$line asked $size B, the program saw $usable B usable; the report says '$got' (size usable count)"
  done <"$tmp/us-$alloc.out"
done
# The two allocators really differ (jemalloc's classes are not glibc's chunks): 17 B is the witness.
if [ -s "$tmp/us-jemalloc.out" ] && [ -s "$tmp/us-glibc.out" ]; then
  cmp -s "$tmp/us-jemalloc.out" "$tmp/us-glibc.out" && fail "glibc and jemalloc gave the same usable sizes: was jemalloc used?"
fi

# ---- jemalloc's own figures: present on jemalloc only, and what jemalloc guarantees --------------
grep -q '"jemalloc": {"at": "end"' "$tmp/us-jemalloc.json" || fail "no jemalloc object in the JSON report"
if grep -q '"jemalloc"' "$tmp/us-glibc.json"; then fail "a jemalloc object on glibc"; fi
grep -q '^jemalloc at end: allocated=.*, active=.*, resident=.*, mapped=' "$tmp/us-jemalloc.err" ||
  fail "run's summary lacks the jemalloc line: $(head -3 "$tmp/us-jemalloc.err")"
if grep -q '^jemalloc at end' "$tmp/us-glibc.err"; then fail "run on glibc printed a jemalloc line"; fi
"$LEAKLAB" report "$tmp/us-jemalloc.llcap" >"$tmp/text"
sed -n 2p "$tmp/text" | grep -q '^jemalloc at end: allocated=' || fail "report: the jemalloc line is not right after the heading"

je_check() { # LABEL CAPTURE: jemalloc's invariants against leaklab's end
  local label=$1 cap=$2 allocated active resident mapped end_usable page
  "$LEAKLAB" report "$cap" --format json >"$tmp/je.json"
  "$LEAKLAB" report "$cap" --at end --format json >"$tmp/end.json"
  allocated=$(grep -o '"allocated": [0-9]*' "$tmp/je.json" | grep -o '[0-9]*$')
  active=$(grep -o '"active": [0-9]*' "$tmp/je.json" | grep -o '[0-9]*$')
  resident=$(grep -o '"resident": [0-9]*' "$tmp/je.json" | grep -o '[0-9]*$')
  mapped=$(grep -o '"mapped": [0-9]*' "$tmp/je.json" | grep -o '[0-9]*$')
  end_usable=$(sites "$tmp/end.json" | awk '{ s += $3 } END { print s + 0 }')
  page=$(getconf PAGESIZE)
  if [ -z "$allocated" ] || [ -z "$active" ] || [ -z "$resident" ] || [ -z "$mapped" ]; then
    fail "$label: jemalloc figures missing"
    return
  fi
  # stats.allocated counts the size classes of every block jemalloc has handed out and not got
  # back: the program's live blocks (leaklab's end, usable bytes) and more (its own, cached ones).
  [ "$allocated" -ge "$end_usable" ] || fail "$label: allocated $allocated < live usable at end $end_usable"
  [ "$active" -ge "$allocated" ] || fail "$label: active $active < allocated $allocated"
  [ "$resident" -ge "$active" ] || fail "$label: resident $resident < active $active"
  [ "$mapped" -ge "$active" ] || fail "$label: mapped $mapped < active $active"
  [ $((active % page)) = 0 ] || fail "$label: active $active is not whole pages"
  [ $((resident % page)) = 0 ] || fail "$label: resident $resident is not whole pages"
}
je_check usable_sizes "$tmp/us-jemalloc.llcap"

# ---- --usable: appended to each text line, and only when asked ------------------------------------
"$LEAKLAB" report "$tmp/us-jemalloc.llcap" --top 0 --usable >"$tmp/usable.txt"
while read -r line size usable; do
  grep -q "usable_sizes.c:$line: size=.*, count=1, average=.*, usable=" "$tmp/usable.txt" ||
    fail "--usable: no usable= on line $line"
done <"$tmp/us-jemalloc.out"
grep -q 'usable_sizes.c:[0-9]*: size=17 B, count=1, average=17 B, usable=[0-9]* B$' "$tmp/usable.txt" ||
  fail "--usable: 17 B line: $(grep 'size=17 B' "$tmp/usable.txt")"
if grep -q 'usable=' "$tmp/text"; then fail "usable= without --usable"; fi
"$LEAKLAB" diff "$tmp/us-glibc.llcap" "$tmp/us-jemalloc.llcap" --usable >"$tmp/diff.txt" || fail "diff --usable"
grep -q 'size=17 B (+0 B), count=1 (+0), average=17 B, usable=' "$tmp/diff.txt" || fail "diff --usable: $(cat "$tmp/diff.txt")"
set +e
"$LEAKLAB" report "$tmp/us-jemalloc.llcap" --format json --usable >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "--usable with json: exit $rc, not 2"

# ---- lesson 2 on jemalloc: each line's usable total is count x the class of its object size -------
# (Without usable_sizes' lines there is nothing to compare with: that has failed above already.)
if [ -s "$tmp/us-jemalloc.out" ] && lesson_built slots_vs_dict; then
  if ! "$LEAKLAB" run --allocator jemalloc -o "$tmp/dict.llcap" slots_vs_dict:dict --scale 0.01 \
      >"$tmp/dict.out" 2>"$tmp/dict.err"; then
    fail "run slots_vs_dict:dict on jemalloc: $(tail -3 "$tmp/dict.err")"
  else
    # "sizeof: header 24 B, attribute dict 136 B, boxed int 24 B"
    objsizes=$(sed -n 's/^sizeof: header \([0-9]*\) B, attribute dict \([0-9]*\) B, boxed int \([0-9]*\) B$/\1 \2 \3/p' "$tmp/dict.out")
    [ -n "$objsizes" ] || fail "slots_vs_dict printed no sizeof line: $(cat "$tmp/dict.out")"
    "$LEAKLAB" report "$tmp/dict.llcap" --format json >"$tmp/dict.json"
    n=0
    while read -r line size usable count; do
      [ "$count" -ge 1000 ] || continue # the per-object lines (10000 objects at this scale)
      n=$((n + 1))
      [ $((size % count)) = 0 ] && [ $((usable % count)) = 0 ] ||
        { fail "dict line $line: size $size / usable $usable not a multiple of count $count"; continue; }
      per=$((size / count))
      case " $objsizes " in *" $per "*) ;; *) fail "dict line $line: $per B per block is none of the sizes printed ($objsizes)";; esac
      # jemalloc's class for that size, as usable_sizes saw it through malloc_usable_size.
      class=$(awk -v s="$per" '$2 == s { print $3; exit }' "$tmp/us-jemalloc.out")
      [ -n "$class" ] || { fail "usable_sizes does not cover $per B"; continue; }
      [ $((usable / count)) = "$class" ] || fail "dict line $line: $((usable / count)) B usable per block, jemalloc's class for $per B is $class B"
    done < <(sites "$tmp/dict.json")
    [ "$n" -ge 3 ] || fail "slots_vs_dict:dict: $n per-object lines, expected 3"
    je_check slots_vs_dict "$tmp/dict.llcap"
  fi
fi

# ---- check passes --allocator on to run ----------------------------------------------------------
if "$LEAKLAB" check --allocator jemalloc --limit-memory 1MB -o "$tmp/check.llcap" -- "$LL_PROGRAMS/usable_sizes" \
    >/dev/null 2>"$tmp/check.err"; then
  grep -q '"jemalloc"' <("$LEAKLAB" report "$tmp/check.llcap" --format json) || fail "check --allocator jemalloc did not record on jemalloc"
  grep -q "^PASS: " "$tmp/check.err" || fail "check: $(cat "$tmp/check.err")"
else
  fail "check --allocator jemalloc: $(tail -3 "$tmp/check.err")"
fi
set +e
"$LEAKLAB" check --allocator tcmalloc --limit-memory 1MB -- "$LL_PROGRAMS/usable_sizes" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "tcmalloc" "$tmp/err" || fail "check --allocator tcmalloc: exit $rc: $(cat "$tmp/err")"

# ---- massif with --allocator jemalloc: the note, and the peaks still compare ----------------------
if command -v valgrind >/dev/null; then
  if "$LEAKLAB" massif --allocator jemalloc -o "$tmp/vg" -- "$LL_PROGRAMS/usable_sizes" >"$tmp/vg.out" 2>"$tmp/vg.err"; then
    grep -q "note: under valgrind the program allocates from valgrind's own malloc" "$tmp/vg.err" || fail "massif: no allocator note"
    grep -q "peak (requested bytes) .*equal:" "$tmp/vg.out" || fail "massif on jemalloc: peaks differ: $(cat "$tmp/vg.out")"
    grep -q '"jemalloc"' <("$LEAKLAB" report "$tmp/vg/leaklab.capture" --format json) || fail "massif: leaklab's recording was not on jemalloc"
  else
    fail "massif --allocator jemalloc: $(tail -3 "$tmp/vg.err")"
  fi
else
  fail "valgrind is not installed"
fi

finish "jemalloc_view: all passed"
