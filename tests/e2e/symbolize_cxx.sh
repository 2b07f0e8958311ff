#!/usr/bin/env bash
# symbolize_cxx.sh - C++ frames read from a symbol table (libstdc++'s) are shown demangled; the default attribution stays the user's line.
set -euo pipefail
: "${LEAKLAB:?}" "${LL_SOURCE_DIR:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
SRC=$LL_SOURCE_DIR/tests/programs/cxx_names.cc
# c++ comes with build-essential, which `make deps` installs.
command -v c++ >/dev/null || fail "no C++ compiler (c++): run make deps"
c++ -O0 -g -fno-omit-frame-pointer -o "$T/cxx_names" "$SRC"

"$LEAKLAB" run --native -o "$T/cxx.llcap" -- "$T/cxx_names" >"$T/out" 2>/dev/null || fail "run"
[ "$(cat "$T/out")" = "1000" ] || fail "program output: $(cat "$T/out")"
"$LEAKLAB" report "$T/cxx.llcap" --group-by traceback --top 0 >"$T/tb"
grep -q "libstdc++.so.6:0 (operator new(unsigned long))" "$T/tb" || fail "operator new not demangled: $(head -20 "$T/tb")"
grep -q "(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::" "$T/tb" ||
  fail "libstdc++'s string member not demangled"
grep -q "(_Z" "$T/tb" && fail "a mangled name is left: $(grep "(_Z" "$T/tb" | head -3)"
# The JSON carries the same names.
"$LEAKLAB" report "$T/cxx.llcap" --group-by traceback --format json >"$T/tb.json"
grep -q '"function": "operator new(unsigned long)"' "$T/tb.json" || fail "JSON keeps the mangled name"

# Without --native the line is the user's.
line=$(grep -n "/\* @fill \*/" "$SRC" | cut -d: -f1)
"$LEAKLAB" report "$T/cxx.llcap" --no-native --group-by traceback --top 0 >"$T/own"
grep -q "cxx_names.cc:$line (fill)" "$T/own" || fail "no user frame for @fill: $(head -8 "$T/own")"
echo "symbolize_cxx: ok"
