#!/usr/bin/env bash
# report_corrupt_frames.sh - a checksum-valid native capture whose frames claim ip 0 (symbolic frames) is reported and diffed without touching freed memory (issue #13 item 5).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# ip 0 frames keep the capture's own strings; those lived in the raw snapshot, which the loader
# frees after symbolising, so every reader below crashed (SIGSEGV, or ASan's use-after-free).
fix=$LL_SOURCE_DIR/tools/llcap_fixcrc.py
"$LEAKLAB" run -o "$tmp/good.llcap" -- "$LL_PROGRAMS/known_pattern" >/dev/null 2>"$tmp/err" ||
  die "run known_pattern: $(cat "$tmp/err")"
python3 "$fix" --zero-ips "$tmp/good.llcap" "$tmp/bad.llcap" || die "llcap_fixcrc.py --zero-ips"

run "$LEAKLAB" report "$tmp/bad.llcap"
[[ $status -eq 0 ]] || fail "report: exit $status: $(head -c 300 "$tmp/err")"
grep -q '^<unknown>:0: size=' "$tmp/out" || fail "report: no '<unknown>:0' line: $(head -c 300 "$tmp/out")"

run "$LEAKLAB" report "$tmp/bad.llcap" --format json
[[ $status -eq 0 ]] || fail "report --format json: exit $status: $(head -c 300 "$tmp/err")"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" 2>/dev/null ||
  fail "report --format json: not JSON"

run "$LEAKLAB" report "$tmp/bad.llcap" --cumulative
[[ $status -eq 0 ]] || fail "report --cumulative: exit $status: $(head -c 300 "$tmp/err")"
grep -q '^<unknown>:0: size=' "$tmp/out" || fail "report --cumulative: no '<unknown>:0' line"

run "$LEAKLAB" report "$tmp/bad.llcap" --format massif
[[ $status -eq 0 ]] || fail "report --format massif: exit $status: $(head -c 300 "$tmp/err")"
grep -q '^mem_heap_B=' "$tmp/out" || fail "report --format massif: no mem_heap_B line"

run "$LEAKLAB" diff "$tmp/good.llcap" "$tmp/bad.llcap"
[[ $status -eq 0 ]] || fail "diff: exit $status: $(head -c 300 "$tmp/err")"
grep -q '^<unknown>:0: size=' "$tmp/out" || fail "diff: no '<unknown>:0' line"

# Replays of the fuzzer's crashing inputs (tools/fuzz.sh files them here): each must end in
# a report or a one-line error, never a crash.
shopt -s nullglob
for f in "$LL_SOURCE_DIR"/tests/data/fuzz/*.llcap; do
  for verb in report diff; do
    if [[ $verb == report ]]; then run "$LEAKLAB" report "$f"; else run "$LEAKLAB" diff "$f" "$f"; fi
    [[ $status -eq 0 || $status -eq 3 ]] || fail "$verb $(basename "$f"): exit $status: $(head -c 300 "$tmp/err")"
  done
done

finish "report_corrupt_frames: ip-0 frames survive report (text, json, cumulative, massif) and diff"
