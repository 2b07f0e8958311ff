# lib.sh - what every tests/e2e script shares: strict mode, CTest's environment, a temporary directory, fail/die/finish, and the helpers several scripts use.
# shellcheck shell=bash
# Sourced, never run: each script starts `source "$(dirname "$0")/lib.sh"`, and tests/CMakeLists.txt
# leaves this file out of the CTest entries.
set -euo pipefail

# What tests/CMakeLists.txt gives every script (LL_SANITIZE too: 1 in the sanitize preset).
ll__need_env() { # VARIABLE WHAT
  [[ -n ${!1:-} ]] || { echo "FAIL: $1 must name $2 (run the e2e scripts through ctest)" >&2; exit 1; }
}
ll__need_env LEAKLAB "the leaklab binary"
ll__need_env LL_BUILD_DIR "the build directory"
ll__need_env LL_SOURCE_DIR "the source directory"
ll__need_env LL_PROGRAMS "the test programs directory"
LL_SANITIZE=${LL_SANITIZE:-0}

# The JSON checks' python3 is Debian's, which tools/deps.sh installs, not whatever comes first on
# PATH: a version manager's shim there (pyenv's) costs seconds a call on a busy machine, and the
# scripts call python3 dozens of times.
if [[ -x /usr/bin/python3 ]]; then
  python3() { /usr/bin/python3 "$@"; }
fi

# A directory of its own per script, removed at exit; a script that counted failures but ran off
# its end (or exited 0) still fails.
tmp=$(mktemp -d)
failures=0
ll__at_exit() {
  local rc=$?
  rm -rf "$tmp"
  if [[ $rc -eq 0 && $failures -gt 0 ]]; then
    echo "$failures failure(s)" >&2
    exit 1
  fi
}
trap ll__at_exit EXIT

# fail MESSAGE: one failed check, counted; the script goes on to the next.
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# die MESSAGE: a failure the rest of the script cannot go on from (a missing tool, a lost file).
die() {
  echo "FAIL: $*" >&2
  exit 1
}

# finish MESSAGE: the verdict at the end: exit 1 when a check failed, else MESSAGE.
finish() {
  if [[ $failures -gt 0 ]]; then
    echo "$failures failure(s)" >&2
    exit 1
  fi
  echo "$1"
}

# need COMMAND [HOW]: COMMAND is installed, or the script fails at once (HOW says how to get it).
need() {
  command -v "$1" >/dev/null || die "$1 is not installed${2:+ ($2)}"
}

# run CMD...: runs CMD with its stdout in $tmp/out, its stderr in $tmp/err, its exit in $status.
run() {
  status=0
  "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}

# expect_error NAME STATUS NEEDLE CMD...: exits STATUS, prints nothing on stdout and exactly one
# line on stderr, starting "leaklab: " and containing NEEDLE (the bad input, named);
# a usage error (2) ends with its hint, "(try 'leaklab VERB --help')".
expect_error() {
  local name=$1 want=$2 needle=$3
  shift 3
  run "$@"
  local err
  err=$(cat "$tmp/err")
  [[ $status -eq $want ]] || fail "$name: exit $status, want $want; stderr: $err"
  [[ -s $tmp/out ]] && fail "$name: unexpected stdout: $(head -c 200 "$tmp/out")"
  [[ $(wc -l <"$tmp/err") -eq 1 ]] || fail "$name: want one line on stderr, got: $err"
  [[ $err == "leaklab: "* ]] || fail "$name: stderr does not start with 'leaklab: ': $err"
  [[ $err == *"$needle"* ]] || fail "$name: stderr does not name '$needle': $err"
  if [[ $want -eq 2 && $err != *"--help')" ]]; then fail "$name: usage error without a hint: $err"; fi
  return 0
}

# line SOURCE TAG: the line of the first "/* @TAG */" in tests/programs/SOURCE.
line() {
  grep -n "/\* @$2 \*/" "$LL_SOURCE_DIR/tests/programs/$1" | head -1 | cut -d: -f1
}

# lesson_built NAME: the lesson's program is built; else one failure, and false.
lesson_built() {
  [[ -x $LL_BUILD_DIR/scenarios/$1 ]] && return 0
  fail "no $1 lesson in $LL_BUILD_DIR/scenarios"
  return 1
}

# ---- numbers from JSON reports -------------------------------------------------------------------

# json_num KEY FILE: the first "KEY": NUMBER in the JSON report FILE.
json_num() {
  grep -o "\"$1\": *[0-9]*" "$2" | head -1 | grep -o '[0-9]*$'
}

# json_field CAPTURE KEY [REPORT OPTIONS...]: one top-level number of `report --format json`.
json_field() {
  local capture=$1 key=$2
  shift 2
  "$LEAKLAB" report "$capture" --format json "$@" | sed -n "s/^  \"$key\": \\([0-9]*\\),\$/\\1/p"
}

# sites CAPTURE MOMENT FILE: "line size count" of each site of FILE (the end of its path) live at
# MOMENT (`report --at MOMENT --format json`), one a line, by line number. Written at once, so
# that a reader which stops early (grep -q) leaves no writer behind to fail under pipefail.
sites() {
  "$LEAKLAB" report "$1" --at "$2" --format json | python3 -c '
import json, sys
sys.stdout.write("".join("%d %d %d\n" % (s["line"], s["size"], s["count"])
                         for s in sorted(json.load(sys.stdin)["sites"], key=lambda s: s["line"])
                         if s["file"].endswith(sys.argv[1])))' "$3"
}

# leaklab_peak CAPTURE: the capture's peak in bytes.
leaklab_peak() {
  json_field "$1" peak_bytes --at peak
}

# ---- `leaklab check` on a lesson ------------------------------------------------------------------

# check_lesson SPEC WANT_STATUS [OPTIONS...]: checks SPEC into $tmp/SPEC.llcap (':' as '-'); the
# program's stdout is in $tmp/out, leaklab's stderr in $tmp/err.
check_lesson() {
  local spec=$1 want=$2
  shift 2
  run "$LEAKLAB" check -o "$tmp/${spec/:/-}.llcap" "$@" "$spec"
  [[ $status -eq $want ]] || fail "$spec $*: exit $status, want $want; stderr: $(tail -20 "$tmp/err")"
  # The program's stdout is its own, untouched: the lessons print their results there.
  [[ -s $tmp/out ]] || fail "$spec: the program's stdout is missing"
  grep -q '^PASS: \|^FAIL: ' "$tmp/out" && fail "$spec: a verdict went to stdout"
  return 0
}

# expect_pass SPEC LIMIT [OPTIONS...]: one PASS line naming the exact peak and the limit.
expect_pass() {
  local spec=$1 limit=$2
  shift 2
  check_lesson "$spec" 0 "$@"
  grep -Eq "^PASS: $spec: peak [0-9.]+(B|KiB|MiB) \([0-9]+ B\) is below the limit $limit$" "$tmp/err" ||
    fail "$spec: no PASS line: $(grep -E '^(PASS|FAIL)' "$tmp/err")"
}

# expect_fail SPEC LIMIT [FUNCTION [OPTIONS...]]: FAIL, then pytest-memray's text with the top
# lines and their frames, FUNCTION (a regular expression; any function by default) first.
expect_fail() {
  local spec=$1 limit=$2 func=${3:-[a-z_]+}
  shift $(($# < 3 ? $# : 3))
  check_lesson "$spec" 1 "$@"
  local first nl=$'\n'
  first=$(grep -A4 '^FAIL: ' "$tmp/err" | head -5) || true
  local re="^FAIL: $spec: peak ([0-9.]+MiB) \(([0-9]+) B\) is not below the limit $limit$nl"
  re+="Test was limited to $limit but allocated ([0-9.]+MiB)${nl}List of allocations:$nl"
  re+="    - [0-9.]+ (B|KiB|MiB) allocated here:$nl        $func at /[^ ]*\.c:[0-9]+$"
  if [[ ! $first =~ $re ]]; then
    fail "$spec: pytest-memray text not found: $first"
  elif [[ ${BASH_REMATCH[1]} != "${BASH_REMATCH[3]}" ]]; then
    fail "$spec: the FAIL line and the text disagree on the peak: $first"
  fi
}
