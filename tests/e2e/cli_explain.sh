#!/usr/bin/env bash
# cli_explain.sh - `leaklab explain` renders every lesson for a terminal: no Markdown syntax left, text wrapped, hints and solutions hidden unless --solutions.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

export COLUMNS=60
lessons=$("$LEAKLAB" scenarios | awk '{ print $1 }')
[[ -n $lessons ]] || die "no lessons listed"

for lesson in $lessons; do
  run "$LEAKLAB" explain "$lesson"
  [[ $status -eq 0 ]] || { fail "$lesson: exit $status: $(cat "$tmp/err")"; continue; }
  # No Markdown or HTML syntax at a line's start: headings, fences, <details>, comments.
  if grep -nE '^(#{1,6} |```|<details|</details|<summary|<!--)' "$tmp/out" >"$tmp/raw"; then
    fail "$lesson: raw Markdown left: $(head -3 "$tmp/raw")"
  fi
  # Wrapped at $COLUMNS: a longer line is code (indented), a table row, a heading (underlined
  # next) or holds a `code span`, which is never broken.
  awk -v w="$COLUMNS" '
    NR > 1 && length(prev) > w && prev !~ /^    / && prev !~ /^\|/ && prev !~ /`/ &&
      prev !~ /^[-=]+$/ && $0 !~ /^[-=]+$/ { print prev }
    { prev = $0 }' "$tmp/out" >"$tmp/long"
  [[ -s $tmp/long ]] && fail "$lesson: lines over $COLUMNS columns: $(head -3 "$tmp/long")"
  grep -q '^=\+$' "$tmp/out" || fail "$lesson: no underlined title"
done

# method_cache's hints: one line each by default, the text with --solutions.
hint="Write down the key of one cache entry"
run "$LEAKLAB" explain method_cache
tr '\n' ' ' <"$tmp/out" | tr -s ' ' | grep -q "\[Hint 1: hidden; 'leaklab explain method_cache --solutions' shows it\]" ||
  fail "no hidden-hint line: $(grep -n Hint "$tmp/out" | head -3)"
if grep -q "$hint" "$tmp/out"; then fail "a hint shown without --solutions"; fi
run "$LEAKLAB" explain method_cache --solutions
[[ $status -eq 0 ]] || fail "--solutions: exit $status: $(cat "$tmp/err")"
grep -q "$hint" "$tmp/out" || fail "--solutions: hint 1 not shown"
grep -q "^\[Hint 1\]$" "$tmp/out" || fail "--solutions: hint 1 not named"
if grep -q "hidden;" "$tmp/out"; then fail "--solutions: something still hidden"; fi

# A code span is taken as written: Python's `__slots__` keeps its underscores (not bold markers).
run "$LEAKLAB" explain slots_vs_dict
tr '\n' ' ' <"$tmp/out" | tr -s ' ' | grep -q 'as integers outside Python.s small-int cache are' ||
  fail "slots_vs_dict: a paragraph of the snapshot exercise is missing"
tr '\n' ' ' <"$tmp/out" | tr -s ' ' | grep -qF 'an instance with a `__dict__` and for one with `__slots__` alike' ||
  fail "slots_vs_dict: code spans lost their underscores: $(grep -n 'getsizeof' "$tmp/out" | head -2)"

expect_error "explain a typo" 2 "unknown lesson 'method_cach'" "$LEAKLAB" explain method_cach
expect_error "explain an unknown option" 2 "'--answers'" "$LEAKLAB" explain method_cache --answers

finish "cli_explain: all passed"
