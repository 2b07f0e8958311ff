#!/usr/bin/env bash
# lesson_figures.sh - tools/lesson_outputs.py's hidden figure blocks: a block passes when its command prints what it says and the text after it quotes every number printed; a changed figure on either side fails; N~P% tolerates P percent; --no-valgrind leaves valgrind's blocks out.
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

finish "lesson_figures: ok"
