#!/usr/bin/env bash
# reach_heldout.sh - on a program nobody here wrote (Debian's stripped perl running a script with globals, lost trees and reachable graphs), leaklab's leak kinds equal valgrind memcheck's, byte for byte and block for block, with both recorders (possibly lost and still reachable up to one block between them).
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
  # Definitely and indirectly lost exactly. Possibly lost and still reachable exactly too, or
  # one block that moved between them: a word left in a register or stack slot can be a start
  # pointer in one process and not in another (seen in sanitize builds: one 38 B block, about one
  # run in three; not yet explained, see issue #16's note). Interior pointers counted as start
  # pointers move thousands of blocks, which still fails.
  python3 - "$tmp/mc.kinds" "$tmp/ll.kinds" >"$tmp/diff" <<'PY' ||
import sys
mc, ll = ({l.split()[0]: (int(l.split()[1]), int(l.split()[2])) for l in open(f)} for f in sys.argv[1:])
bad = [k for k in ("definitely_lost", "indirectly_lost") if mc[k] != ll[k]]
p, s = "possibly_lost", "still_reachable"
moved = (mc[p][1] - ll[p][1], mc[p][0] - ll[p][0])
if (mc[p], mc[s]) != (ll[p], ll[s]) and not (
        abs(moved[0]) == 1 and (ll[s][1] - mc[s][1], ll[s][0] - mc[s][0]) == moved):
    bad += [p, s]
for k in bad: print(f"{k}: memcheck {mc[k][0]} B / {mc[k][1]}, leaklab {ll[k][0]} B / {ll[k][1]}")
sys.exit(1 if bad else 0)
PY
    fail "$rec: leaklab's leak kinds differ from memcheck's: $(cat "$tmp/diff")"
done
finish "reach_heldout: ok ($(tr '\n' ';' <"$tmp/mc.kinds"))"
