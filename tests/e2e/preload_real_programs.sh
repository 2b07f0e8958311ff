#!/usr/bin/env bash
# preload_real_programs.sh - Debian programs nobody here wrote, under leaklab run: same stdout and status, a plausible peak.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cd "$tmp"

# Inputs.
seq 1 200000 >nums.txt
gzip -c nums.txt >nums.gz
# xz makes the same 226 allocations (its encoder's 93 MiB of tables) for 20,000 lines as for
# 200,000, in a twentieth of the time.
head -n 20000 nums.txt >few.txt
cat >alloc.py <<'PY'
d = {i: str(i) * 10 for i in range(20000)}
l = [list(range(100)) for _ in range(200)]
print(len(d), sum(map(len, l)))
PY
cat >script.sql <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
INSERT INTO t SELECT x, printf('name-%05d', x) FROM c;
SELECT count(*), sum(length(name)), max(name) FROM t WHERE id % 7 = 3;
SQL
printf 'int square(int x) { return x * x; }\nint main(void) { return square(3) - 9; }\n' >prog.c
git init -q repo && git -C repo config user.email t@example.org && git -C repo config user.name t
cp nums.txt repo/ && git -C repo add nums.txt && git -C repo commit -qm one

# name|min peak bytes|command...: run untraced, then traced; compare stdout and status.
check() {
  local name=$1 min=$2
  shift 2
  local rc_plain=0 rc_traced=0
  "$@" >"$name.plain" 2>/dev/null || rc_plain=$?
  "$LEAKLAB" run -o "$tmp/$name.llcap" -- "$@" >"$name.traced" 2>"$name.err" || rc_traced=$?
  [ "$rc_plain" = "$rc_traced" ] || fail "$name: status $rc_traced under leaklab, $rc_plain without"
  cmp -s "$name.plain" "$name.traced" || fail "$name: stdout differs under leaklab"
  peak=$("$LEAKLAB" report "$tmp/$name.llcap" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["peak_bytes"])')
  [ "$peak" -ge "$min" ] || fail "$name: peak $peak < $min"
  echo "$name: status $rc_plain, peak $peak bytes"
}

check python3 100000 /usr/bin/python3 alloc.py
check perl 100000 perl -e 'my %h; $h{$_} = "x" x 100 for 1..10000; print scalar(keys %h), "\n"'
check gzip 1024 gzip -dc nums.gz
check xz 1000000 xz -c few.txt
need sqlite3 "apt-get install sqlite3"
check sqlite3 100000 sqlite3 :memory: -init /dev/null -bail ".read script.sql"
check git 10000 git -C repo log --stat --format=%s
check git_status 10000 git -C repo status --porcelain
check gcc 10000 gcc -O1 -c prog.c -o prog.o
# A failing program keeps its status too.
check false_cat 1 cat /nonexistent/file
finish "preload_real_programs: ok"
