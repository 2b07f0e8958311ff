#!/usr/bin/env bash
# check_program.sh - `leaklab check -- PROGRAM`: per-line leak limits on a known pattern, a failing or crashing program never passes (exit 3, 128+N when killed by signal N), and misuse exits 2 naming the bad text.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cd "$tmp"

# want_status STATUS WHAT, has_line LINE WHAT: of the last run.
want_status() {
  [[ $status -eq $1 ]] || fail "$2: exit $status, want $1; stderr: $(tail -15 "$tmp/err")"
}
has_line() {
  grep -qxF -- "$1" "$tmp/err" || fail "$2: no line '$1' in: $(cat "$tmp/err")"
}

prog=$LL_PROGRAMS/known_pattern

# ---- leaks per line: @realloc 3000, @loop 5 x 512, @helper 777, @strdup 12 never freed --------
run "$LEAKLAB" check --limit-leaks 3001B -- "$prog"
want_status 0 "leaks under 3001B"
has_line "PASS: $prog: no line leaked 2.9KiB or more (largest: 2.9KiB)" "leaks under 3001B"

run "$LEAKLAB" check --limit-leaks 3000B -- "$prog"
want_status 1 "leaks under 3000B"
has_line "FAIL: $prog: a line leaked 2.9KiB (3000 B), the limit is 2.9KiB per line" "leaks 3000B"
has_line "Test was limited to leaking 2.9KiB per line but leaked 2.9KiB at 1 line" "leaks 3000B"
has_line "    - 3000 B leaked here:" "leaks 3000B"
has_line "        main at $LL_SOURCE_DIR/tests/programs/known_pattern.c:$(line known_pattern.c realloc)" "leaks 3000B"

# 2560 B at @loop reaches a 2560 B limit too: two lines, 5560 B between them; @helper does not.
run "$LEAKLAB" check --limit-leaks 2560B -- "$prog"
want_status 1 "leaks under 2560B"
has_line "Test was limited to leaking 2.5KiB per line but leaked 5.4KiB at 2 lines" "leaks 2560B"
has_line "    - 2560 B leaked here:" "leaks 2560B"
grep -q "leaked here:" "$tmp/err" && [[ $(grep -c "leaked here:" "$tmp/err") -eq 2 ]] ||
  fail "leaks 2560B: want 2 lines listed: $(cat "$tmp/err")"
# Both limits at once: each gets its verdict; one failure fails the check.
run "$LEAKLAB" check --limit-memory 1MB --limit-leaks 2560B -- "$prog"
want_status 1 "both limits"
has_line "PASS: $prog: peak 106.6KiB (109120 B) is below the limit 1.0MiB" "both limits"
grep -q "^FAIL: $prog: a line leaked" "$tmp/err" || fail "both limits: no leak FAIL line"

# ---- the program's own failure: its figures are printed, but it never passes ------------------
run "$LEAKLAB" check --limit-memory 1GB -- "$LL_PROGRAMS/crash" abort
want_status 134 "crash abort" # killed by SIGABRT: 128+6
# Its figures, but no PASS before the line saying it does not pass.
has_line "leaklab: $LL_PROGRAMS/crash: peak 4.2KiB (4300 B) is below the limit 1.0GiB" "crash abort"
if grep -q "^PASS" "$tmp/err"; then fail "crash abort: a failed program PASSed: $(cat "$tmp/err")"; fi
grep -q "^leaklab: $LL_PROGRAMS/crash was killed by SIGABRT: the program failed, so the check does not pass$" "$tmp/err" ||
  fail "crash abort: no failure line: $(cat "$tmp/err")"
run "$LEAKLAB" check --limit-memory 1GB -- /bin/sh -c 'exit 4'
want_status 3 "exit 4"
grep -q "^leaklab: /bin/sh exited with status 4: the program failed, so the check does not pass$" "$tmp/err" ||
  fail "exit 4: no failure line: $(cat "$tmp/err")"
if grep -q "^PASS" "$tmp/err"; then fail "exit 4: a failed program PASSed: $(cat "$tmp/err")"; fi
run "$LEAKLAB" check --limit-memory 1GB -- "$tmp/no-such-program"
want_status 3 "missing program"
grep -q "no-such-program" "$tmp/err" || fail "missing program not named: $(cat "$tmp/err")"

# ---- misuse: exit 2, one line naming the bad text ----------------------------------------------
expect_usage() { # NEEDLE ARGS...
  local needle=$1
  shift
  expect_error "$*" 2 "$needle" "$LEAKLAB" check "$@"
}
expect_usage "'70 megs'" --limit-memory "70 megs" -- "$prog"
# A bare number is no SIZE: the missing unit is named, not taken for bytes.
expect_usage "--limit-memory 70 has no unit: write 70B for bytes, or 70KB, 70MB, 70GB" \
  --limit-memory 70 -- "$prog"
expect_usage "--limit-leaks 1.5 has no unit" --limit-leaks 1.5 -- "$prog"
expect_usage "'1.MB'" --limit-leaks 1.MB -- "$prog"
expect_usage "'-5MB'" --limit-memory=-5MB method_cache
expect_usage "--limit-memory SIZE" -- "$prog"
expect_usage "missing the program" --limit-memory 1MB
expect_usage "'2'" --scale 2 method_cache:lru
expect_usage "--scale is for lessons" --scale 0.5 --limit-memory 1MB -- "$prog"
expect_usage "'nope'" method_cache:nope
expect_usage "'extra'" method_cache:lru extra
run "$LEAKLAB" check --help
want_status 0 "--help"
grep -q "^exit status: 0 every limit passed" "$tmp/out" || fail "--help: no exit status text"

finish "check_program: ok"
