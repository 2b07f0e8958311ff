#!/usr/bin/env bash
# symbolize_cxx.sh - C++ frames read from a symbol table (libstdc++'s) are shown demangled; the default attribution stays the user's line.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

SRC=$LL_SOURCE_DIR/tests/programs/cxx_names.cc
# c++ comes with build-essential, which `make deps` installs.
need c++ "build-essential: run make deps"
c++ -O0 -g -fno-omit-frame-pointer -o "$tmp/cxx_names" "$SRC"

"$LEAKLAB" run --native -o "$tmp/cxx.llcap" -- "$tmp/cxx_names" >"$tmp/out" 2>/dev/null || die "run"
[ "$(cat "$tmp/out")" = "1000" ] || fail "program output: $(cat "$tmp/out")"
"$LEAKLAB" report "$tmp/cxx.llcap" --group-by traceback --top 0 >"$tmp/tb"
grep -q "libstdc++.so.6:0 (operator new(unsigned long))" "$tmp/tb" || fail "operator new not demangled: $(head -20 "$tmp/tb")"
grep -q "(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::" "$tmp/tb" ||
  fail "libstdc++'s string member not demangled"
grep -q "(_Z" "$tmp/tb" && fail "a mangled name is left: $(grep "(_Z" "$tmp/tb" | head -3)"
# The JSON carries the same names.
"$LEAKLAB" report "$tmp/cxx.llcap" --group-by traceback --format json >"$tmp/tb.json"
grep -q '"function": "operator new(unsigned long)"' "$tmp/tb.json" || fail "JSON keeps the mangled name"

# Without --native the line is the user's.
line=$(line cxx_names.cc fill)
"$LEAKLAB" report "$tmp/cxx.llcap" --no-native --group-by traceback --top 0 >"$tmp/own"
grep -q "cxx_names.cc:$line (fill)" "$tmp/own" || fail "no user frame for @fill: $(head -8 "$tmp/own")"
finish "symbolize_cxx: ok"
