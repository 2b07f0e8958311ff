#!/usr/bin/env bash
# fuzz.sh - fuzz the capture readers (report, diff) with afl++ for a while: build tests/fuzz/fuzz_readers with afl-clang-fast under ASan+UBSan, seed it with real captures, run afl-fuzz, minimise what crashed or hung.
#
# usage: tools/fuzz.sh [SECONDS]      (default 300; not part of `make test`)
#
# Builds build/fuzz (afl-clang-fast, -DLEAKLAB_SANITIZE=ON, only the harness) and uses
# build/default's leaklab (built if missing) to record the seeds: the test programs' captures
# (known pattern, exit scan, memory over time per line, jemalloc, an exec chain, a killed
# program, check's budget, a plain snapshot file) and the lessons'. In every seed libc's path is
# renamed (same length) so the readers do not find it: its detached debug info (libc6-dbg) is
# decompressed by every symbolisation and took 90% of each run; the main program's DWARF is
# still read. Then afl-fuzz runs under `nice -n 10` for SECONDS into build/fuzz/out (a run
# after an earlier one resumes it), the harness fixes each input's lengths and CRC
# (fuzz_readers.c), and each crash and hang is minimised with afl-tmin into
# build/fuzz/findings/NAME.llcap, checksum-valid: once its bug is fixed, copy it into
# tests/data/fuzz/, where ctest's fuzz_replay (and e2e_report_corrupt_frames) replay it.
# Prints afl's figures at the end: execs/s, total execs, paths (corpus), crashes, hangs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-300}
[[ $secs =~ ^[0-9]+$ && $secs -gt 0 ]] || { echo "usage: tools/fuzz.sh [SECONDS]" >&2; exit 2; }
tools/deps.sh --fuzz # afl++ and what the build needs
for t in afl-fuzz afl-clang-fast afl-tmin; do
  command -v "$t" >/dev/null ||
    { echo "fuzz.sh: $t not found: install afl++ (tools/deps.sh --fuzz)" >&2; exit 3; }
done

fuzz=$root/build/fuzz
seeds=$fuzz/seeds
out=$fuzz/out
findings=$fuzz/findings
mkdir -p "$seeds" "$findings" "$fuzz/tmp"

echo "fuzz.sh: building build/default (the seeds' recorder) and build/fuzz (afl-clang-fast)" >&2
cmake --preset default >/dev/null
nice -n 10 cmake --build --preset default -j2 >/dev/null
CC=afl-clang-fast cmake -S . -B "$fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLEAKLAB_SANITIZE=ON -DLEAKLAB_WERROR=ON >/dev/null
AFL_QUIET=1 nice -n 10 cmake --build "$fuzz" -j2 --target fuzz_readers >/dev/null
harness=$fuzz/tests/fuzz_readers
plain=$root/build/default/tests/fuzz_readers

# seed NAME LEAKLAB-ARGS...: record one capture into the seeds, libc renamed, CRC fixed.
leaklab=$root/build/default/leaklab
progs=$root/build/default/tests/programs
seed() {
  local name=$1
  shift
  (cd "$fuzz/tmp" && "$leaklab" "$@" >/dev/null 2>&1) || true # killed, check over budget: fine
  [ -s "$fuzz/tmp/$name.llcap" ] || { echo "fuzz.sh: seed $name: no capture" >&2; return 0; }
  python3 - "$fuzz/tmp/$name.llcap" <<'PY'
import sys
p = sys.argv[1]
b = open(p, "rb").read()
open(p, "wb").write(b.replace(b"/libc.so.6", b"/libc.so.F"))
PY
  "$plain" --fix "$fuzz/tmp/$name.llcap" "$seeds/$name.llcap"
  rm -f "$fuzz/tmp/$name".llcap*
}
if [ ! -d "$out/default" ]; then
  rm -f "$seeds"/*
  # Small captures fuzz faster: one known_pattern (its 1016 allocations make a 36 KB LINES
  # section), the rest from programs with few allocations.
  seed known_pattern run -o known_pattern.llcap -- "$progs/known_pattern"
  seed frames2 run --frames 2 -o frames2.llcap -- "$progs/massif_pattern"
  seed native run --native -o native.llcap -- "$progs/inlined_alloc"
  seed reach run -o reach.llcap -- "$progs/reach_kinds"
  seed growth run -o growth.llcap -- "$progs/growth_shapes"
  seed jemalloc run --allocator jemalloc -o jemalloc.llcap -- "$progs/massif_pattern"
  seed exec_chain run -o exec_chain.llcap -- "$progs/fork_exec"
  seed killed run -o killed.llcap -- "$progs/killed" 9
  seed crash run -o crash.llcap -- "$progs/crash"
  seed budget check --limit-memory 1KB -o budget.llcap -- "$progs/usable_sizes"
  seed memo_tables run -o memo_tables.llcap memo_tables:naive
  seed chunked run -o chunked.llcap chunked:chunked
  (cd "$fuzz/tmp" && "$progs/snapshot_maker" snapshot.llcap base >/dev/null 2>&1) &&
    "$plain" --fix "$fuzz/tmp/snapshot.llcap" "$seeds/snapshot.llcap"
  ls "$seeds"/*.llcap >/dev/null 2>&1 || { echo "fuzz.sh: no seed recorded" >&2; exit 3; }
  input=$seeds
else
  input=- # resume the previous run's queue
fi

echo "fuzz.sh: afl-fuzz for ${secs}s into build/fuzz/out" >&2
# -t: ms per input (a report of every kind under ASan); hangs are inputs over it.
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export TMPDIR=$fuzz/tmp
nice -n 10 afl-fuzz -V "$secs" -t 10000 -m none -i "$input" -o "$out" -- "$harness" @@ \
  >"$fuzz/afl.log" 2>&1 || { tail -20 "$fuzz/afl.log" >&2; exit 3; }

# Minimise each crash and hang, keep it checksum-valid.
shopt -s nullglob
n=0
for f in "$out"/default/crashes/id:* "$out"/default/hangs/id:*; do
  kind=$(basename "$(dirname "$f")")
  name=${kind%s}-$(sha1sum "$f" | cut -c1-12)
  [ -f "$findings/$name.llcap" ] && continue
  nice -n 10 afl-tmin -t 10000 -m none -i "$f" -o "$fuzz/tmp/$name.min" -- "$harness" @@ \
    >/dev/null 2>&1 || cp "$f" "$fuzz/tmp/$name.min"
  "$plain" --fix "$fuzz/tmp/$name.min" "$findings/$name.llcap"
  rm -f "$fuzz/tmp/$name.min"
  n=$((n + 1))
done

stats=$out/default/fuzzer_stats
stat() { awk -F' *: ' -v k="$1" '$1 == k { print $2 }' "$stats"; }
echo "fuzz.sh: $(stat run_time)s, $(stat execs_done) execs, $(stat execs_per_sec) execs/s," \
  "$(stat corpus_count) paths, $(stat saved_crashes) crashes, $(stat saved_hangs) hangs;" \
  "$n new finding(s) in build/fuzz/findings/"
