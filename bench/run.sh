#!/usr/bin/env bash
# run.sh - leaklab's overhead and accuracy benchmark: workloads x tools, interleaved, medians, targets.
set -euo pipefail

# usage: bench/run.sh BUILD_DIR            (what `make bench` runs: bench/run.sh build/default)
# Environment knobs (defaults keep the whole bench near 15 minutes on 2 cores):
#   BENCH_FAST_RUNS=5   runs of untracked, jemalloc, leaklab and heaptrack
#   BENCH_SLOW_RUNS=3   runs of massif, memcheck and jemalloc's profiler
#   BENCH_PAIRS=5000000 churn's free+malloc pairs;  BENCH_SCALE=0.5 the lessons' --scale
#   BENCH_WORKLOADS="churn churn_mt ..."  a subset;  BENCH_TOOLS="untracked leaklab_line ..."
#   BENCH_OUT=reports/bench.md;  BENCH_KEEP=1 keeps the scratch directory (captures, logs)
#   BENCH_BASELINE=DIR  another build directory (an older commit's build/default): adds its
#     leaklab as tools baseline_line, baseline_16, baseline_sync_line, baseline_sync_16 and a
#     before/after table, interleaved with this build's runs (a change measured in one session)

die() { echo "bench: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: bench/run.sh BUILD_DIR (e.g. build/default; 'make bench' builds it first)"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$1" ] || die "$1: no such build directory: run 'make build' (or 'cmake --preset default && cmake --build --preset default') first"
BUILD=$(cd "$1" && pwd)

FAST_RUNS=${BENCH_FAST_RUNS:-5}
SLOW_RUNS=${BENCH_SLOW_RUNS:-3}
PAIRS=${BENCH_PAIRS:-5000000}
SCALE=${BENCH_SCALE:-0.5}
OUT=${BENCH_OUT:-$ROOT/reports/bench.md}
TSV=${OUT%.md}.tsv
LIVE_BLOCKS=1000000 # the tracker-memory probe's live set

MEASURE=$BUILD/bench/measure
CHURN=$BUILD/bench/churn
TRACKER_MEM=$BUILD/bench/tracker_mem
ENGINE_RATE=$BUILD/bench/engine_rate
FLOOR_LIB=$BUILD/bench/libllfloor.so
LEAKLAB=$BUILD/leaklab
SCN=$BUILD/scenarios
[ -f "$FLOOR_LIB" ] || die "$FLOOR_LIB is missing: build first ('make build'; bench/ must be in the CMake tree)"
for f in "$MEASURE" "$CHURN" "$TRACKER_MEM" "$ENGINE_RATE" "$LEAKLAB" "$SCN/method_cache" "$SCN/slots_vs_dict"; do
  [ -x "$f" ] || die "$f is missing: build first ('make build'; bench/ must be in the CMake tree)"
done
"$LEAKLAB" run --help >/dev/null 2>&1 || die "$LEAKLAB has no 'run' verb: the LD_PRELOAD recorder is not built"
for t in valgrind heaptrack heaptrack_print; do
  command -v "$t" >/dev/null || die "$t is not installed: run 'tools/deps.sh --bench' (or 'make bench')"
done
JEMALLOC=$( (ldconfig -p 2>/dev/null || true) | awk '/libjemalloc\.so\.2 .*x86-64|libjemalloc\.so\.2 /{print $NF; exit}')
[ -n "$JEMALLOC" ] && [ -r "$JEMALLOC" ] || die "libjemalloc.so.2 not found: install libjemalloc2 ('tools/deps.sh')"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/leaklab-bench.XXXXXX")
if [ "${BENCH_KEEP:-0}" = 1 ]; then
  echo "bench: scratch files kept in $WORK" >&2
else
  trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$(dirname "$OUT")"

# ---- workloads ------------------------------------------------------------------------------------
# name -> command (shell-quoted words), environment (VAR=value words), one-line description.
declare -A WCMD WENV WDESC
WORKLOADS=()
add_workload() { # name description env command...
  local name=$1 desc=$2 env=$3
  shift 3
  WORKLOADS+=("$name")
  WDESC[$name]=$desc
  WENV[$name]=$env
  WCMD[$name]=$(printf '%q ' "$@")
}
add_workload churn "$PAIRS free+malloc pairs of 16..256 B over 1024 live slots, 1 thread" "" \
  "$CHURN" --pairs "$PAIRS" --slots 1024
add_workload churn_mt "the same churn over 4 threads, blocks freed by the next thread (SPSC rings)" "" \
  "$CHURN" --pairs "$PAIRS" --slots 1024 --threads 4
add_workload churn_mt8 "the same churn over 8 threads (issue #18's workload): every block freed by another thread" "" \
  "$CHURN" --pairs "$PAIRS" --slots 1024 --threads 8
add_workload mc_leaky "lesson method_cache, variant leaky, --scale $SCALE (GMP, cache pins instances)" "" \
  "$SCN/method_cache" --variant leaky --scale "$SCALE"
add_workload mc_lru "lesson method_cache, variant lru (bounded cache), --scale $SCALE" "" \
  "$SCN/method_cache" --variant lru --scale "$SCALE"
add_workload svd_dict "lesson slots_vs_dict, variant dict, --scale $SCALE" "" \
  "$SCN/slots_vs_dict" --variant dict --scale "$SCALE"
add_workload svd_slots "lesson slots_vs_dict, variant slots, --scale $SCALE" "" \
  "$SCN/slots_vs_dict" --variant slots --scale "$SCALE"
if command -v xz >/dev/null; then
  # Deterministic text, about 600 KB: the same input on every machine.
  awk 'BEGIN { for (i = 0; i < 36000; i++) printf "%d %s %d\n", i, (i % 7 ? "alpha" : "omega"), (i * i) % 9973 }' \
    >"$WORK/xz-input.txt"
  add_workload xz "Debian's xz -9 -k -c of a generated 600 KB text (few, huge allocations)" "" \
    "$(command -v xz)" -9 -k -c "$WORK/xz-input.txt"
else
  echo "bench: xz not installed (Debian package xz-utils): the xz workload is skipped" >&2
fi
if [ -x /usr/bin/python3 ]; then
  # PYTHONMALLOC=malloc: every object goes through malloc, as a C program's would; a fixed hash
  # seed: the same allocations in every run, so the tools' peaks can be compared.
  add_workload python "Debian's python3, PYTHONMALLOC=malloc, a dict of 300k strings with deletes" \
    "PYTHONMALLOC=malloc PYTHONHASHSEED=0" /usr/bin/python3 -c \
    'd = {}
for i in range(300000):
    d[i] = str(i) * 3
    if i % 3 == 0: del d[i // 2]
print(len(d))'
  # A file, not -c: heaptrack's interpreter cannot parse a command line whose lines start "ts".
  cat >"$WORK/python_mt.py" <<'PY'
import threading
def work(k):
    d = {}
    for i in range(75000):
        d[i] = str(i + k) * 3
        if i % 3 == 0: del d[i // 2]
threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print("ok")
PY
  add_workload python_mt "Debian's python3, PYTHONMALLOC=malloc, 4 threads each building a dict of 75k strings" \
    "PYTHONMALLOC=malloc PYTHONHASHSEED=0" /usr/bin/python3 "$WORK/python_mt.py"
else
  echo "bench: /usr/bin/python3 not installed (Debian package python3): the python workloads are skipped" >&2
fi
if [ -n "${BENCH_WORKLOADS:-}" ]; then
  keep=()
  for w in $BENCH_WORKLOADS; do
    [ -n "${WCMD[$w]:-}" ] || die "unknown workload '$w' (known: ${WORKLOADS[*]})"
    keep+=("$w")
  done
  WORKLOADS=("${keep[@]}")
fi

# ---- tools ----------------------------------------------------------------------------------------
ALL_TOOLS=(untracked jemalloc leaklab_line leaklab_16 leaklab_sync_line leaklab_sync_16
  leaklab_report heaptrack massif memcheck jeprof floor_interpose floor_emit floor_emit_seq floor_emit16 floor_exact floor_exact16 floor_async floor_async16)
BASELINE=""
if [ -n "${BENCH_BASELINE:-}" ]; then
  [ -x "$BENCH_BASELINE/leaklab" ] || die "BENCH_BASELINE=$BENCH_BASELINE: no leaklab built there (give a build directory, e.g. ../old/build/default)"
  BASELINE=$(cd "$BENCH_BASELINE" && pwd)/leaklab
  ALL_TOOLS+=(baseline_line baseline_16 baseline_sync_line baseline_sync_16)
fi
TOOLS=(${BENCH_TOOLS:-${ALL_TOOLS[@]}})
declare -A TDESC=(
  [untracked]="the program alone (glibc malloc)"
  [jemalloc]="the program with libjemalloc preloaded, no profiling (the jeprof row's own baseline)"
  [leaklab_line]="leaklab run --no-report --frames 1 (line-level attribution; the default recorder, auto: a helper process applies the events when the program may use 2 CPUs, as here)"
  [leaklab_16]="leaklab run --no-report --frames 16 (full 16-frame stacks, default recorder)"
  [leaklab_sync_line]="leaklab run --no-report --recorder sync --frames 1 (every event applied in the program's thread)"
  [leaklab_sync_16]="leaklab run --no-report --recorder sync --frames 16"
  [leaklab_report]="leaklab run --frames 16 with its report (symbolised top lines): what a user waits for (churn only)"
  [heaptrack]="heaptrack -o FILE (Debian heaptrack $(dpkg-query -W -f='${Version}' heaptrack 2>/dev/null || echo '?'))"
  [massif]="valgrind --tool=massif --peak-inaccuracy=0 --heap-admin=0 (exact peak)"
  [memcheck]="valgrind --tool=memcheck --leak-check=full"
  [jeprof]="jemalloc heap profiler, every allocation sampled: MALLOC_CONF=prof:true,lg_prof_sample:0,prof_final:true"
  [baseline_line]="the baseline build's leaklab (BENCH_BASELINE), as leaklab_line"
  [baseline_16]="the baseline build's leaklab, as leaklab_16"
  [baseline_sync_line]="the baseline build's leaklab, as leaklab_sync_line"
  [baseline_sync_16]="the baseline build's leaklab, as leaklab_sync_16"
  [floor_interpose]="floor (bench/floor_preload.c): an interposer that only forwards every call"
  [floor_emit]="floor: + one event per call into a per-thread buffer, never read (an async recorder's producer)"
  [floor_emit_seq]="floor: floor_emit + one number per event from a counter all threads share (the cost of one global order alone)"
  [floor_emit16]="floor: the same with a 16-frame frame-pointer walk per allocation"
  [floor_exact]="floor: minimal exact line-level recording in the program's thread (live table, per-site lazy peak)"
  [floor_exact16]="floor: the same keyed by the hash of a 16-frame walk"
  [floor_async]="floor: floor_exact's bookkeeping in a consumer process fed through a shared ring (the cheapest exact async recorder)"
  [floor_async16]="floor: the same with the 16-frame walk"
)
# The floor probes are yardsticks for the churn workloads, where the targets are set.
FLOOR_WORKLOADS=" churn churn_mt churn_mt8 "
is_floor() { case $1 in floor_*) return 0 ;; *) return 1 ;; esac; }
REPORT_WORKLOADS=" churn "
is_slow() { case $1 in massif | memcheck | jeprof) return 0 ;; *) return 1 ;; esac; }

# tool_cmd TOOL WORKLOAD ROUND: sets CMD (the words to run) and ART (the tool's output file or
# prefix, "" when none) for one run.
tool_cmd() {
  local tool=$1 w=$2 r=$3 base="$WORK/$2.$1.$3"
  local -a prog env
  eval "prog=(${WCMD[$w]})"
  env=(${WENV[$w]})
  ART=""
  case $tool in
  leaklab_* | baseline_*) ART=$base.llcap ;;
  heaptrack | massif | memcheck | jeprof) ART=$base.$tool ;;
  esac
  case $tool in
  untracked) CMD=(env "${env[@]}" "${prog[@]}") ;;
  jemalloc) CMD=(env "${env[@]}" LD_PRELOAD="$JEMALLOC" "${prog[@]}") ;;
  # --no-report: recording, the capture written and its totals, as heaptrack -o and massif
  # record without heaptrack_print or ms_print; the report's own time is measured below.
  leaklab_line) CMD=(env "${env[@]}" "$LEAKLAB" run --no-report --frames 1 -o "$ART" -- "${prog[@]}") ;;
  leaklab_16) CMD=(env "${env[@]}" "$LEAKLAB" run --no-report --frames 16 -o "$ART" -- "${prog[@]}") ;;
  leaklab_sync_line) CMD=(env "${env[@]}" "$LEAKLAB" run --no-report --recorder sync --frames 1 -o "$ART" -- "${prog[@]}") ;;
  leaklab_sync_16) CMD=(env "${env[@]}" "$LEAKLAB" run --no-report --recorder sync --frames 16 -o "$ART" -- "${prog[@]}") ;;
  leaklab_report) CMD=(env "${env[@]}" "$LEAKLAB" run --frames 16 -o "$ART" -- "${prog[@]}") ;;
  baseline_line) CMD=(env "${env[@]}" "$BASELINE" run --no-report --frames 1 -o "$ART" -- "${prog[@]}") ;;
  baseline_16) CMD=(env "${env[@]}" "$BASELINE" run --no-report --frames 16 -o "$ART" -- "${prog[@]}") ;;
  baseline_sync_line) CMD=(env "${env[@]}" "$BASELINE" run --no-report --recorder sync --frames 1 -o "$ART" -- "${prog[@]}") ;;
  baseline_sync_16) CMD=(env "${env[@]}" "$BASELINE" run --no-report --recorder sync --frames 16 -o "$ART" -- "${prog[@]}") ;;
  heaptrack) CMD=(env "${env[@]}" heaptrack -o "$ART" "${prog[@]}") ;;
  massif) CMD=(env "${env[@]}" valgrind --tool=massif --peak-inaccuracy=0 --heap-admin=0
    --massif-out-file="$ART" "${prog[@]}") ;;
  memcheck) CMD=(env "${env[@]}" valgrind --tool=memcheck --leak-check=full --log-file="$ART"
    "${prog[@]}") ;;
  jeprof) CMD=(env "${env[@]}" LD_PRELOAD="$JEMALLOC"
    MALLOC_CONF="prof:true,lg_prof_sample:0,prof_final:true,prof_prefix:$ART" "${prog[@]}") ;;
  floor_*) CMD=(env "${env[@]}" LL_FLOOR="${tool#floor_}" LD_PRELOAD="$FLOOR_LIB" "${prog[@]}") ;;
  *) die "unknown tool '$tool' (known: ${ALL_TOOLS[*]})" ;;
  esac
}

# Bytes of the tool's output (a file, or every file starting with the prefix).
art_size() {
  local art=$1 total=0 f
  [ -n "$art" ] || { echo "-"; return; }
  for f in "$art" "$art".*; do
    [ -f "$f" ] && total=$((total + $(stat -c %s "$f")))
  done
  echo "$total"
}

# Peak heap and allocation count as the tool tells them ("-" when it does not): sets PEAK ALLOCS.
# heaptrack_print is slow (seconds), so only the first run of each workload asks it.
tool_figures() {
  local tool=$1 art=$2 out=$3 err=$4 r=$5 json f
  PEAK=- ALLOCS=-
  case $tool in
  untracked) PEAK=$(sed -n 's/.*peak_bytes=\([0-9]*\).*/\1/p' "$out" | head -n1) ;;
  leaklab_* | baseline_*)
    if json=$("$LEAKLAB" report "$art" --format json 2>/dev/null); then
      PEAK=$(sed -n 's/^ *"peak_bytes": *\([0-9]*\).*/\1/p' <<<"$json" | head -n1)
      ALLOCS=$(sed -n 's/^ *"total_allocations": *\([0-9]*\).*/\1/p' <<<"$json" | head -n1)
    fi ;;
  heaptrack)
    ALLOCS=$(awk '/^[[:space:]]*allocations:/ {print $2; exit}' "$err")
    if [ "$r" = 0 ]; then
      f=$(ls "$art".* 2>/dev/null | head -n1)
      # "peak heap memory consumption: 237.77K": heaptrack's units are powers of 1000.
      [ -n "$f" ] && PEAK=$(heaptrack_print -f "$f" -a 0 -p 0 -T 0 2>/dev/null | awk '
        /^peak heap memory consumption:/ {
          v = $5; m = 1
          if (v ~ /K$/) m = 1e3; else if (v ~ /M$/) m = 1e6; else if (v ~ /G$/) m = 1e9
          sub(/[KMGB]+$/, "", v); printf "~%.0f\n", v * m }')
    fi ;;
  floor_exact | floor_exact16 | floor_async | floor_async16) PEAK=$(sed -n 's/^llfloor: peak_bytes=\([0-9]*\).*/\1/p' "$err" | tail -n1) ;;
  massif)
    [ -f "$art" ] && PEAK=$(awk -F= '/^mem_heap_B=/ { if ($2 + 0 > m) m = $2 + 0 } END { print m + 0 }' "$art") ;;
  memcheck)
    [ -f "$art" ] && ALLOCS=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$art" | tr -d , | head -n1) ;;
  esac
  [ -n "$PEAK" ] || PEAK=-
  [ -n "$ALLOCS" ] || ALLOCS=-
}

# ---- the runs -------------------------------------------------------------------------------------
printf 'workload\ttool\tround\twall_s\tmaxrss_kb\tstatus\toutput_bytes\tpeak_bytes\tallocations\n' >"$TSV"
ROUNDS=$FAST_RUNS
[ "$SLOW_RUNS" -gt "$ROUNDS" ] && ROUNDS=$SLOW_RUNS
start_all=$(date +%s)
# Other work on the machine skews wall times: the report shows the load around the bench.
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)
echo "bench: ${#WORKLOADS[@]} workloads x ${#TOOLS[@]} tools, $FAST_RUNS runs (untracked, jemalloc, leaklab, heaptrack) / $SLOW_RUNS (massif, memcheck, jeprof), interleaved" >&2
for ((r = 0; r < ROUNDS; r++)); do
  for w in "${WORKLOADS[@]}"; do
    n=${#TOOLS[@]}
    # Rotate the tool order every round: no tool always runs first (cold caches) or last.
    for ((k = 0; k < n; k++)); do
      tool=${TOOLS[$(((k + r) % n))]}
      if is_floor "$tool"; then [[ $FLOOR_WORKLOADS == *" $w "* ]] || continue; fi
      if [ "$tool" = leaklab_report ]; then [[ $REPORT_WORKLOADS == *" $w "* ]] || continue; fi
      if is_slow "$tool"; then [ "$r" -lt "$SLOW_RUNS" ] || continue; else [ "$r" -lt "$FAST_RUNS" ] || continue; fi
      tool_cmd "$tool" "$w" "$r"
      out=$WORK/$w.$tool.$r.out err=$WORK/$w.$tool.$r.err
      line=$("$MEASURE" -t 900 -o "$out" -e "$err" -- "${CMD[@]}") || die "cannot run ${CMD[*]} (see $err)"
      wall=${line#wall_s=} wall=${wall%% *}
      rss=${line#*maxrss_kb=} rss=${rss%% *}
      status=${line##*status=}
      tool_figures "$tool" "$ART" "$out" "$err" "$r"
      size=$(art_size "$ART")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$tool" "$r" "$wall" "$rss" "$status" "$size" \
        "$PEAK" "$ALLOCS" >>"$TSV"
      printf 'bench: [%d/%d] %-10s %-13s %8.3f s  %s\n' $((r + 1)) "$ROUNDS" "$w" "$tool" "$wall" \
        "$([ "$status" = 0 ] || echo "exit status $status, see $err")" >&2
      # Keep one leaklab capture of churn (report timing below) and of mc_leaky (the lesson's HTML
      # size below); drop the rest as we go (disk).
      case "$w.$tool.$r" in
      churn.leaklab_line.0 | mc_leaky.leaklab_16.0 | mc_leaky.leaklab_line.0) ;;
      *) [ -z "$ART" ] || rm -rf "$ART" "$ART".* ;;
      esac
    done
  done
done

# ---- report timing, tracker memory ----------------------------------------------------------------
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
wall_of() { "$MEASURE" -t 600 -o /dev/null -e /dev/null -- "$@" | sed 's/^wall_s=\([0-9.]*\).*/\1/'; }

REPORT_TEXT=- REPORT_JSON=- REPORT_ALLOCS=-
# The exit scan's speed: method_cache:leaky at full scale (614 MiB live, 2.5 M blocks), recorded
# once; `report --retainers` prints what the scan read and how long it took (CPU and wall).
SCAN_LINE=$("$LEAKLAB" run --no-report -o "$WORK/scan.llcap" method_cache:leaky >/dev/null 2>&1 &&
  "$LEAKLAB" report "$WORK/scan.llcap" --at end --retainers --top 1 | grep '^exit scan:' || echo -)
SCAN_GBS=$(echo "$SCAN_LINE" |
  sed -n 's/^exit scan: \([0-9.]*\) \([KMG]*i*B\) of live blocks.*(\([0-9.]*\) s of CPU).*/\1 \2 \3/p' |
  awk '{ m = $2 == "GiB" ? 1073741824 : $2 == "MiB" ? 1048576 : $2 == "KiB" ? 1024 : 1
         if ($3 + 0 > 0) printf "%.2f\n", $1 * m / $3 / 1e9 }')
[ -n "$SCAN_GBS" ] || SCAN_GBS=-

# The lessons' timing tables (tools/lesson_times.sh): the orderings their READMEs draw
# conclusions from (copying many times in_place, the chunk's time flat while it fits L2, the memo
# slower than recomputing...). A benchmark's business, so make test checks only their exact columns.
LESSON_TIMES=MISS
if LL_CHECK_TIMES=1 LEAKLAB="$LEAKLAB" LL_BUILD_DIR="$BUILD" LL_SOURCE_DIR="$ROOT" LL_PROGRAMS="$BUILD/tests/programs" bash "$ROOT/tests/e2e/lesson_times.sh" >"$WORK/lesson_times.txt" 2>&1; then
  LESSON_TIMES=PASS
fi
LESSON_TIMES_LINE=$(tail -1 "$WORK/lesson_times.txt" | tr '|' '/')
CAP=$WORK/churn.leaklab_line.0.llcap
if [ -f "$CAP" ]; then
  REPORT_ALLOCS=$(awk -F'\t' '$1 == "churn" && $2 == "leaklab_line" && $3 == 0 { print $9 }' "$TSV")
  REPORT_TEXT=$(for i in 1 2 3 4 5; do wall_of "$LEAKLAB" report "$CAP"; done | median)
  REPORT_JSON=$(for i in 1 2 3 4 5; do wall_of "$LEAKLAB" report "$CAP" --format json; done | median)
fi

# The HTML report (issue 14): written from the churn capture; its size for a lesson; for a
# python3 run with tens of thousands of distinct tracebacks live, its size and how long headless
# Chromium takes to make it usable (web/test/time_to_interactive.mjs).
HTML_CHURN_S=- HTML_CHURN_B=- HTML_LESSON_B=- HTML_TB_B=- HTML_TB_N=- HTML_TB_MS=-
HTML_TB_S=- HTML_TB_RSS=- TEXT_TB_S=- TEXT_TB_RSS=-
if [ -f "$CAP" ]; then
  HTML_CHURN_S=$(for i in 1 2 3; do wall_of "$LEAKLAB" report "$CAP" --format html -o "$WORK/churn.html"; done | median)
  [ -f "$WORK/churn.html" ] && HTML_CHURN_B=$(stat -c %s "$WORK/churn.html")
fi
for LCAP in "$WORK/mc_leaky.leaklab_16.0.llcap" "$WORK/mc_leaky.leaklab_line.0.llcap"; do
  [ -f "$LCAP" ] || continue
  "$LEAKLAB" report "$LCAP" --format html -o "$WORK/lesson.html" && HTML_LESSON_B=$(stat -c %s "$WORK/lesson.html")
  break
done
TB_CAP=$WORK/tracebacks.llcap
if [ -x /usr/bin/python3 ] &&
   PYTHONMALLOC=malloc "$LEAKLAB" run --no-report --frames 128 --unwind libunwind -o "$TB_CAP" -- \
     /usr/bin/python3 "$ROOT/bench/tracebacks.py" >/dev/null 2>"$WORK/tracebacks.err"; then
  HTML_TB_N=$("$LEAKLAB" report "$TB_CAP" --group-by traceback --format json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["sites_total"])')
  # Its HTML report against the text report of the same capture (time and peak RSS, 3 runs
  # interleaved): the page symbolises every moment in both attributions, the text one moment.
  for i in 1 2 3; do
    "$MEASURE" -t 600 -o /dev/null -e /dev/null -- "$LEAKLAB" report "$TB_CAP" --format html -o "$WORK/tracebacks.html" >>"$WORK/tb_html.m"
    "$MEASURE" -t 600 -o /dev/null -e /dev/null -- "$LEAKLAB" report "$TB_CAP" >>"$WORK/tb_text.m"
  done
  m_of() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" "$1" | median; }
  HTML_TB_S=$(m_of "$WORK/tb_html.m" wall_s) HTML_TB_RSS=$(m_of "$WORK/tb_html.m" maxrss_kb)
  TEXT_TB_S=$(m_of "$WORK/tb_text.m" wall_s) TEXT_TB_RSS=$(m_of "$WORK/tb_text.m" maxrss_kb)
  [ -f "$WORK/tracebacks.html" ] && HTML_TB_B=$(stat -c %s "$WORK/tracebacks.html")
  if [ -x /usr/bin/chromium ] && [ -d "$ROOT/web/node_modules/puppeteer-core" ] && [ -f "$WORK/tracebacks.html" ]; then
    HTML_TB_MS=$(node "$ROOT/web/test/time_to_interactive.mjs" "$WORK/tracebacks.html" 3 |
      sed -n 's/^interactive_ms=//p' | median)
  fi
fi

# The engine's own count (in-process API, compile-time hooks): all of its memory over the blocks.
TM_LINE=$("$TRACKER_MEM" --blocks "$LIVE_BLOCKS")
TM_PER_BLOCK=$(sed -n 's/.*[[:space:]]per_block=\([0-9.]*\).*/\1/p' <<<"$TM_LINE")
# Cross-check through the preload: RSS of `leaklab run` minus the untracked run's, over the
# blocks, holding the same live set (churn with one pair). An upper bound: it also counts the
# capture written at exit and the report `leaklab run` prints.
rss_of() { "$MEASURE" -t 600 -o /dev/null -e /dev/null -- "$@" | sed 's/.*maxrss_kb=\([0-9]*\).*/\1/'; }
LIVE_CAP=$WORK/live.llcap
RSS_PLAIN=$(for i in 1 2 3; do rss_of "$CHURN" --pairs 1 --slots "$LIVE_BLOCKS"; done | median)
RSS_LL=$(for i in 1 2 3; do rss_of "$LEAKLAB" run --recorder sync --frames 1 -o "$LIVE_CAP" -- "$CHURN" --pairs 1 --slots "$LIVE_BLOCKS"; done | median)
RSS_PER_BLOCK=$(awk -v a="$RSS_LL" -v b="$RSS_PLAIN" -v n="$LIVE_BLOCKS" 'BEGIN { printf "%.1f", (a - b) * 1024 / n }')
REPORT_LIVE=-
[ -f "$LIVE_CAP" ] && REPORT_LIVE=$(for i in 1 2 3; do wall_of "$LEAKLAB" report "$LIVE_CAP"; done | median)
# The engine alone on churn's event stream (no hooks, no program): what an asynchronous
# recorder's consumer would pay per event, leaklab's engine as it is.
ER_OUT=$WORK/engine_rate.out
for i in 1 2 3; do "$ENGINE_RATE" --pairs "$PAIRS" --slots 1024 >>"$ER_OUT" || die "engine_rate failed (see $ER_OUT)"; done
er_ns() { sed -n "s/^engine_rate: frames=$1 events=[0-9]* ns_per_event=\([0-9.]*\).*/\1/p" "$ER_OUT" | median; }
ER_EVENTS=$(sed -n 's/^engine_rate: frames=1 events=\([0-9]*\).*/\1/p' "$ER_OUT" | head -n1)
ER_NS1=$(er_ns 1) ER_NS16=$(er_ns 16)
elapsed=$(($(date +%s) - start_all))
LOAD_END=$(cut -d" " -f1-3 /proc/loadavg)

# ---- the table ------------------------------------------------------------------------------------
col() { awk -F'\t' -v w="$1" -v t="$2" -v c="$3" '$1 == w && $2 == t && $c != "-" { print $c }' "$TSV"; }
runs_of() { awk -F'\t' -v w="$1" -v t="$2" '$1 == w && $2 == t' "$TSV" | wc -l; }
first_of() { col "$1" "$2" "$3" | head -n1; }
bad_status() { awk -F'\t' -v w="$1" -v t="$2" '$1 == w && $2 == t && $6 != 0 { print $6; exit }' "$TSV"; }
declare -A MED
for w in "${WORKLOADS[@]}"; do
  for t in "${TOOLS[@]}"; do MED[$w.$t]=$(col "$w" "$t" 4 | median); done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
human() { # bytes in tracemalloc's size format (as leaklab prints them), keeping "~" and "-"
  local v=$1 p=""
  case $v in -|"") echo "-"; return ;; "~"*) p="~" v=${v#\~} ;; esac
  awk -v v="$v" -v p="$p" 'BEGIN { split("B KiB MiB GiB TiB", U, " ")
    for (i = 1; i <= 5; i++) {
      if (v < 100 && i > 1) { printf "%s%.1f %s\n", p, v, U[i]; exit }
      if (v < 10 * 1024 || i == 5) { printf "%s%.0f %s\n", p, v, U[i]; exit }
      v /= 1024 } }'
}
exact_delta() { # a tool's peak next to leaklab's: "= leaklab", or the difference in bytes
  local p=$1 l=$2 approx=""
  case $p in -|"") echo ""; return ;; "~"*) approx="~" p=${p#\~} ;; esac
  [ "$l" = - ] || [ -z "$l" ] && { echo ""; return; }
  if [ -z "$approx" ] && [ "$p" = "$l" ]; then echo "(= leaklab)"; else
    awk -v a="$p" -v b="$l" -v x="$approx" 'BEGIN { d = a - b; printf "(%s%+d B vs leaklab)\n", x, d }'
  fi
}

TABLE=$WORK/table.md
{
  echo "| workload | tool | runs | median wall | x untracked | peak RSS | output | peak heap (tool's own figure) | allocations |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
  for w in "${WORKLOADS[@]}"; do
    base=${MED[$w.untracked]:--}
    llpeak=$(first_of "$w" leaklab_line 8)
    [ -n "$llpeak" ] || llpeak=-
    for t in "${TOOLS[@]}"; do
      runs=$(runs_of "$w" "$t")
      [ "$runs" -gt 0 ] || continue
      med=${MED[$w.$t]}
      rss=$(col "$w" "$t" 5 | median)
      size=$(col "$w" "$t" 7 | median)
      peak=$(first_of "$w" "$t" 8)
      allocs=$(first_of "$w" "$t" 9)
      note=""
      bs=$(bad_status "$w" "$t")
      [ -n "$bs" ] && note=" **exit status $bs**"
      case $t in
      untracked) [ "$peak" != "-" ] && [ -n "$peak" ] && peakcol="$(human "$peak") (program's own count: the truth)" || peakcol="-" ;;
      jemalloc | memcheck | jeprof | floor_interpose | floor_emit | floor_emit_seq | floor_emit16) peakcol="n/a" ;;
      leaklab_line) peakcol=$(human "${peak:--}"); [ "${peak:--}" = - ] || peakcol="$peakcol ($peak B)" ;;
      *) peakcol="$(human "${peak:--}") $(exact_delta "$peak" "$llpeak")" ;;
      esac
      printf '| %s | %s | %d | %.3f s | %s | %s | %s | %s | %s |\n' "$w" "$t$note" "$runs" "$med" \
        "$(ratio "$med" "$base")" "$(human "$(awk -v k="$rss" 'BEGIN { print k * 1024 }')")" \
        "$(human "$size")" "$peakcol" "${allocs:--}"
    done
  done
} >"$TABLE"

# ---- targets (issue 7), from the numbers above ----------------------------------------------------
verdict() { awk -v v="$1" -v lim="$2" -v op="$3" 'BEGIN { if (v == "-" || v == "") print "MISS (not measured)";
  else if ((op == "le" && v + 0 <= lim + 0) || (op == "ge" && v + 0 >= lim + 0)) print "PASS"; else print "MISS" }'; }
C_BASE=${MED[churn.untracked]:--} C_LINE=${MED[churn.leaklab_line]:--} C_16=${MED[churn.leaklab_16]:--}
C_HT=${MED[churn.heaptrack]:--} C_MS=${MED[churn.massif]:--}
R_LINE=$(ratio "$C_LINE" "$C_BASE") R_16=$(ratio "$C_16" "$C_BASE")
C_SLINE=${MED[churn.leaklab_sync_line]:--} C_S16=${MED[churn.leaklab_sync_16]:--} C_REP=${MED[churn.leaklab_report]:--}
R_SLINE=$(ratio "$C_SLINE" "$C_BASE") R_S16=$(ratio "$C_S16" "$C_BASE") R_REP=$(ratio "$C_REP" "$C_BASE")
S_HT=$(ratio "$C_HT" "$C_16") S_MS=$(ratio "$C_MS" "$C_16")
S_HT1=$(ratio "$C_HT" "$C_LINE") S_MS1=$(ratio "$C_MS" "$C_LINE")
F_INT=$(ratio "${MED[churn.floor_interpose]:--}" "$C_BASE") F_EMIT=$(ratio "${MED[churn.floor_emit]:--}" "$C_BASE")
F_EMIT16=$(ratio "${MED[churn.floor_emit16]:--}" "$C_BASE") F_EX=$(ratio "${MED[churn.floor_exact]:--}" "$C_BASE")
F_EX16=$(ratio "${MED[churn.floor_exact16]:--}" "$C_BASE") F_AS=$(ratio "${MED[churn.floor_async]:--}" "$C_BASE")
F_AS16=$(ratio "${MED[churn.floor_async16]:--}" "$C_BASE")
# An asynchronous leaklab with this engine as its consumer cannot finish before the consumer has
# applied every event: events x ns per event, over the untracked run.
er_bound() { awk -v e="$ER_EVENTS" -v ns="$1" -v b="$C_BASE" 'BEGIN { if (ns == "" || ns == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", e * ns * 1e-9 / b }'; }
ER_B1=$(er_bound "$ER_NS1") ER_B16=$(er_bound "$ER_NS16")
# How far above the floor leaklab is: (leaklab - untracked) / (floor - untracked), the added time.
above() { awk -v l="$1" -v f="$2" -v b="$C_BASE" 'BEGIN { if (l == "-" || f == "-" || b == "-" || f - b <= 0) print "-"; else printf "%.2f", (l - b) / (f - b) }'; }
# The threaded targets (issue #18): wall-time ratios from this session; beside churn_mt8's, the
# floors that show what one global order of events costs by itself.
wratio() { ratio "${MED[$1.$2]:--}" "${MED[$1.untracked]:--}"; }
T8_LINE=$(wratio churn_mt8 leaklab_line) T8_16=$(wratio churn_mt8 leaklab_16)
T8_SLINE=$(wratio churn_mt8 leaklab_sync_line) T8_S16=$(wratio churn_mt8 leaklab_sync_16)
PY_LINE=$(wratio python_mt leaklab_line) PY_16=$(wratio python_mt leaklab_16)
PY_SLINE=$(wratio python_mt leaklab_sync_line) PY_S16=$(wratio python_mt leaklab_sync_16)
# No instruction count for the threaded rows: under valgrind the preload records almost nothing
# (a churn_mt8 run's capture holds 5 allocations: valgrind's own malloc replacement wins), so a
# count of `leaklab run` under cachegrind is the untracked program's again.
TARGETS=$WORK/targets.md
{
  echo "| target (churn workload) | measured | floor, same session (bench/floor_preload.c) | verdict |"
  echo "| --- | --- | --- | --- |"
  echo "| line-level recording <= 1.5x untracked | ${R_LINE}x ($C_LINE s / $C_BASE s; --recorder sync ${R_SLINE}x) | forwarding only ${F_INT}x; events stored, never read ${F_EMIT}x; minimal exact: in-thread ${F_EX}x, async ${F_AS}x | $(verdict "$R_LINE" 1.5 le) |"
  echo "| 16-frame stacks <= 2x untracked (issue #18; 2.5x before it) | ${R_16}x ($C_16 s / $C_BASE s; --recorder sync ${R_S16}x; with the report printed ${R_REP}x) | events stored, never read ${F_EMIT16}x; minimal exact: in-thread ${F_EX16}x, async ${F_AS16}x | $(verdict "$R_16" 2 le) |"
  echo "| >= 10x faster than heaptrack (vs 16 frames) | ${S_HT}x (line-level: ${S_HT1}x) | minimal exact 16 frames: in-thread $(ratio "$C_HT" "${MED[churn.floor_exact16]:--}")x, async $(ratio "$C_HT" "${MED[churn.floor_async16]:--}")x | $(verdict "$S_HT" 10 ge) |"
  echo "| >= 10x faster than massif (vs 16 frames) | ${S_MS}x (line-level: ${S_MS1}x) | minimal exact 16 frames: in-thread $(ratio "$C_MS" "${MED[churn.floor_exact16]:--}")x, async $(ratio "$C_MS" "${MED[churn.floor_async16]:--}")x | $(verdict "$S_MS" 10 ge) |"
  echo "| 8-thread churn, cross-thread frees (churn_mt8) <= 2.5x untracked | ${T8_LINE}x line level, ${T8_16}x 16 frames (--recorder sync ${T8_SLINE}x / ${T8_S16}x) | floor_async (one ring behind a lock) $(ratio "${MED[churn_mt8.floor_async]:--}" "${MED[churn_mt8.untracked]:--}")x; events stored, never read $(ratio "${MED[churn_mt8.floor_emit]:--}" "${MED[churn_mt8.untracked]:--}")x, the same numbered from one shared counter $(ratio "${MED[churn_mt8.floor_emit_seq]:--}" "${MED[churn_mt8.untracked]:--}")x | $(verdict "$T8_LINE" 2.5 le) |"
  echo "| ... >= 5x faster than heaptrack (vs 16 frames) | $(ratio "${MED[churn_mt8.heaptrack]:--}" "${MED[churn_mt8.leaklab_16]:--}")x (heaptrack $(ratio "${MED[churn_mt8.heaptrack]:--}" "${MED[churn_mt8.untracked]:--}")x untracked) | | $(verdict "$(ratio "${MED[churn_mt8.heaptrack]:--}" "${MED[churn_mt8.leaklab_16]:--}")" 5 ge) |"
  echo "| python3, 4 threads building dicts (python_mt) <= 2x untracked | ${PY_LINE}x line level, ${PY_16}x 16 frames (--recorder sync ${PY_SLINE}x / ${PY_S16}x) | | $(verdict "$PY_16" 2 le) |"
  echo "| tracker memory <= 32 B per live block ($LIVE_BLOCKS blocks) | ${TM_PER_BLOCK:--} B (preload RSS cross-check: $RSS_PER_BLOCK B) | 16 B (a bare pointer and size) | $(verdict "${TM_PER_BLOCK:--}" 32 le) |"
  echo "| report from a ${REPORT_ALLOCS}-allocation capture <= 2 s | text $REPORT_TEXT s, json $REPORT_JSON s | | $(verdict "$REPORT_TEXT" 2 le) |"
  echo "| HTML report from that capture written <= 1 s | $HTML_CHURN_S s ($(human "$HTML_CHURN_B")) | | $(verdict "$HTML_CHURN_S" 1 le) |"
  echo "| a lesson's HTML report <= 1 MB (mc_leaky) | $(human "$HTML_LESSON_B") ($HTML_LESSON_B B) | | $(verdict "$HTML_LESSON_B" 1048576 le) |"
  echo "| HTML of a capture with $HTML_TB_N tracebacks (python3, bench/tracebacks.py) <= 5 MB | $(human "$HTML_TB_B") ($HTML_TB_B B) | | $(verdict "$HTML_TB_B" 5242880 le) |"
  echo "| ... usable in headless Chromium <= 2 s | $HTML_TB_MS ms (median of 3) | | $(verdict "$HTML_TB_MS" 2000 le) |"
  echo "| ... written in <= 2x the text report's time | $HTML_TB_S s vs $TEXT_TB_S s: $(ratio "$HTML_TB_S" "$TEXT_TB_S")x (medians of 3) | | $(verdict "$(ratio "$HTML_TB_S" "$TEXT_TB_S")" 2 le) |"
  echo "| ... and <= 2x its peak RSS | $HTML_TB_RSS KiB vs $TEXT_TB_RSS KiB: $(ratio "$HTML_TB_RSS" "$TEXT_TB_RSS")x | every moment symbolised in both attributions (the text report: one moment) | $(verdict "$(ratio "$HTML_TB_RSS" "$TEXT_TB_RSS")" 2 le) |"
  echo "| exit scan >= 1 GB/s of live heap (method_cache:leaky, full scale) | $SCAN_GBS GB/s of CPU time ($SCAN_LINE) | | $(verdict "$SCAN_GBS" 1 ge) |"
  echo "| the lessons' timing tables keep the orderings their READMEs quote (tests/e2e/lesson_times.sh, LL_CHECK_TIMES=1) | $LESSON_TIMES_LINE | | $LESSON_TIMES |"
} >"$TARGETS"
FLOOR_TXT=$WORK/floor.md
{
  echo "| recorder (churn) | x untracked | what it does per event |"
  echo "| --- | ---: | --- |"
  echo "| untracked | 1.00 | the program alone |"
  echo "| floor_interpose | $F_INT | interposed malloc/free forward to the real ones (guard, errno) |"
  echo "| floor_emit | $F_EMIT | + one event stored per call (async producer; nobody reads it) |"
  echo "| floor_emit_seq | $(ratio "${MED[churn.floor_emit_seq]:--}" "$C_BASE") | + one number per event from a counter all threads share (plain while single-threaded) |"
  echo "| floor_emit16 | $F_EMIT16 | + a 16-frame walk per allocation |"
  echo "| floor_exact | $F_EX | exact live table, per-site lazy peak, in the program's thread |"
  echo "| floor_exact16 | $F_EX16 | the same keyed by a 16-frame walk |"
  echo "| floor_async | $F_AS | floor_exact's bookkeeping in a consumer process, events through a shared ring |"
  echo "| floor_async16 | $F_AS16 | the same with the 16-frame walk |"
  echo "| leaklab's engine alone (bench/engine_rate) | >= $ER_B1 / >= $ER_B16 | applies churn's $ER_EVENTS events at $ER_NS1 ns (1 frame) / $ER_NS16 ns (16 frames) each, no hooks: an async leaklab's consumer can go no faster |"
  echo "| leaklab_line | $R_LINE | default recorder (a helper process here), --frames 1: $(above "$C_LINE" "${MED[churn.floor_async]:--}")x the added time of floor_async |"
  echo "| leaklab_16 | $R_16 | default recorder, --frames 16: $(above "$C_16" "${MED[churn.floor_async16]:--}")x the added time of floor_async16 |"
  echo "| leaklab_sync_line | $R_SLINE | --recorder sync --frames 1: $(above "$C_SLINE" "${MED[churn.floor_exact]:--}")x the added time of floor_exact |"
  echo "| leaklab_sync_16 | $R_S16 | --recorder sync --frames 16: $(above "$C_S16" "${MED[churn.floor_exact16]:--}")x the added time of floor_exact16 |"
} >"$FLOOR_TXT"

# Before/after (BENCH_BASELINE): each leaklab mode of this build beside the same mode of the
# baseline build, in the same rounds; "change" is this build's added time over the baseline's.
AB_TXT=$WORK/ab.md
: >"$AB_TXT"
if [ -n "$BASELINE" ]; then
  {
    echo "| workload | mode | baseline x untracked | this build x untracked | change in added time |"
    echo "| --- | --- | ---: | ---: | ---: |"
    for w in "${WORKLOADS[@]}"; do
      for m in line 16 sync_line sync_16; do
        b=${MED[$w.baseline_$m]:--} n=${MED[$w.leaklab_$m]:--} u=${MED[$w.untracked]:--}
        [ "$b" != - ] && [ "$n" != - ] || continue
        echo "| $w | $m | $(ratio "$b" "$u") | $(ratio "$n" "$u") | $(awk -v b="$b" -v n="$n" -v u="$u" 'BEGIN { if (u == "-" || b - u <= 0) print "-"; else printf "%+.1f%%", ((n - u) / (b - u) - 1) * 100 }') |"
      done
    done
  } >"$AB_TXT"
fi

# ---- write reports/bench.md and print ---------------------------------------------------------------
{
  echo "# leaklab benchmark"
  echo
  # The CPU: ratios depend on it (cross-core transfers cost several times more on some guests).
  echo "Generated by \`make bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n1)),"
  echo "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -r);"
  echo "$("$LEAKLAB" --version 2>/dev/null | head -n1), $(valgrind --version), jemalloc $(dpkg-query -W -f='${Version}' libjemalloc2 2>/dev/null || echo '?')."
  echo "Whole bench: ${elapsed} s. Medians of $FAST_RUNS runs (untracked, jemalloc, leaklab, heaptrack) and $SLOW_RUNS"
  echo "(massif, memcheck, jeprof), all in one session, tools in a rotated order each round."
  echo "Load average (1, 5, 15 min) before the bench: $LOAD_START; after: $LOAD_END (the bench itself"
  echo "keeps about one core busy; more means other work shared the machine and skewed wall times)."
  echo
  echo "## Targets"
  echo
  cat "$TARGETS"
  echo
  echo "## The floor: the cheapest recorder of each kind, measured beside leaklab"
  echo
  echo "bench/floor_preload.c preloaded in eight modes (interleaved with the other tools, churn, churn_mt"
  echo "and churn_mt8 only). The *exact* floors report their peak, checked against the program's count"
  echo "in the table below: they are exact, and do nothing else (no usable sizes, histogram,"
  echo "temporaries, timeline, stack cache, capture or report)."
  echo
  cat "$FLOOR_TXT"
  echo
  if [ -s "$AB_TXT" ]; then
    echo "## Before/after: this build against BENCH_BASELINE ($BASELINE)"
    echo
    cat "$AB_TXT"
    echo
  fi
  echo "## Every workload under every tool"
  echo
  cat "$TABLE"
  echo
  echo "Columns: *x untracked* is the median wall time over the untracked run's; *peak RSS* the"
  echo "largest resident set of any process of the run (wait4), tool included; *output* what the"
  echo "tool wrote (capture, heaptrack.zst, massif.out, memcheck log, jemalloc .heap files);"
  echo "*peak heap* the tool's own figure (requested bytes unless marked), \`~\` where the tool"
  echo "rounds it; *allocations* the calls the tool counted."
  echo
  echo "- heaptrack's peak is its summary line (\`heaptrack_print\`, 5 significant digits). It counts"
  echo "  the 72,704 B emergency exception pool that libstdc++ allocates when heaptrack's own C++"
  echo "  library loads into a C program."
  echo "- massif: the largest mem_heap_B of massif.out with --peak-inaccuracy=0 --heap-admin=0."
  echo "- memcheck reports no peak, only totals (its allocation count is shown)."
  echo "- jemalloc's profiler gives no peak: a profile is the live set (in *usable* sizes) at one"
  echo "  dump, made at exit (prof_final), on demand, or at each new high of jemalloc's mapped memory"
  echo "  (prof_gdump: one file per new extent, not at the heap's peak, and far too many files on a"
  echo "  growing heap; see bench/README.md). Debian's libjemalloc2 is built with profiling"
  echo "  (config.prof: true), so its cost is measured."
  echo "- The jemalloc row is the program on jemalloc without profiling: jeprof's own baseline."
  echo "- Peaks are compared across runs: churn_mt's varies from run to run (thread interleaving),"
  echo "  and python's by a few hundred bytes with its environment, which it copies (leaklab's"
  echo "  LEAKLAB_* variables, valgrind's own), not through any tool's error."
  echo
  echo "## Report time and tracker memory"
  echo
  echo "- \`leaklab report\` on the churn capture ($REPORT_ALLOCS allocations recorded): text $REPORT_TEXT s,"
  echo "  \`--format json\` $REPORT_JSON s (medians of 5); on a capture holding $LIVE_BLOCKS live blocks: $REPORT_LIVE s (median of 3)."
  echo "- \`leaklab report --format html\`: from the churn capture $HTML_CHURN_S s, $(human "$HTML_CHURN_B") (median of 3);"
  echo "  mc_leaky's page $(human "$HTML_LESSON_B"); bench/tracebacks.py under python3 ($HTML_TB_N tracebacks,"
  echo "  --frames 128 --unwind libunwind): $(human "$HTML_TB_B"), usable in headless Chromium after $HTML_TB_MS ms (median of 3);"
  echo "  written in $HTML_TB_S s at $HTML_TB_RSS KiB peak RSS, where the text report of the same capture takes $TEXT_TB_S s"
  echo "  and $TEXT_TB_RSS KiB (medians of 3, interleaved)."
  echo "- Tracker memory with $LIVE_BLOCKS live blocks (in-process API, ll_get_tracker_memory): $TM_LINE"
  echo "- Through the preload: \`leaklab run\` peak RSS $RSS_LL KiB vs $RSS_PLAIN KiB untracked for the same"
  echo "  live set: $RSS_PER_BLOCK B per live block (an upper bound: includes writing the capture and the report)."
  echo
  echo "## Workloads and tools"
  echo
  for w in "${WORKLOADS[@]}"; do echo "- **$w**: ${WDESC[$w]}"; done
  for t in "${TOOLS[@]}"; do echo "- **$t**: ${TDESC[$t]}"; done
  echo
  echo "Raw runs: \`$(basename "$TSV")\` beside this file."
} >"$OUT"

# Markdown tables, columns padded for a terminal.
align() {
  awk 'function cells(line, f) { sub(/^[|] /, "", line); sub(/ [|]$/, "", line); return split(line, f, / [|] /) }
    /^[|] ---/ { next }
    NR == FNR { n = cells($0, f); for (i = 1; i <= n; i++) if (length(f[i]) > m[i]) m[i] = length(f[i]); next }
    { n = cells($0, f); line = ""
      for (i = 1; i <= n; i++) line = line (i < n ? sprintf("%-" m[i] "s  ", f[i]) : f[i])
      print line }' "$1" "$1"
}
echo
align "$TARGETS"
echo
align "$FLOOR_TXT"
echo
[ -s "$AB_TXT" ] && { align "$AB_TXT"; echo; }
align "$TABLE"
echo
echo "bench: report time ${REPORT_TEXT} s (churn capture), ${REPORT_LIVE} s ($LIVE_BLOCKS live blocks); tracker ${TM_PER_BLOCK} B per live block"
echo "bench: wrote $OUT and $TSV (${elapsed} s)"
