#!/usr/bin/env bash
# preload_said_once.sh - a warning of the preload is said once per run, not once per process (--follow-fork) or image, and its markers do not outlive the run nor pass for child captures (#13 item 10).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

P=$LL_PROGRAMS
S=$P/static_env
cd "$tmp"

# said NEEDLE: how many stderr lines of the last run contain NEEDLE.
said() { grep -c -- "$1" "$tmp/err" || true; }
# no_markers NAME: nothing CAPTURE.said.* left, and run did not list one as a child capture.
no_markers() {
  local left
  left=$(ls "$tmp" | grep '\.said\.' || true)
  [[ -z $left ]] || fail "$1: markers left behind: $left"
  grep -q '\.said\.' "$tmp/err" && fail "$1: a marker listed: $(cat "$tmp/err")"
  return 0
}

# Four processes each starting with --recorder async under --follow-fork: one line.
rm -f c.llcap*
run "$LEAKLAB" run --recorder async --follow-fork -o c.llcap -- sh -c \
  "$P/known_pattern; $P/known_pattern; $P/known_pattern >/dev/null; true"
[[ $status -eq 0 ]] || fail "async + follow-fork: exit $status: $(cat "$tmp/err")"
n=$(said "does not combine with --follow-fork")
[[ $n -eq 1 ]] || fail "async + follow-fork: said $n times, want once: $(cat "$tmp/err")"
no_markers "async + follow-fork"
ls c.llcap.* >/dev/null 2>&1 || fail "async + follow-fork: no child capture"

# Three children each exec'ing a static program: one line.
rm -f c.llcap*
run "$LEAKLAB" run --follow-fork -o c.llcap -- sh -c \
  "$P/exec_static $S; $P/exec_static $S; $P/exec_static $S"
[[ $status -eq 0 ]] || fail "static execs: exit $status: $(cat "$tmp/err")"
n=$(said "execs an image the preload cannot enter")
[[ $n -eq 1 ]] || fail "static execs: said $n times, want once: $(cat "$tmp/err")"
no_markers "static execs"

# A marker an earlier, killed run left behind does not silence the next run.
rm -f c.llcap*
: >c.llcap.said.1
run "$LEAKLAB" run --recorder async --follow-fork -o c.llcap -- sh -c "$P/known_pattern; true"
n=$(said "does not combine with --follow-fork")
[[ $n -eq 1 ]] || fail "stale marker: said $n times, want once: $(cat "$tmp/err")"
no_markers "stale marker"

# One process: said, and nothing left either.
run env LEAKLAB_RECORDER=bogus "$LEAKLAB" run -o d.llcap -- "$P/known_pattern"
n=$(said "takes auto, async or sync; using auto")
[[ $n -eq 1 ]] || fail "one process: said $n times, want once: $(cat "$tmp/err")"
no_markers "one process"

# `leaklab run` itself terminated (kill, timeout, a closed terminal): the signal goes on to the
# program, run reports its end (143) and leaves no marker behind (run died at once, before).
rm -f e.llcap*
env LEAKLAB_RECORDER=bogus "$LEAKLAB" run -o e.llcap -- sleep 30 >/dev/null 2>"$tmp/err" &
run_pid=$!
for _ in $(seq 500); do [[ -e e.llcap.said.0 ]] && break; sleep 0.02; done
[[ -e e.llcap.said.0 ]] || fail "run terminated: the warning's marker never appeared: $(cat "$tmp/err")"
kill -TERM "$run_pid"
set +e
wait "$run_pid"
status=$?
set -e
[[ $status -eq 143 ]] || fail "run terminated: exit $status, want 143: $(cat "$tmp/err")"
grep -q "was killed by SIGTERM" "$tmp/err" || fail "run terminated: the program's end not said: $(cat "$tmp/err")"
no_markers "run terminated"

finish "preload_said_once: the preload's warnings are said once per run"
