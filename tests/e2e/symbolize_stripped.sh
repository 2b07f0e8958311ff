#!/usr/bin/env bash
# symbolize_stripped.sh - a stripped program (Debian's sqlite3: no symbols, no lines) reads MODULE:0 (MODULE+0xOFFSET) per call site: apart in every report, the same from run to run (diff matches them), each offset the return address objdump shows after a call.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

need sqlite3 "apt-get install sqlite3"
need objdump "apt-get install binutils"
cd "$tmp"
prog=$(readlink -f "$(command -v sqlite3)")
# The premise: nothing in the executable names its code (a -dbgsym package would).
if readelf -S "$prog" | grep -Eq '\.(symtab|debug_line)\b'; then
  die "$prog has symbols or lines: this test needs a stripped build"
fi

cat >script.sql <<'EOF'
create table t(a integer primary key, b text);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 20000)
  insert into t select x, printf('%0100d', x) from c;
select count(*), sum(length(b)) from t;
EOF
for run in 1 2; do
  "$LEAKLAB" run -o "run$run.llcap" -- sqlite3 :memory: <script.sql >"out$run" 2>err ||
    die "run $run: $(cat err)"
  [[ $(cat "out$run") == "20000|2000000" ]] || fail "sqlite3's output changed: $(cat "out$run")"
done

# Each line of the program is its own MODULE+0xOFFSET, none a bare MODULE:0.
"$LEAKLAB" report run1.llcap --top 1000 >lines.txt || die "report: $(cat lines.txt)"
base=$(basename "$prog")
grep -F "$prog:" lines.txt >own.txt || fail "no line of $prog: $(head -5 lines.txt)"
grep -Ev "^$prog:0 \($base\+0x[0-9a-f]+\): size=" own.txt && fail "a line of $prog without its offset"
[[ $(wc -l <own.txt) -ge 3 ]] || fail "fewer than 3 lines of $prog: $(cat own.txt)"
[[ $(cut -d: -f1-2 own.txt | sort | uniq -d) == "" ]] || fail "two lines with one name: $(cat own.txt)"

# Every offset is an address in the file: the instruction just before it is a call.
for off in $(grep -o "($base+0x[0-9a-f]*)" own.txt | grep -o '0x[0-9a-f]*' | head -5); do
  objdump -d "$prog" --start-address=$((off - 16)) --stop-address=$((off)) |
    grep -E "^ +[0-9a-f]+:" | tail -1 | grep -q $'\tcall' ||
    fail "$base+$off does not follow a call: $(objdump -d "$prog" --start-address=$((off - 16)) --stop-address=$((off)) | tail -3)"
done

# The same names in a second run (load addresses differ): diff matches every line of the top.
"$LEAKLAB" report run2.llcap --top 1000 | grep -F "$prog:" >own2.txt
[[ "$(cut -d: -f1-2 own.txt | sort)" == "$(cut -d: -f1-2 own2.txt | sort)" ]] ||
  fail "the lines differ between two runs: $(diff own.txt own2.txt | head -5)"
"$LEAKLAB" diff run1.llcap run2.llcap --top 3 >diff.txt || die "diff: $(cat diff.txt)"
top=$(sed -n 2p diff.txt)
[[ $top =~ ^$prog:0\ \($base\+0x[0-9a-f]+\):\ size=[0-9.]+\ [KM]iB\ \(\+0\ B\),\ count=[0-9]+\ \(\+0\) ]] ||
  fail "diff's top line is not matched across the runs: $top"

# The growth report keeps the sites apart too (file and line alone merged them into one).
"$LEAKLAB" report run1.llcap --growth --growth-min 1B >growth.txt || die "growth: $(cat growth.txt)"
n=$(grep -Ec "^$prog:0 \($base\+0x[0-9a-f]+\): (grows|bounded|released)" growth.txt || true)
[[ $n -ge 2 ]] || fail "growth: $n sites of $prog: $(cat growth.txt)"
"$LEAKLAB" report run1.llcap --native --group-by traceback --growth --format json >tb.json ||
  die "growth by traceback: $(cat tb.json)"
python3 - tb.json <<'PY' || fail "growth by traceback: $(cat tb.json)"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["sites"]) >= 2, d
assert all(s["function"] for s in d["sites"]), "a site with no name"
PY

finish "symbolize_stripped: ok"
