#!/usr/bin/env bash
# install_example.sh - `cmake --install` into a temporary prefix, then examples/ci_project builds against it (find_package), its ctest --output-junit passes, and pkg-config works.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

prefix=$tmp/prefix
# step NAME CMD...: run a command, its output kept in $tmp/NAME.log and shown when it fails.
step() {
  local name=$1
  shift
  if ! "$@" >"$tmp/$name.log" 2>&1; then
    cat "$tmp/$name.log" >&2
    die "$name: $*"
  fi
}

# A sanitized leaklab needs the sanitizer runtime in whatever links it.
san_flags=""
if [[ $LL_SANITIZE == 1 ]]; then san_flags="-fsanitize=address,undefined"; fi

step install cmake --install "$LL_BUILD_DIR" --prefix "$prefix"
for f in include/leaklab/leaklab.h include/leaklab/hooks.h include/leaklab/budget.h \
  include/leaklab/cmocka.h include/leaklab/report.h lib/libleaklab.so lib/libleaklab.a \
  bin/leaklab lib/cmake/leaklab/leaklabConfig.cmake lib/pkgconfig/leaklab.pc \
  libexec/leaklab/scenarios/index.txt; do
  [[ -e $prefix/$f ]] || fail "not installed: $f"
done
if [[ -e $LL_BUILD_DIR/libleaklab-preload.so && ! -e $prefix/lib/leaklab/libleaklab-preload.so ]]; then
  fail "the preload library was not installed"
fi
"$prefix/bin/leaklab" --version | grep -q '^leaklab [0-9]' || fail "installed leaklab --version"
"$prefix/bin/leaklab" scenarios | grep -q '^method_cache ' || fail "installed leaklab finds no lessons"

# ---- the example project, against the install ---------------------------------------------------
src=$LL_SOURCE_DIR/examples/ci_project
build=$tmp/ci_build
step configure cmake -S "$src" -B "$build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="$san_flags" -DCMAKE_EXE_LINKER_FLAGS="$san_flags"
grep -q "leaklab" "$build/CMakeCache.txt" || fail "the example did not find leaklab"
step build cmake --build "$build" -j2
set +e
(cd "$build" && ctest --output-junit junit.xml --output-on-failure) >"$tmp/ctest.log" 2>&1
status=$?
set -e
[[ $status -eq 0 ]] || fail "the example's ctest failed (exit $status): $(cat "$tmp/ctest.log")"
junit=$build/junit.xml
if [[ ! -s $junit ]]; then
  fail "no JUnit XML at $junit"
else
  grep -q 'tests="2"' "$junit" || fail "junit: want 2 tests: $(head -c 400 "$junit")"
  grep -q 'failures="0"' "$junit" || fail "junit: want 0 failures: $(head -c 400 "$junit")"
  grep -q '<testcase name="memory_budgets"' "$junit" || fail "junit: memory_budgets missing"
  grep -q '<testcase name="over_budget_is_reported"' "$junit" || fail "junit: over_budget_is_reported missing"
  grep -q 'Test was limited to 1.0MiB but allocated' "$junit" || fail "junit: no failure message kept"
fi

# The over-budget test really fails on its own (the CTest entry only matches its message), and
# names the lines of the library, not of the test.
set +e
"$build/test_wordfreq_memory" --over-budget >"$tmp/over.log" 2>&1
status=$?
set -e
[[ $status -eq 1 ]] || fail "--over-budget: exit $status, want 1 (one failed test)"
grep -q "^        add_word at .*/src/wordfreq.c:[0-9]*$" "$tmp/over.log" ||
  fail "--over-budget: no frame in wordfreq.c: $(cat "$tmp/over.log")"
# The figures are requested bytes: the same on every run.
for i in 1 2; do
  "$build/test_wordfreq_memory" --over-budget >"$tmp/over.$i.log" 2>&1 || true
  cmp -s <(grep -v '^\[' "$tmp/over.log") <(grep -v '^\[' "$tmp/over.$i.log") ||
    fail "--over-budget: the message changed between runs"
done

# ---- pkg-config, and a leak the budget must catch -------------------------------------------------
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs leaklab) || fail "pkg-config --cflags --libs leaklab"
[[ $flags == *"-lleaklab"* && $flags == *"/include"* ]] || fail "pkg-config flags: $flags"
cat >"$tmp/leaky.c" <<'C'
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <leaklab/cmocka.h>
static char *kept[8];
static void remember(int i) { kept[i] = malloc(1000); }
static void test_leaky(void **state) {
  (void)state;
  LL_ASSERT_LEAKS_BELOW(4096, for (int i = 0; i < 8; i++) remember(i));
}
int main(void) {
  const struct CMUnitTest t[] = {cmocka_unit_test(test_leaky)};
  return cmocka_run_group_tests(t, NULL, NULL);
}
C
# shellcheck disable=SC2086
step cc cc -std=c11 -Wall -Wextra -Werror $san_flags -include leaklab/hooks.h "$tmp/leaky.c" \
  -o "$tmp/leaky" $(pkg-config --cflags --libs leaklab) $(pkg-config --libs cmocka)
set +e
LD_LIBRARY_PATH=$prefix/lib "$tmp/leaky" >"$tmp/leaky.log" 2>&1
status=$?
set -e
[[ $status -eq 1 ]] || fail "leaky: exit $status, want 1"
grep -q "^Test was limited to leaking 4.0KiB per line but leaked 7.8KiB at 1 line$" "$tmp/leaky.log" ||
  fail "leaky: message: $(cat "$tmp/leaky.log")"
grep -q "^        remember at .*leaky.c:8$" "$tmp/leaky.log" || fail "leaky: no frame: $(cat "$tmp/leaky.log")"

finish "install_example: ok"
