#!/usr/bin/env bash
# preload_go_cgo.sh - a Go program built with cgo ends with a raw exit_group (os.Exit, or a return from main): under either recorder its capture is written with the C.malloc figures, said rightly, and its exit status is kept (#13 item 8).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

need go "make deps installs Debian's golang-go"
# Go's build cache lives in the build tree: the first build of runtime/cgo takes a while.
export GOCACHE=${GOCACHE:-$LL_BUILD_DIR/go-cache} GOFLAGS=-mod=mod GO111MODULE=off CGO_ENABLED=1
P=$tmp/go_cgo
(cd "$LL_SOURCE_DIR/tests/programs/go_cgo" && go build -o "$P" main.go) >"$tmp/build" 2>&1 ||
  die "go build: $(cat "$tmp/build")"

# sites CAPTURE MOMENT: "size:count" of the cgo C.malloc wrapper's line (every C.malloc of
# main.go comes through it: the frame-pointer walk stops at cgo's switch of stacks).
sites() {
  "$LEAKLAB" report "$1" --at "$2" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [s for s in d["sites"] if s["file"].endswith("_cgo_export.c")]
print(" ".join("%d:%d" % (x["size"], x["count"]) for x in s) or "none")'
}

for rec in sync async; do
  for how in return exit:0 exit:7; do
    name="--recorder $rec, $how"
    want=0
    args=(return)
    [[ $how == exit:* ]] && { want=${how#exit:}; args=(exit "$want"); }
    rm -f "$tmp/c.llcap"
    set +e
    "$LEAKLAB" run --recorder $rec -o "$tmp/c.llcap" -- "$P" "${args[@]}" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    [[ $rc -eq $want ]] || fail "$name: exit $rc, want the program's $want: $(cat "$tmp/err")"
    [[ -s $tmp/c.llcap ]] || { fail "$name: no capture: $(cat "$tmp/err")"; continue; }
    grep -q "exited (status $want) past leaklab's exit hooks" "$tmp/err" ||
      fail "$name: the end not said: $(cat "$tmp/err")"
    grep -q "killed by" "$tmp/err" && fail "$name: called a kill: $(cat "$tmp/err")"
    if [[ $rec == sync ]]; then
      grep -q "a Go program ends with a raw exit_group system call, which only the helper" "$tmp/err" ||
        fail "$name: the helper's use not said: $(cat "$tmp/err")"
    fi
    # The capture says how it ended as for any program (the helper read it from the zombie).
    "$LEAKLAB" report "$tmp/c.llcap" --format html -o "$tmp/c.html"
    grep -q '"how":"exit","signal":0,' "$tmp/c.html" ||
      fail "$name: the capture's end: $(grep -o '"how":[^,]*,"signal":[^,]*' "$tmp/c.html")"
    got="$(sites "$tmp/c.llcap" peak) $(sites "$tmp/c.llcap" end) $(sites "$tmp/c.llcap" allocations)"
    [[ $got == "56000:7 6000:6 60000:11" ]] ||
      fail "$name: C.malloc's peak, end, allocations: $got, want 56000:7 6000:6 60000:11"
  done
done

# Under --follow-fork (which records in the program's threads) the tracker is shared with a
# watcher process that outlives the program: its capture is written by it, and the status kept.
rm -f "$tmp/f.llcap"
set +e
"$LEAKLAB" run --follow-fork -o "$tmp/f.llcap" -- "$P" exit 5 >/dev/null 2>"$tmp/err"
rc=$?
set -e
[[ $rc -eq 5 ]] || fail "--follow-fork: exit $rc, want the program's 5: $(cat "$tmp/err")"
grep -q "exited (status 5) past leaklab's exit hooks" "$tmp/err" ||
  fail "--follow-fork: the end not said: $(cat "$tmp/err")"
grep -q "will be lost" "$tmp/err" && fail "--follow-fork: a loss said: $(cat "$tmp/err")"
if [[ -s $tmp/f.llcap ]]; then
  got="$(sites "$tmp/f.llcap" peak) $(sites "$tmp/f.llcap" end) $(sites "$tmp/f.llcap" allocations)"
  [[ $got == "56000:7 6000:6 60000:11" ]] ||
    fail "--follow-fork: C.malloc's peak, end, allocations: $got, want 56000:7 6000:6 60000:11"
else
  fail "--follow-fork: no capture: $(cat "$tmp/err")"
fi

finish "preload_go_cgo: Go (cgo) programs keep their capture and exit status under both recorders"
