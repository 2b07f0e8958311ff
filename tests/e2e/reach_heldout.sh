#!/usr/bin/env bash
# reach_heldout.sh - on a program nobody here wrote (Debian's stripped perl running a script with globals, lost trees and reachable graphs), leaklab's four leak kinds equal valgrind memcheck's, byte for byte and block for block, with both recorders.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
need valgrind "tools/deps.sh installs it"
need perl "tools/deps.sh installs it"

# The script: a global hash of hashes of arrays (reachable from perl's globals), lexical cycles
# left behind, a global array of big strings. perl frees little at exit (PERL_DESTRUCT_LEVEL 0):
# its interpreter's arenas are what memcheck calls possibly lost, its parser's leftovers
# definitely lost with what they point to indirectly lost, the locale's data still reachable.
cat >"$tmp/heldout.pl" <<'PERL'
our %cache; our @ring;
for my $i (1 .. 200) { $cache{"k$i"} = { id => $i, tags => [ map { "t$_" } 1 .. 5 ] }; }
for my $i (1 .. 50) { my $a = { n => $i }; my $b = { prev => $a }; $a->{next} = $b; }
push @ring, [ ("x" x 100) ] for 1 .. 30;
print scalar(keys %cache), "\n";
PERL

# The same allocations in both runs: perl's hash order fixed, and the same environment. perl
# copies its environment into %ENV (its entries are possibly lost blocks), and valgrind adds
# variables to the program's (GLIBCXX_FORCE_NEW, LD_PRELOAD, ...): the leaklab runs get them
# too, LD_PRELOAD as a stand-in of the same length (XD_PRELOAD), which perl stores alike.
E=(env -i PATH=/usr/bin:/bin LANG=C.UTF-8 PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0)
"${E[@]}" env | sort >"$tmp/env.plain"
"${E[@]}" valgrind -q --tool=memcheck --leak-check=no env | sort >"$tmp/env.vg" || die "valgrind env"
mapfile -t ADD < <(comm -13 "$tmp/env.plain" "$tmp/env.vg" | sed 's/^LD_PRELOAD=/XD_PRELOAD=/')

# memcheck's summary: "kind bytes blocks" (its text's definitely lost is the direct bytes only).
# --run-libc-freeres=no: libc's own buffers stay live at exit, as they do under leaklab.
"${E[@]}" valgrind --leak-check=full --show-leak-kinds=all --run-libc-freeres=no \
  --log-file="$tmp/vg.log" perl "$tmp/heldout.pl" >"$tmp/vg.out" || die "valgrind perl: $(tail -3 "$tmp/vg.log")"
python3 - "$tmp/vg.log" >"$tmp/mc.kinds" <<'PY' || die "no LEAK SUMMARY in memcheck's log"
import re, sys
text = open(sys.argv[1]).read()
for k in ("definitely lost", "indirectly lost", "possibly lost", "still reachable"):
    m = re.search(r"%s: ([\d,]+) bytes in ([\d,]+) blocks" % k, text)
    print(k.replace(" ", "_"), m.group(1).replace(",", ""), m.group(2).replace(",", ""))
PY
# Every kind is there, so a scan that misses one cannot pass by accident.
awk '$3 == 0 { bad = bad " " $1 } END { if (bad) { print "memcheck found none of:" bad; exit 1 } }' \
  "$tmp/mc.kinds" || fail "the script no longer leaves every kind: $(cat "$tmp/mc.kinds")"

for rec in sync async; do
  "${E[@]}" "${ADD[@]}" "$LEAKLAB" run --recorder $rec -o "$tmp/$rec.llcap" -- perl "$tmp/heldout.pl" \
    >"$tmp/$rec.out" 2>"$tmp/$rec.err" || fail "$rec: run: $(tail -3 "$tmp/$rec.err")"
  cmp -s "$tmp/vg.out" "$tmp/$rec.out" || fail "$rec: perl's output differs from its run under valgrind"
  "$LEAKLAB" report "$tmp/$rec.llcap" --at end --top 0 --format json >"$tmp/$rec.json" || fail "$rec: report"
  python3 - "$tmp/$rec.json" >"$tmp/ll.kinds" <<'PY' || fail "$rec: no leak_kinds in the json"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable"):
    print(k, d["leak_kinds"][k]["bytes"], d["leak_kinds"][k]["blocks"])
PY
  diff "$tmp/mc.kinds" "$tmp/ll.kinds" >"$tmp/diff" ||
    fail "$rec: leaklab's leak kinds differ from memcheck's (< memcheck, > leaklab):
$(cat "$tmp/diff")"
done
finish "reach_heldout: ok ($(tr '\n' ';' <"$tmp/mc.kinds"))"
