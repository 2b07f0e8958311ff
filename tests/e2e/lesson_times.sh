#!/usr/bin/env bash
# lesson_times.sh - tools/lesson_times.sh reproduces the tables the lessons quote: every column but the times, exactly, and the profiles' top entries; with LL_CHECK_TIMES=1 (make bench) also the times' orderings the READMEs draw conclusions from.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# Times are a benchmark's business, not a test's (a loaded CI machine can reorder them): under
# make test one timed run per row, the orderings checked only when bench/run.sh asks.
check_times=${LL_CHECK_TIMES:-0}

# table FILE: the first Markdown table in FILE with its last two columns (time, ratio) cut off.
table() {
  awk '/^\|/ { on = 1; print; next } on { exit }' "$1" | sed -E 's/ [^|]* \| [^|]* \|$//'
}
# ms FILE ROW: the time column (ms) of the row starting "| ROW |".
ms() {
  awk -v row="| $2 |" 'index($0, row) == 1 { n = split($0, c, / \| /); v = c[n - 1]; sub(/ ms$/, "", v); print v; exit }' "$1"
}
# ratio FILE A B FACTOR TEST WORDS: the awk TEST holds for a (row A's ms), b (row B's) and k
# (FACTOR); else the failure says row A took a ms, "not WORDS FACTOR x" row B.
ratio() {
  [[ $check_times = 1 ]] || return 0
  local a b
  a=$(ms "$1" "$2")
  b=$(ms "$1" "$3")
  [[ -n $a && -n $b ]] || { fail "$1: no time for '$2' or '$3': $(cat "$1")"; return; }
  awk -v a="$a" -v b="$b" -v k="$4" "BEGIN { exit !($5) }" ||
    fail "$(basename "$1"): '$2' took $a ms, not $6 $4 x '$3' ($b ms)"
}
# faster FILE SLOW FAST FACTOR: row SLOW took more than FACTOR times row FAST (ratios the READMEs
# draw conclusions from, large enough to hold on a loaded machine).
faster() { ratio "$1" "$2" "$3" "$4" 'a > k * b' 'more than'; }
# within FILE ROW REF FACTOR: row ROW took less than FACTOR times row REF (no slower, give or take).
within() { ratio "$1" "$2" "$3" "$4" 'a < k * b' 'less than'; }


# measure LESSON RUNS: runs the script (RUNS timed runs per row: more where runs are cheap, for
# steadier ratios on a loaded machine) into $tmp/LESSON.md and compares the README's block
# between its lesson_times markers with it, times aside. 1 when it could not run.
measure() {
  local lesson=$1 readme=$LL_SOURCE_DIR/scenarios/$1/README.md
  LL_RUNS=$([[ $check_times = 1 ]] && echo "$2" || echo 1) "$LL_SOURCE_DIR/tools/lesson_times.sh" "$lesson" "$LL_BUILD_DIR" >"$tmp/$lesson.md" 2>"$tmp/err" ||
    { fail "$lesson: tools/lesson_times.sh failed: $(tail -3 "$tmp/err")"; return 1; }
  sed -n "/^<!-- lesson_times ${lesson}[: ]/,/^<!-- \/lesson_times -->/p" "$readme" >"$tmp/$lesson.readme"
  [[ -s $tmp/$lesson.readme ]] || { fail "$lesson: README.md has no lesson_times block"; return 0; }
  table "$tmp/$lesson.readme" >"$tmp/want"
  table "$tmp/$lesson.md" >"$tmp/got"
  [[ $(wc -l <"$tmp/want") -gt 2 ]] || fail "$lesson: README's lesson_times block has no table"
  diff -u "$tmp/want" "$tmp/got" >"$tmp/diff" ||
    fail "$lesson: the README's table differs from tools/lesson_times.sh's (times aside): $(cat "$tmp/diff")"
}
# sampled LESSON: perf record could sample the lesson's run here.
sampled() { ! grep -q 'cannot sample' "$tmp/$1.md"; }

# state_churn: copying is many times in_place, in_place many times arithmetic, and when perf
# can sample, copying's time is mostly in libc's allocator.
if measure state_churn 3; then
  faster "$tmp/state_churn.md" copying in_place 3
  faster "$tmp/state_churn.md" in_place arithmetic 3
  if sampled state_churn; then
    awk '/^\| share \| in \|/ { t = 1; next } t && /^\| [0-9]/ { print; exit }' "$tmp/state_churn.md" |
      grep -q '| libc\.so\.6 |' || fail "state_churn: copying's time is not mostly in libc: $(cat "$tmp/state_churn.md")"
  fi
fi

# chunked: whole arrays are several times one 4,096-term chunk; the chunk's time is flat while
# its buffer sits well inside the caches (1 MiB here) and climbs once it outgrows the L3 (at the
# L3's own size, 8 MiB, it depends on the L3's other users); streaming is the fastest. (The
# README's figure block checks the same orderings at every lesson_outputs.py run.)
if measure chunked 3; then
  faster "$tmp/chunked.md" full "chunked | 4,096" 1.5
  faster "$tmp/chunked.md" "chunked | 5,000,000" "chunked | 4,096" 1.5
  faster "$tmp/chunked.md" "chunked | 4,096" streaming 1.2
  within "$tmp/chunked.md" "chunked | 131,072" "chunked | 4,096" 1.5
fi

# memo_tables: the memo is slower than recomputing, the table faster; the half-megabyte memo
# beats the 4.8 MiB one; the table is many times naive at 30,000 events; when perf can sample,
# the lookup is memoized's top function.
if measure memo_tables 1; then
  faster "$tmp/memo_tables.md" memoized naive 1.1
  faster "$tmp/memo_tables.md" naive precomputed 1.1
  faster "$tmp/memo_tables.md" "memoized --memo-size 100000" "memoized --memo-size 10000" 1.2
  faster "$tmp/memo_tables.md" "precomputed --scale 0.01" "naive --scale 0.01" 10
  if sampled memo_tables; then
    awk '/^\| share \| function \|/ { t = 1; next } t && /^\| [0-9]/ { print; exit }' "$tmp/memo_tables.md" |
      grep -q '`mt_memo_get`' || fail "memo_tables: mt_memo_get is not memoized's top function: $(cat "$tmp/memo_tables.md")"
  fi
fi

finish "lesson_times: ok"
