#!/usr/bin/env bash
# preload_rlimit.sh - a program that caps its own address space (RLIMIT_AS) gets the memory it asked for under either recorder, and its capture is written even when it exhausts its limit.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

P=$LL_PROGRAMS/rlimit_as
SRC=rlimit_as.c

# kept CAPTURE TAG: "size count" of the line tagged @TAG live at the end ("none": not live).
kept() {
  local got
  got=$(sites "$1" end $SRC | sed -n "s/^$(line $SRC "$2") //p")
  echo "${got:-none}"
}

for rec in async sync; do
  # 512 MiB: far below the helper's 64 GiB of reserved address space.
  run "$LEAKLAB" run --no-report --recorder $rec -o "$tmp/$rec.llcap" -- "$P" 512
  [ "$status" = 0 ] || fail "$rec: exit $status: $(cat "$tmp/err")"
  [ "$(cat "$tmp/out")" = "$(printf 'errno 0\nbig ok')" ] || fail "$rec: the program did not get its 50 MiB: $(cat "$tmp/out")"
  [ "$(kept "$tmp/$rec.llcap" rl_big)" = "52428800 1" ] && [ "$(kept "$tmp/$rec.llcap" rl_small)" = "3000 3" ] ||
    fail "$rec: kept $(kept "$tmp/$rec.llcap" rl_big 2>&1) / $(kept "$tmp/$rec.llcap" rl_small 2>&1)"

  # Up to the limit: malloc says no at last, and the capture is still written.
  run "$LEAKLAB" run --no-report --recorder $rec -o "$tmp/x$rec.llcap" -- "$P" 256 exhaust
  [ "$status" = 0 ] || fail "$rec exhaust: exit $status: $(cat "$tmp/err")"
  [ "$(cat "$tmp/out")" = "$(printf 'errno 0\nbig ok\nexhausted: yes')" ] || fail "$rec exhaust: $(cat "$tmp/out")"
  [ -f "$tmp/x$rec.llcap" ] && [ "$(kept "$tmp/x$rec.llcap" rl_small)" = "3000 3" ] ||
    fail "$rec exhaust: no capture: $(cat "$tmp/err")"
done
# Capped before it starts (ulimit -v, as a harness does): leaklab's own start must leave the
# program's errno and output as they are without it (its first allocations may fail there).
# Not in the sanitize preset: there the leaklab command is ASan's, which cannot start under such a
# cap (its shadow memory); the preload, the part checked here, is the same build in both.
if [[ $LL_SANITIZE != 1 ]]; then
  want=$(ulimit -v 150000 && "$P" 140)
  for rec in auto sync; do
    got=$(ulimit -v 150000 && "$LEAKLAB" run --no-report --recorder $rec -o "$tmp/c$rec.llcap" -- "$P" 140 2>"$tmp/err")
    [ "$got" = "$want" ] || fail "capped before exec, $rec: '$got', without leaklab '$want': $(cat "$tmp/err")"
  done
fi

# The same allocations, whichever recorder.
for rec in async sync; do
  "$LEAKLAB" report "$tmp/$rec.llcap" --at allocations --format json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["total_allocations"], d["peak_bytes"])' >"$tmp/$rec.txt"
done
cmp -s "$tmp/async.txt" "$tmp/sync.txt" || fail "async $(cat "$tmp/async.txt") vs sync $(cat "$tmp/sync.txt")"

finish "RLIMIT_AS: the program keeps its memory, the capture is written"
