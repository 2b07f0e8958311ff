#!/usr/bin/env bash
# preload_exec_static.sh - an exec of a statically linked program midway: what was recorded before it is written, the program's exit status is kept, and the static image sees no leaklab variable (#13 item 8).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

P=$LL_PROGRAMS/exec_static
S=$LL_PROGRAMS/static_env
readelf -l "$S" | grep -q INTERP && die "$S is not statically linked"

"$P" "$S" >"$tmp/plain.out" 2>&1 || die "exec_static failed untraced: $(cat "$tmp/plain.out")"
grep -q "^static_env: 2 argument(s), no leaklab variable$" "$tmp/plain.out" || die "untraced: $(cat "$tmp/plain.out")"

for rec in sync async; do
  for how in v vp; do
    name="--recorder $rec, exec$how"
    rm -f "$tmp/c.llcap"
    if [[ $how == vp ]]; then
      set +e
      PATH="$(dirname "$S"):$PATH" "$LEAKLAB" run --no-report --recorder $rec -o "$tmp/c.llcap" -- "$P" static_env vp \
        >"$tmp/out" 2>"$tmp/err"; rc=$?
      set -e
    else
      set +e
      "$LEAKLAB" run --no-report --recorder $rec -o "$tmp/c.llcap" -- "$P" "$S" >"$tmp/out" 2>"$tmp/err"; rc=$?
      set -e
    fi
    [[ $rc -eq 0 ]] || fail "$name: exit $rc, want the program's 0: $(cat "$tmp/err")"
    cmp -s "$tmp/plain.out" "$tmp/out" || fail "$name: the static program printed: $(cat "$tmp/out")"
    grep -q "the recording stops there" "$tmp/err" || fail "$name: no word of the exec: $(cat "$tmp/err")"
    [[ -s $tmp/c.llcap ]] || { fail "$name: no capture"; continue; }
    "$LEAKLAB" report "$tmp/c.llcap" --at leaks --format json >"$tmp/leaks.json" || fail "$name: report"
    got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%d:%d:%d" % (s["line"], s["size"], s["count"]) for s in d["sites"] if s["file"].endswith("exec_static.c")))' "$tmp/leaks.json")
    want="$(line exec_static.c kept):3000:3"
    [[ $got == "$want" ]] || fail "$name: leaks before the exec are '$got', want '$want'"
  done
done

finish "preload_exec_static: an exec of a static program keeps what was recorded before it and the exit status, both recorders"
