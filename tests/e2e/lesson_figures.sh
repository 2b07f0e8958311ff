#!/usr/bin/env bash
# lesson_figures.sh - tools/lesson_outputs.py's hidden figure blocks: a block passes when its command prints what it says and the text after it quotes every number printed; a changed figure on either side fails; N~P% tolerates P percent; --no-valgrind leaves valgrind's blocks out; tools/lesson_time.py times in CPU seconds and words orderings and bands.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# bad README [NO_VALGRIND]: how many blocks of README lesson_outputs finds differing.
bad() {
  /usr/bin/python3 - "$LL_SOURCE_DIR/tools" "$1" "${2:-0}" <<'EOF'
import contextlib, io, sys
sys.path.insert(0, sys.argv[1])
import lesson_outputs
with contextlib.redirect_stdout(io.StringIO()) as out:
    n = lesson_outputs.check_readme(sys.argv[2], 'README.md', 'build/default', False, sys.argv[3] == '1')
sys.stderr.write(out.getvalue())
print(n)
EOF
}

# readme FILE PRINTED QUOTED: a README whose figure block prints PRINTED and says it must, and
# whose text after the block quotes QUOTED; a heading ends the text, and a number after it does
# not count.
readme() {
  cat >"$1" <<EOF
# A lesson

<!-- lesson_figures: the peak
\$ echo 'peak $2 B, 3 lines'
peak ${4:-$2} B, 3 lines
-->
The peak is **$3 B**, held by three lines (3 of them).

## Next

The peak again: $2 B.
EOF
}

readme "$tmp/ok.md" 1234567 1,234,567
[[ $(bad "$tmp/ok.md" 2>"$tmp/err") == 0 ]] || fail "a quoted figure that matches the run fails: $(cat "$tmp/err")"

readme "$tmp/prose.md" 1234567 1,234,568
[[ $(bad "$tmp/prose.md" 2>"$tmp/err") == 1 ]] || fail "a figure the text misquotes passes"
grep -q 'does not quote: 1234567' "$tmp/err" || fail "the misquoted figure is not named: $(cat "$tmp/err")"

readme "$tmp/run.md" 1234999 1,234,567 1234567
[[ $(bad "$tmp/run.md" 2>"$tmp/err") == 1 ]] || fail "a figure the run no longer prints passes"
grep -q '^+peak 1234999 B' "$tmp/err" || fail "the run's figure is not shown: $(cat "$tmp/err")"

# N~P%: 1,000,000 within 5% of 1,040,000, not within 3%.
cat >"$tmp/approx.md" <<'EOF'
<!-- lesson_figures: max RSS
$ echo 'rss 1,040,000 KiB'
rss 1,000,000~5% KiB
-->
Max RSS: 1,000,000 KiB.
EOF
[[ $(bad "$tmp/approx.md" 2>"$tmp/err") == 0 ]] || fail "a figure within its tolerance fails: $(cat "$tmp/err")"
sed -i 's/~5%/~3%/' "$tmp/approx.md"
[[ $(bad "$tmp/approx.md" 2>"$tmp/err") == 1 ]] || fail "a figure outside its tolerance passes"

# A block that runs valgrind is left out with --no-valgrind (its command would fail here).
cat >"$tmp/valgrind.md" <<'EOF'
<!-- lesson_figures: massif's peak
$ echo 'no valgrind in this test' >/dev/null; echo 'massif 2 B' # valgrind --tool=massif
massif 1 B
-->
massif: 1 B.
EOF
[[ $(bad "$tmp/valgrind.md" 2>/dev/null) == 1 ]] || fail "a differing valgrind block passes"
[[ $(bad "$tmp/valgrind.md" 1 2>"$tmp/err") == 0 ]] || fail "--no-valgrind runs a valgrind block: $(cat "$tmp/err")"

# tools/lesson_time.py: CPU time, not wall time (a sleep costs nothing), and the words the prose
# quotes, or NOT and the value when the claim does not hold.
lt=$LL_SOURCE_DIR/tools/lesson_time.py
got=$("$lt" --runs 2 '{above(t[0], t[1], 5)}; sleep: {"idle" if t[1] < 0.1 else "busy"}' 'python3 -c "sum(range(2 * 10**7))"' 'sleep 0.3' 2>&1)
[[ $got == 'more than 5 times; sleep: idle' ]] || fail "lesson_time.py: a CPU-bound run against a sleep: $got"
printf '%s\n' '| run | chunk | time | ratio |' '| --- | ---: | ---: | ---: |' '| a | - | 10.0 ms | 1.0x |' \
  '| b | - | 25.5 ms | 2.6x |' '| chunked | 256 | 5.0 ms | 0.5x |' '| chunked | 4,096 | 6.0 ms | 0.6x |' >"$tmp/table.md"
got=$("$lt" --table '{within(t["b"] / t["a"], 2, 3)}; {near(t["chunked 256"], t["chunked 4,096"], 1.5)}; {above(t["a"], t["b"])}; {within(t["b"] / t["a"], 3, 4)}' <"$tmp/table.md" 2>&1)
[[ $got == 'between 2 and 3; within 1.5 times; NOT more than (10 vs 25.5); NOT between 3 and 4 (2.55)' ]] ||
  fail "lesson_time.py --table: $got"
"$lt" '{t}' 'exit 7' 2>"$tmp/err" && fail "lesson_time.py: a failing command passes"
[[ $? == 3 ]] && grep -q 'exit 7 from: exit 7' "$tmp/err" || fail "lesson_time.py: a failing command is not exit 3, named: $(cat "$tmp/err")"

finish "lesson_figures: ok"
