#!/usr/bin/env bash
# cli_errors.sh - every `leaklab` misuse exits 2 and every bad file exits 3, with one line naming the bad input; never a crash.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

"$LL_PROGRAMS/snapshot_maker" "$tmp/base.llsnap" base
"$LL_PROGRAMS/snapshot_maker" "$tmp/current.llsnap" current
base=$tmp/base.llsnap

# ---- usage errors: exit 2 --------------------------------------------------------------------

expect_error "no verb" 2 "no verb" "$LEAKLAB"
expect_error "unknown verb" 2 "'frobnicate'" "$LEAKLAB" frobnicate
expect_error "unknown global option" 2 "'--frob'" "$LEAKLAB" --frob
expect_error "report without a file" 2 "missing" "$LEAKLAB" report
expect_error "unknown option" 2 "'--bogus'" "$LEAKLAB" report "$base" --bogus
expect_error "unknown option with a value" 2 "'--bogus'" "$LEAKLAB" report "$base" --bogus=1
expect_error "unknown short option" 2 "'-x'" "$LEAKLAB" report "$base" -x
expect_error "bad --at" 2 "'noon'" "$LEAKLAB" report "$base" --at noon
expect_error "bad --group-by" 2 "'size'" "$LEAKLAB" report "$base" --group-by size
expect_error "bad --format" 2 "'xml'" "$LEAKLAB" report "$base" --format xml
expect_error "negative --top" 2 "'-1'" "$LEAKLAB" report "$base" --top -1
expect_error "garbage --top" 2 "'ten'" "$LEAKLAB" report "$base" --top ten
expect_error "huge --top" 2 "'99999999999999999999999'" "$LEAKLAB" report "$base" --top 99999999999999999999999
expect_error "--top without a value" 2 "'--top'" "$LEAKLAB" report "$base" --top
expect_error "-o without a value" 2 "'-o'" "$LEAKLAB" report "$base" -o
expect_error "empty -o" 2 "-o" "$LEAKLAB" report "$base" -o ''
expect_error "flag given a value" 2 "'--cumulative=yes'" "$LEAKLAB" report "$base" --cumulative=yes
expect_error "cumulative traceback" 2 "--cumulative" "$LEAKLAB" report "$base" --cumulative --group-by traceback
expect_error "empty --include" 2 "--include" "$LEAKLAB" report "$base" --include ''
expect_error "--exclude of only a line" 2 "--exclude" "$LEAKLAB" report "$base" --exclude ':12'
expect_error "bad filter line" 2 "'a.c:99999999999'" "$LEAKLAB" report "$base" --include 'a.c:99999999999'
expect_error "two files to report" 2 "'extra'" "$LEAKLAB" report "$base" extra
expect_error "diff without files" 2 "missing" "$LEAKLAB" diff
expect_error "diff with one file" 2 "NEW" "$LEAKLAB" diff "$base"
expect_error "diff with three files" 2 "'third'" "$LEAKLAB" diff "$base" "$base" third
expect_error "diff bad option" 2 "'--nope'" "$LEAKLAB" diff "$base" "$base" --nope
# Without "--" a word is a lesson, never a program: a typo is named, with the lesson it was near.
expect_error "mistyped lesson" 2 "unknown lesson 'method_cach' (did you mean method_cache?)" \
  "$LEAKLAB" run method_cach
expect_error "mistyped lesson to check" 2 "(did you mean method_cache?)" "$LEAKLAB" check method_cach
expect_error "a program without --" 2 "unknown lesson 'true'" "$LEAKLAB" run true
# Usage errors come before any file is read: a missing file with a bad option is a usage error.
expect_error "usage before files" 2 "'--at'" "$LEAKLAB" report "$tmp/missing" --at

# ---- runtime errors: exit 3 ------------------------------------------------------------------

expect_error "missing file" 3 "$tmp/missing.llsnap: no such file or directory" \
  "$LEAKLAB" report "$tmp/missing.llsnap"
expect_error "a directory" 3 "$tmp:" "$LEAKLAB" report "$tmp"

: >"$tmp/empty.llsnap"
expect_error "empty file" 3 "$tmp/empty.llsnap:" "$LEAKLAB" report "$tmp/empty.llsnap"

# A capture that cannot be written: refused before the program starts (it would run for
# nothing), and a program that made its capture unwritable is told as such, not as a program
# the preload never entered (a statically linked one).
expect_error "unwritable -o" 3 "/proc/x.llcap: no such file or directory (no capture can be written there; the program was not started)" \
  "$LEAKLAB" run -o /proc/x.llcap -- /bin/sh -c ": >'$tmp/started'"
[[ -e $tmp/started ]] && fail "unwritable -o: the program was started"
run "$LEAKLAB" run -o "$tmp/w.llcap" -- /bin/sh -c 'mkdir "$1.tmp.$$"' sh "$tmp/w.llcap"
[[ $status -eq 3 ]] || fail "capture write failed: exit $status, want 3: $(cat "$tmp/err")"
grep -q "could not write the capture $tmp/w.llcap" "$tmp/err" || fail "write failure not said: $(cat "$tmp/err")"
grep -q "the preload could not write it (the line above says why)" "$tmp/err" ||
  fail "write failure blamed on something else: $(cat "$tmp/err")"
grep -q "statically linked" "$tmp/err" && fail "write failure blamed on static linking: $(cat "$tmp/err")"
ls "$tmp"/w.llcap.said.* 2>/dev/null && fail "markers left behind"

head -c 4096 /dev/urandom >"$tmp/random.llsnap"
expect_error "random bytes" 3 "$tmp/random.llsnap:" "$LEAKLAB" report "$tmp/random.llsnap"
printf 'hello, this is a text file\n' >"$tmp/text.llsnap"
expect_error "text file" 3 "$tmp/text.llsnap:" "$LEAKLAB" report "$tmp/text.llsnap"

size=$(stat -c %s "$base")
for len in 1 4 8 16 32 $((size / 2)) $((size - 1)); do
  [[ $len -ge $size || $len -lt 1 ]] && continue
  head -c "$len" "$base" >"$tmp/trunc.llsnap"
  expect_error "truncated to $len of $size bytes" 3 "$tmp/trunc.llsnap:" "$LEAKLAB" report "$tmp/trunc.llsnap"
  expect_error "truncated NEW in diff ($len bytes)" 3 "$tmp/trunc.llsnap:" "$LEAKLAB" diff "$base" "$tmp/trunc.llsnap"
done

# One byte flipped anywhere past the first few: a checksum or consistency error, never a crash.
for off in $((size / 3)) $((size / 2)) $((size - 1)); do
  cp "$base" "$tmp/flip.llsnap"
  byte=$(od -An -tu1 -j "$off" -N1 "$base" | tr -d ' ')
  printf "$(printf '\\%03o' $(((byte + 1) % 256)))" | dd of="$tmp/flip.llsnap" bs=1 seek="$off" conv=notrunc status=none
  expect_error "byte $off flipped" 3 "$tmp/flip.llsnap:" "$LEAKLAB" report "$tmp/flip.llsnap"
done

expect_error "a moment the file lacks" 3 "'leaks'" "$LEAKLAB" report "$base" --at leaks
run "$LEAKLAB" report "$base" --at leaks
grep -q 'holds: current, peak' "$tmp/err" || fail "missing moment: the views it holds are not listed: $(cat "$tmp/err")"
expect_error "diff: OLD lacks the moment" 3 "$tmp/current.llsnap:" \
  "$LEAKLAB" diff "$tmp/current.llsnap" "$base" --at peak

expect_error "-o in a missing directory" 3 "$tmp/no/such/dir/out.txt:" \
  "$LEAKLAB" report "$base" -o "$tmp/no/such/dir/out.txt"
[[ -e $tmp/no ]] && fail "-o: created a directory"
if [[ -w /dev/full ]]; then
  expect_error "-o on a full disk" 3 "/dev/full:" "$LEAKLAB" report "$base" -o /dev/full
  expect_error "json on a full disk" 3 "/dev/full:" "$LEAKLAB" report "$base" --format json -o /dev/full
fi
# A bad file must not leave an output file behind: the report is opened only once it is ready.
expect_error "no output for a bad input" 3 "$tmp/random.llsnap:" \
  "$LEAKLAB" report "$tmp/random.llsnap" -o "$tmp/never.txt"
[[ -e $tmp/never.txt ]] && fail "an output file was created for a failed report"

# -o onto a file being read (by name or through a link) is refused before anything is opened.
cp "$base" "$tmp/self.llsnap"
ln -s "$tmp/self.llsnap" "$tmp/link.llsnap"
expect_error "report -o onto its input" 2 "-o $tmp/link.llsnap is the file being read" \
  "$LEAKLAB" report "$tmp/self.llsnap" -o "$tmp/link.llsnap"
expect_error "diff -o onto an input" 2 "-o $tmp/self.llsnap is the file being read" \
  "$LEAKLAB" diff "$base" "$tmp/self.llsnap" -o "$tmp/self.llsnap"
cmp -s "$base" "$tmp/self.llsnap" || fail "the input was changed by a refused -o"

finish "cli_errors: all checks passed"
