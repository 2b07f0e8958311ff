#!/usr/bin/env bash
# growth_heldout.sh - growth verdicts on a program nobody here wrote, Debian's stripped sqlite3 shell: its in-memory table grows, its file database's page cache (PRAGMA cache_size) is bounded, its group_concat string is released; three runs, the same verdicts.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

need sqlite3 "apt-get install sqlite3"
cd "$tmp"

# The file database, made by a run that is not recorded: 20,000 rows of 200 bytes, 1058 pages of
# 4 KiB.
sqlite3 f.db <<'EOF' || die "could not make f.db"
create table t(a integer primary key, b text);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 20000)
  insert into t select x, printf('%0200d', x) from c;
EOF

# 30 rounds, each: 2,000 rows more into the in-memory table m (kept: it grows by about 54 pages a
# round); a scan of f.t through a cache held to 300 pages (it reads 1058: the cache fills in the
# first round and stays full); group_concat of f.t's 20,000 values, a 4 MB string built and
# dropped when its statement ends. `.exit 1` leaves without closing the databases: the shell
# closes them at a normal end, which frees the table after the program's last allocation, and a
# line freed before exit reads `released` however it grew (docs/TERMS.md, known limits).
{
  echo "attach 'f.db' as f;"
  echo "pragma f.cache_size = 300;"
  echo "create table m(a integer primary key, b text);"
  for i in $(seq 0 29); do
    echo "with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000)"
    echo "  insert into m(b) select printf('%0100d', x + $((i * 2000))) from c;"
    echo "select sum(length(b)) from f.t;"
    echo "select length(group_concat(b)) from f.t;"
  done
  echo ".exit 1"
} >script.sql
for i in $(seq 30); do printf '4000000\n4019999\n'; done >want.out

# The sites by traceback, library frames shown (every byte is allocated inside libsqlite3, so the
# shell's own first frame is one line for all of them), each with its frames and verdict.
for run in 1 2 3; do
  rc=0
  "$LEAKLAB" run -o "run$run.llcap" -- sqlite3 :memory: <script.sql >"out$run" 2>err || rc=$?
  [[ $rc == 1 ]] || die "run $run: exit $rc, want sqlite3's .exit 1: $(tail -3 err)"
  cmp -s want.out "out$run" || fail "run $run: sqlite3's output changed: $(head -3 "out$run")"
  "$LEAKLAB" report "run$run.llcap" --native --group-by traceback --growth --format json \
    >"growth$run.json" || die "report --growth, run $run: $(cat "growth$run.json")"
done

# Which site is which, from what the program does there, not from the verdicts:
# - the table's pages: the stack that goes through sqlite3BtreeInsert;
# - the file database's cached pages: the same page-cache allocation (the first five frames:
#   malloc, sqlite3Malloc, the page cache, the pager) reached from a scan, not an insert;
# - the string: sqlite3StrAccumEnlarge, growing group_concat's buffer.
for run in 1 2 3; do
  python3 - "growth$run.json" <<'PY' >"verdicts$run" || fail "run $run: $(cat "verdicts$run")"
import json, sys
d = json.load(open(sys.argv[1]))
sites = d["sites"]
names = lambda s: [f["function"] for f in s["frames"]]
def one(what, pick):
    got = [s for s in sites if pick(s)]
    if len(got) != 1:
        print("%s: %d judged sites, want 1: %s" % (what, len(got), [names(s)[:12] for s in got]))
        sys.exit(1)
    return got[0]
table = one("the table's pages", lambda s: "sqlite3BtreeInsert" in names(s))
cache = one("the cached pages", lambda s: names(s)[:5] == names(table)[:5] and s is not table)
string = one("the string", lambda s: "sqlite3StrAccumEnlarge" in names(s))
pages = 300
for what, s, want in (("table", table, "grows"), ("cache", cache, "bounded"), ("string", string, "released")):
    print("%s %s high=%d end=%d level=%d" % (what, s["growth"], s["high"], s["end"], s["level"]))
    if s["growth"] != want:
        print("the %s is %s, want %s" % (what, s["growth"], want))
        sys.exit(1)
# The figures the program's own settings predict: the cache holds at most 300 pages of 4096 B
# with a few hundred bytes of header each (a first batch of pages is made by another stack), and
# fills most of that; the string reaches 4,019,999 bytes; the table keeps 60,000 rows of more
# than 100 bytes.
assert pages * 2 // 3 * 4096 <= cache["level"] <= pages * 4400, cache
assert string["high"] >= 4019999 and string["end"] == 0, string
assert table["end"] >= 60000 * 100 and table["end"] == table["high"], table
PY
done
# The same verdicts from run to run, for every judged site (and the same sites judged).
for run in 2 3; do
  cmp -s verdicts1 "verdicts$run" || fail "run $run differs from run 1: $(diff verdicts1 "verdicts$run")"
  python3 - growth1.json "growth$run.json" <<'PY' || fail "the judged sites differ between runs 1 and $run"
import json, sys
key = lambda p: sorted((tuple((f["file"], f["function"]) for f in s["frames"]), s["growth"])
                       for s in json.load(open(p))["sites"])
sys.exit(key(sys.argv[1]) != key(sys.argv[2]))
PY
done

# What a first look shows: without --native every byte is the shell's call into sqlite3_step (one
# line, MODULE+0xOFFSET: the shell is stripped), and that line grows with the table.
"$LEAKLAB" report run1.llcap --growth >lines.txt || die "report --growth: $(cat lines.txt)"
grep -Eq "^/[^ ]*sqlite3:0 \(sqlite3\+0x[0-9a-f]+\): grows, size=" lines.txt ||
  fail "the shell's line does not grow: $(cat lines.txt)"

finish "growth_heldout: $(tr '\n' ';' <verdicts1)"
