#!/usr/bin/env bash
# series_times.sh - memory over time keeps the program's times under both recorders (the async one's points match sync's even when its helper gets no CPU for a while: stopped by this test), and read as steps it shows the peak when it was reached, the plateau after it and the fall 0.6 s later, at their levels.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cd "$tmp"
prog=$LL_PROGRAMS/series_times
MIB=$((1024 * 1024))

helper_of() { # the leaklab-helper forked from the process $1 (same command line)
  local h
  for h in $(pgrep -x leaklab-helper || true); do
    if cmp -s "/proc/$h/cmdline" "/proc/$1/cmdline" 2>/dev/null; then echo "$h"; return; fi
  done
}
wait_for() { # FILE LINE: until the program has printed LINE (20 s at most)
  local i
  for i in $(seq 2000); do
    grep -qx "$2" "$1" 2>/dev/null && return 0
    sleep 0.01
  done
  die "the program never printed '$2'"
}

# record RECORDER: $tmp/RECORDER.llcap. With the helper, it is stopped from the first phase's
# end until 0.5 s after the second one's: what a helper on a loaded machine lives through. Its
# events wait in the rings meanwhile, and it applies them 0.5 s late or more. (Long, so that the
# bounds below leave room for a loaded machine's scheduling and still catch helper time; shorter
# than the program's 0.6 s pause: a helper stopped past it dates the frees after the pause with
# the last stamp, a known limit, see docs/ARCHITECTURE.md.)
record() {
  local rec=$1 pid h=
  LEAKLAB_RECORDER=$rec "$LEAKLAB" run --no-report -o "$rec.llcap" -- "$prog" >"$rec.out" 2>"$rec.err" &
  pid=$!
  if [[ $rec == async ]]; then
    wait_for "$rec.out" "A allocated"
    h=$(helper_of "$(pgrep -P "$pid" -x series_times || true)")
    [[ -n $h ]] || die "async: no leaklab-helper for the program"
    kill -STOP "$h"
    wait_for "$rec.out" "B allocated"
    sleep 0.5
    kill -CONT "$h"
  fi
  wait "$pid" || die "$rec: leaklab run failed: $(cat "$rec.err")"
  "$LEAKLAB" report "$rec.llcap" --format html -o "$rec.html" || die "$rec: no HTML report"
}

# points RECORDER: the chart's points, "t_ns total" a line, then "peak INDEX".
points() {
  python3 -c '
import json, re, sys
page = open(sys.argv[1]).read()
m = re.search(r"<script type=\"application/json\" id=\"leaklab-data\">(.*?)</script>", page, re.S)
tl = json.loads(m.group(1))["timeline"]
for t, c in zip(tl["t_ns"], tl["current"]):
    print(t, c)
print("peak", tl["peak_index"])' "$1.html"
}

# phase_times RECORDER: when the total first reached 30 MiB (most of A's blocks) and 40 MiB (half of B's),
# in ms.
phase_times() {
  points "$1" | awk -v mib="$MIB" '
    $1 == "peak" { next }
    a == "" && $2 >= 30 * mib { a = int($1 / 1e6) }
    b == "" && $2 >= 40 * mib { b = int($1 / 1e6) }
    END { print a, b }'
}

record sync
record async
read -r a_sync b_sync < <(phase_times sync)
read -r a_async b_async < <(phase_times async)
echo "sync: 30 MiB at $a_sync ms, 40 MiB at $b_sync ms; async: at $a_async and $b_async ms"
[[ -n $a_sync && -n $b_sync && -n $a_async && -n $b_async ]] || die "a phase has no point"

for rec in sync async; do
  want=$((48 * MIB + 4096)) # and stdout's buffer
  [[ $(leaklab_peak "$rec.llcap") -eq $want ]] || fail "$rec: peak $(leaklab_peak "$rec.llcap"), want $want"
done
# B's allocations came 0.6 s after A's: so in both recordings, however late the helper applied
# them (0.5 s at least: helper time would put them 1.1 s apart).
for rec in sync async; do
  a=a_$rec b=b_$rec
  gap=$((${!b} - ${!a}))
  ((gap >= 550 && gap <= 950)) || fail "$rec: 40 MiB is $gap ms after 30 MiB, want 0.6 s"
done
# And at the same time as the synchronous recorder saw it (each run's own clock: 300 ms apart at
# most, for two runs' start-up on a loaded machine; helper time would be 0.5 s late).
diff=$((b_async - b_sync))
((diff < 0)) && diff=$((-diff))
((diff <= 300)) || fail "async's 40 MiB at $b_async ms, sync's at $b_sync ms"

# The chart's steps (each point's total held until the next point): the peak's point is B's end,
# the level stays there for the 0.6 s pause, falls to 16 MiB when A is freed, and stays there.
# shape RECORDER: "PEAK_MS FALL_MS LEVEL_300MS_AFTER_PEAK LEVEL_300MS_AFTER_FALL".
shape() {
  points "$1" | awk -v mib="$MIB" '
    $1 == "peak" { peak = $2; next }
    { t[n] = $1; c[n] = $2; n++ }
    function at(x,   i, v) { v = c[0]; for (i = 0; i < n && t[i] <= x; i++) v = c[i]; return v }
    END {
      for (f = peak + 1; f < n && c[f] >= 40 * mib; f++) {}
      printf "%d %d %d %d\n", t[peak] / 1e6, t[f] / 1e6, at(t[peak] + 3e8), at(t[f] + 3e8)
    }'
}
step=$((48 * MIB / 256 + 1))
for rec in sync async; do
  read -r pk fall up down < <(shape "$rec")
  b=b_$rec
  echo "$rec: peak at $pk ms, fall at $fall ms; 0.3 s after each: $up B, $down B"
  ((pk - ${!b} >= 0 && pk - ${!b} <= 300)) || fail "$rec: the peak's point at $pk ms, B's 40 MiB at ${!b} ms"
  ((fall - pk >= 550 && fall - pk <= 950)) || fail "$rec: the fall at $fall ms, 0.6 s after the peak at $pk ms wanted"
  ((up >= 48 * MIB - step)) || fail "$rec: $up B 0.3 s after the peak: the plateau at 48 MiB is not drawn"
  ((down >= 16 * MIB && down <= 16 * MIB + 4096 + step)) ||
    fail "$rec: $down B 0.3 s after the fall: the plateau at 16 MiB is not drawn"
done

finish "series_times: ok (B at ${b_sync} ms sync, ${b_async} ms async)"
