#!/usr/bin/env bash
# preload_unharmed_fds.sh - a recorded program has the descriptors it would have untraced (the same first free one), and files it opens after closing inherited ones are its own.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

P=$LL_PROGRAMS/fd_reuse
# Input with no NUL byte (the program strndup's it) and of several chunks.
seq 1 3000 >"$tmp/in"

"$P" "$tmp/in" "$tmp/plain.copy" </dev/null >"$tmp/plain.out" || die "fd_reuse failed untraced"
# 3 from a shell; whatever the test runner leaves open, the recorded run must print the same.
grep -q '^first free fd [0-9]' "$tmp/plain.out" || die "untraced fd_reuse printed: $(cat "$tmp/plain.out")"
cmp -s "$tmp/in" "$tmp/plain.copy" || die "untraced, the copy differs from the input"

for unwind in auto fp libunwind; do
  for rec in sync async; do
    name="--unwind $unwind --recorder $rec"
    "$LEAKLAB" run --no-report --unwind $unwind --recorder $rec -o "$tmp/c.llcap" -- \
      "$P" "$tmp/in" "$tmp/copy" </dev/null >"$tmp/out" 2>"$tmp/err" || fail "$name: exit: $(cat "$tmp/err")"
    diff "$tmp/plain.out" "$tmp/out" >"$tmp/diff" || fail "$name: the program saw other descriptors: $(cat "$tmp/diff")"
    cmp -s "$tmp/in" "$tmp/copy" || fail "$name: the copy differs from the input: $(cmp "$tmp/in" "$tmp/copy" 2>&1)"
    # And the recording is whole: every strndup (each one freed at once: a temporary), on the
    # program's line (a DWARF walk through libc's strndup: the frame-pointer walk skips main).
    [[ $unwind == fp ]] && continue
    chunks=$(( ($(wc -c <"$tmp/in") + 62) / 63 ))
    count=$("$LEAKLAB" report "$tmp/c.llcap" --at temporary --format json | python3 -c '
import json, sys
print(sum(s["count"] for s in json.load(sys.stdin)["sites"] if s["file"].endswith("fd_reuse.c")))')
    [[ $count -eq $chunks ]] || fail "$name: $count temporaries from fd_reuse.c, want $chunks"
  done
done

finish "preload_unharmed_fds: the same descriptors and the program's files untouched, every unwinder and recorder"
