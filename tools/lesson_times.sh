#!/usr/bin/env bash
# lesson_times.sh - the time side of the state_churn, chunked and memo_tables lessons: CPU time per run (perf stat), best of interleaved runs, each run's peak and counts from leaklab, and where the time goes (perf record); prints the READMEs' tables.
# usage: tools/lesson_times.sh LESSON [BUILD_DIR]     LESSON: state_churn, chunked or memo_tables
#   LL_RUNS=R   timed runs per row (default 5). The rows are timed round-robin, R rounds, and
#               each row keeps its fastest run, so a burst of load on a shared machine hits
#               every row alike; the table's header says the load average before and after.
# Times are CPU time (perf stat's task-clock: what the process itself ran, not the time it
# waited for a core), or wall time when perf cannot count here. Compare rows as ratios.
set -euo pipefail

lesson=${1:-}
build=${2:-build/default}
cd "$(dirname "$0")/.."
leaklab=$build/leaklab
prog=$build/scenarios/$lesson
case $lesson in
  state_churn | chunked | memo_tables) ;;
  *) echo "lesson_times: LESSON must be state_churn, chunked or memo_tables, got '$lesson'" >&2; exit 2 ;;
esac
[ -x "$leaklab" ] && [ -x "$prog" ] ||
  { echo "lesson_times: $leaklab or $prog is missing: run 'make build'" >&2; exit 3; }
runs=${LL_RUNS:-5}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "lesson_times: LL_RUNS wants a whole number >= 1, got '$runs'" >&2; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# perf stat counts the process's own CPU time where the kernel lets it (a container may not).
if perf stat -x, -e task-clock -o "$T/probe" true >/dev/null 2>&1 && grep -q task-clock "$T/probe"; then
  clock="CPU time (perf stat task-clock)"
else
  clock="wall time (perf stat cannot count here)"
fi

# ms ARGS...: milliseconds one run of the lesson program with ARGS took (output discarded).
ms() {
  if [[ $clock == CPU* ]]; then
    perf stat -x, -e task-clock -o "$T/stat" "$prog" "$@" >/dev/null
    awk -F, '/task-clock/ { printf "%.1f\n", $1 }' "$T/stat"
  else
    local t0 t1
    t0=$(date +%s%N)
    "$prog" "$@" >/dev/null
    t1=$(date +%s%N)
    awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f\n", d / 1e6 }'
  fi
}

# time_rows: rows[i] holds one row's program arguments; best[i] becomes its fastest time.
time_rows() {
  local r i t
  best=()
  for ((r = 0; r < runs; r++)); do
    for i in "${!rows[@]}"; do
      # shellcheck disable=SC2086 # a row is a list of arguments
      t=$(ms ${rows[$i]})
      if [[ -z ${best[$i]:-} ]] || awk -v a="$t" -v b="${best[$i]}" 'BEGIN { exit !(a < b) }'; then
        best[i]=$t
      fi
    done
  done
}

# record ARGS...: records one run under leaklab into $T/cap.llcap (stdout in $T/out).
record() {
  "$leaklab" run --no-report -o "$T/cap.llcap" -- "$prog" "$@" >"$T/out" 2>"$T/err" ||
    { echo "lesson_times: leaklab run $prog $* failed: $(tail -3 "$T/err")" >&2; exit 3; }
}
json() { # FIELD: a top-level number of the last recording's JSON report
  "$leaklab" report "$T/cap.llcap" --format json | sed -n "s/^  \"$1\": \([0-9]*\),\$/\1/p"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { r = a / b; printf(r >= 10 ? "%.0fx" : "%.1fx", r) }'; }
commas() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta' <<<"$1"; }

# profile SHARE_LIMIT ARGS...: where one run spends its time: perf record's samples per function
# (and per binary), the functions with SHARE_LIMIT % of the samples or more.
profile() {
  local limit=$1
  shift
  if [[ $clock != CPU* ]] || ! perf record -q -e cpu-clock -F 999 -o "$T/perf.data" -- "$prog" "$@" >/dev/null 2>"$T/perr"; then
    echo "(perf record cannot sample here)"
    return
  fi
  local n
  n=$(perf report -i "$T/perf.data" --stdio --no-children --sort dso -n 2>/dev/null |
    awk '/^ +[0-9.]+%/ { n += $2 } END { print n + 0 }')
  echo "perf record -e cpu-clock -F 999 -- $lesson $*: $n samples"
  echo
  echo "| share | in |"
  echo "| ---: | --- |"
  perf report -i "$T/perf.data" --stdio --no-children --sort dso --percent-limit "$limit" 2>/dev/null |
    awk '/^ +[0-9.]+%/ { printf "| %s | %s |\n", $1, $2 }'
  echo
  echo "| share | function |"
  echo "| ---: | --- |"
  perf report -i "$T/perf.data" --stdio --no-children --sort dso,symbol --percent-limit "$limit" 2>/dev/null |
    awk '/^ +[0-9.]+%/ { printf "| %s | `%s` (%s) |\n", $1, $4, $2 }'
}

read -r load_before _ </proc/loadavg
header() {
  local load_after
  read -r load_after _ </proc/loadavg
  echo "$lesson on $(date -u +%Y-%m-%d), $(nproc) CPUs, load average $load_before before and $load_after after;"
  echo "$clock, fastest of $runs runs per row, rows interleaved."
  echo
}

case $lesson in
state_churn)
  rows=("--variant copying" "--variant in_place" "--variant arithmetic")
  time_rows
  header
  echo "| variant | allocations | time | copying's time / this |"
  echo "| --- | ---: | ---: | ---: |"
  for i in "${!rows[@]}"; do
    # shellcheck disable=SC2086
    record ${rows[$i]}
    echo "| ${rows[$i]#--variant } | $(commas "$(json total_allocations)") | ${best[$i]} ms | $(ratio "${best[0]}" "${best[$i]}") |"
  done
  echo
  profile 3 --variant copying
  ;;
chunked)
  chunks=(256 1024 4096 16384 65536 131072 262144 1048576 5000000)
  rows=("--variant full" "--variant streaming")
  for c in "${chunks[@]}"; do rows+=("--variant chunked --chunk $c"); done
  time_rows
  for i in "${!rows[@]}"; do
    if [[ ${rows[$i]} == *"--chunk 4096" ]]; then ref=${best[$i]}; fi
  done
  header
  echo "| variant | chunk (terms) | buffer | peak (B) | time | vs chunk 4096 |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  for i in "${!rows[@]}"; do
    # shellcheck disable=SC2086
    record ${rows[$i]}
    read -r _ v _ c <<<"${rows[$i]}"
    case $v in
      full) what="- | 3 x 40,000,000 B" ;;
      streaming) what="- | none" ;;
      *) what="$(commas "$c") | $(commas $((c * 8))) B" ;;
    esac
    echo "| $v | $what | $(commas "$(json peak_bytes)") | ${best[$i]} ms | $(ratio "${best[$i]}" "$ref") |"
  done
  ;;
memo_tables)
  rows=("--variant naive" "--variant memoized" "--variant memoized --memo-size 100000"
    "--variant memoized --memo-size 10000" "--variant precomputed"
    "--variant naive --scale 0.01" "--variant memoized --scale 0.01"
    "--variant precomputed --scale 0.01")
  time_rows
  header
  echo "| run | events | memo hits | rule evaluations | peak (B) | time | vs naive |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for i in "${!rows[@]}"; do
    # shellcheck disable=SC2086
    record ${rows[$i]}
    events=$(sed -n 's/^validator: .*, \([0-9]*\) events$/\1/p' "$T/out")
    evals=$(sed -n 's/^validator work: \([0-9]*\) rule evaluations$/\1/p' "$T/out")
    hits=$(sed -n 's/^memo hits: \([0-9]*\), misses: [0-9]*$/\1/p' "$T/out")
    if [[ -n $hits ]]; then
      hits="$(commas "$hits") ($(awk -v h="$hits" -v e="$events" 'BEGIN { printf "%.1f%%", 100 * h / e }'))"
    else
      hits=-
    fi
    # Each row against naive at the same scale (the first row of that scale).
    [[ ${rows[$i]} == "--variant naive"* ]] && naive=${best[$i]}
    echo "| ${rows[$i]#--variant } | $(commas "$events") | $hits | $(commas "$evals") | $(commas "$(json peak_bytes)") | ${best[$i]} ms | $(ratio "${best[$i]}" "$naive") |"
  done
  echo
  profile 2 --variant memoized
  ;;
esac
