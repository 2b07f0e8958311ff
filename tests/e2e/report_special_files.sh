#!/usr/bin/env bash
# report_special_files.sh - `leaklab report` / `diff` never hang on a FIFO or device (given as the file, or named as a module inside a capture) and check a file's magic before reading all of it.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# Every command here runs under `timeout`: a hang is a failure (exit 124), not a stuck test.
T_OUT=20

"$LL_PROGRAMS/snapshot_maker" "$tmp/base.llsnap" base
base=$tmp/base.llsnap

# ---- the file itself: a FIFO with no writer, a device: one line, exit 3, at once ----------------
mkfifo "$tmp/cap.fifo"
expect_error "report of a FIFO" 3 "$tmp/cap.fifo: not a regular file" \
  timeout "$T_OUT" "$LEAKLAB" report "$tmp/cap.fifo"
expect_error "diff with a FIFO as NEW" 3 "$tmp/cap.fifo: not a regular file" \
  timeout "$T_OUT" "$LEAKLAB" diff "$base" "$tmp/cap.fifo"
expect_error "report of a device" 3 "/dev/zero: not a regular file" \
  timeout "$T_OUT" "$LEAKLAB" report /dev/zero
# A FIFO with a writer waiting is not read either (the writer is left as it was).
sleep 30 >"$tmp/cap.fifo" &
writer=$!
expect_error "report of a FIFO with a writer" 3 "$tmp/cap.fifo: not a regular file" \
  timeout "$T_OUT" "$LEAKLAB" report "$tmp/cap.fifo"
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true

# massif --file reads a massif.out: a FIFO there is refused the same way, never waited on.
expect_error "massif --file FIFO" 3 "$tmp/cap.fifo: not a regular file" \
  timeout "$T_OUT" "$LEAKLAB" massif --file "$tmp/cap.fifo" --capture "$base"

# ---- a huge file that is not a capture: the magic is read first, nothing else ------------------
# 1 TiB of holes: reading it all (or reserving room for it) before the 8-byte magic would say
# "out of memory" or take minutes; the answer is the magic's.
truncate -s 1T "$tmp/huge.llcap"
expect_error "a huge file that is no capture" 3 "$tmp/huge.llcap: not a leaklab file" \
  timeout "$T_OUT" "$LEAKLAB" report "$tmp/huge.llcap"
# The same with a capture's header claiming a size the file does not have: said from the header.
head -c 24 "$base" >"$tmp/head.llcap"
truncate -s 1T "$tmp/head.llcap"
expect_error "a huge file with a capture's header" 3 "$tmp/head.llcap: file is corrupt" \
  timeout "$T_OUT" "$LEAKLAB" report "$tmp/head.llcap"

# ---- a module named in a capture that is now a FIFO: reported without it, never waited for -----
cp "$LL_PROGRAMS/known_pattern" "$tmp/kp"
"$LEAKLAB" run -o "$tmp/kp.llcap" -- "$tmp/kp" >/dev/null 2>&1 || die "run of a copy of known_pattern"
run timeout "$T_OUT" "$LEAKLAB" report "$tmp/kp.llcap" --group-by traceback
[[ $status -eq 0 ]] || fail "report with its program present: exit $status: $(cat "$tmp/err")"
grep -q "known_pattern.c:$(line known_pattern.c big) (main)" "$tmp/out" ||
  fail "the program's lines are not named: $(head -5 "$tmp/out")"
rm "$tmp/kp"
mkfifo "$tmp/kp"
run timeout "$T_OUT" "$LEAKLAB" report "$tmp/kp.llcap" --group-by traceback
[[ $status -eq 0 ]] || fail "report with the program's path now a FIFO: exit $status: $(cat "$tmp/err")"
grep -q "kp:0" "$tmp/out" || fail "the FIFO's frames are not shown as unknown lines: $(head -5 "$tmp/out")"
run timeout "$T_OUT" "$LEAKLAB" diff "$tmp/kp.llcap" "$tmp/kp.llcap"
[[ $status -eq 0 ]] || fail "diff with a module path now a FIFO: exit $status: $(cat "$tmp/err")"

finish "report_special_files: ok"
