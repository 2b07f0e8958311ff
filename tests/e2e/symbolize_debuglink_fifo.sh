#!/usr/bin/env bash
# symbolize_debuglink_fifo.sh - a module whose separate debug file (.gnu_debuglink, beside it or in .debug/) is a FIFO is symbolised from its own symbols at once, never waited on; a regular debug file is still read (#13 item 10).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

need objcopy "binutils, from build-essential"
cd "$tmp"
cat >p.c <<'EOF'
#include <stdlib.h>
void *keep;
int main(void) {
  keep = malloc(1234); /* @keep */
  return 0;
}
EOF
"${CC:-cc}" -g -O0 -fno-omit-frame-pointer -o p p.c || die "cc p.c"
objcopy --only-keep-debug p p.debug && objcopy --strip-debug --add-gnu-debuglink=p.debug p ||
  die "objcopy: cannot split the debug file"
keep_line=$(grep -n '@keep' p.c | cut -d: -f1)

# The debug file as it should be: found through the debuglink, the line named.
run "$LEAKLAB" run -o c.llcap -- ./p
[[ $status -eq 0 ]] || die "run with p.debug: exit $status: $(cat "$tmp/err")"
grep -q "p.c:$keep_line: size=1234 B" "$tmp/err" || fail "p.debug not read: $(cat "$tmp/err")"

# the debug file a FIFO: beside the module, then in .debug/. Every reader ends at once.
for where in . .debug; do
  rm -f p.debug .debug/p.debug
  mkdir -p "$where"
  mkfifo "$where/p.debug"
  for cmd in "report c.llcap" "report c.llcap --native --format json" "run -o d.llcap -- ./p"; do
    # shellcheck disable=SC2086 # cmd is words
    run timeout 30 "$LEAKLAB" $cmd
    [[ $status -eq 124 ]] && { fail "$where/p.debug a FIFO: leaklab $cmd hung"; continue; }
    [[ $status -eq 0 ]] || fail "$where/p.debug a FIFO: leaklab $cmd: exit $status: $(cat "$tmp/err")"
  done
  grep -q "/p:0 (main): size=1234 B" "$tmp/err" || fail "$where/p.debug a FIFO: not the module's own name: $(cat "$tmp/err")"
done

finish "symbolize_debuglink_fifo: a FIFO for a debug file is never waited on"
