#!/usr/bin/env bash
# ctest_labels.sh - every CTest entry of the build carries exactly one of the labels unit, e2e, scenario and browser, so `ctest -L LABEL` selects each test once.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

need ctest

# The entries as CTest itself lists them (nothing is run).
ctest --test-dir "$LL_BUILD_DIR" --show-only=json-v1 >"$tmp/tests.json" ||
  die "ctest --show-only=json-v1 in $LL_BUILD_DIR failed"
python3 - "$tmp/tests.json" >"$tmp/bad" <<'PY'
import json, sys
labels = {"unit", "e2e", "scenario", "browser"}
tests = json.load(open(sys.argv[1]))["tests"]
for t in tests:
    got = [l for p in t.get("properties", []) if p["name"] == "LABELS" for l in p["value"]]
    if len(got) != 1 or got[0] not in labels:
        print("%s: labels %s, want exactly one of %s" % (t["name"], got or "none", sorted(labels)))
if len(tests) < 50:
    print("only %d tests listed: the listing is not this build's" % len(tests))
PY
while read -r bad; do fail "$bad"; done <"$tmp/bad"
finish "ctest_labels: every test has exactly one label"
