#!/usr/bin/env bash
# preload_modules_dag.sh - the preload's files call only down: each includes only the headers of modules listed before its own in preload_state.h's module order.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
need python3

python3 - "$LL_SOURCE_DIR/allocator_hooks" <<'PY' || fail "the preload's module order does not hold (above)"
import glob, os, re, sys
src = sys.argv[1]
# The Contract's table: " *   NAME      what it is   -> what it calls", bottom first.
order = re.findall(r"^ \*   ([a-z]+) {2,}", open(os.path.join(src, "preload_state.h")).read(), re.M)
rank = {name: i for i, name in enumerate(order)}
bad = 0
if len(order) < 2 or order[0] != "state":
    print("FAIL: preload_state.h lists no module order starting with state: %s" % order)
    sys.exit(1)
for path in sorted(glob.glob(os.path.join(src, "preload_*.[ch]"))):
    name = re.match(r"preload_([a-z]+)\.[ch]$", os.path.basename(path)).group(1)
    if name not in rank:
        print("FAIL: %s: module '%s' is not in preload_state.h's order" % (path, name))
        bad = 1
        continue
    for dep in re.findall(r'^#include "preload_([a-z]+)\.h"', open(path).read(), re.M):
        if dep != name and (dep not in rank or rank[dep] >= rank[name]):
            print("FAIL: %s includes preload_%s.h, which is not below '%s' in the order %s"
                  % (os.path.basename(path), dep, name, " < ".join(order)))
            bad = 1
sys.exit(bad)
PY

finish "preload_modules_dag: every preload file includes only modules below its own"
