#!/usr/bin/env python3
# lesson_time.py - time commands (CPU seconds, fastest of interleaved runs) and print what a lesson's prose says of them, as an ordering or a ratio band (for lesson_outputs.py's figure blocks).
"""usage: tools/lesson_time.py [--runs R] TEMPLATE COMMAND...
       tools/lesson_time.py --table TEMPLATE < TABLE

Runs each COMMAND (a bash command line, output discarded) R times (default 1), round-robin so
that a burst of load on a shared machine falls on every command alike, and keeps each one's
fastest CPU time: user + system seconds of the command and everything it waited for (valgrind,
the program under it), not wall time, which on a shared machine mostly measures the others.
Then prints TEMPLATE as a Python f-string over t (t[0] is the first COMMAND's seconds, t[1] the
next, ...), with helpers that say what a lesson may quote, whatever the load:

    within(x, lo, hi)   'between LO and HI' when lo <= x <= hi, else 'NOT between LO and HI (x)'
    above(a, b, k=1)    'more than K times' when a > k * b, else 'NOT more than K times (a / b)'
    near(a, b, k)       'within K times' when a < k * b and b < k * a, else 'NOT within K times'

so a block's expected line holds the prose's words and the failure shows the measured value.
Example (massif against the plain run of one lesson):

    tools/lesson_time.py --runs 2 'massif: {within(t[1] / t[0], 10, 100)} times' \\
        'build/default/scenarios/chunked' 'valgrind --tool=massif --massif-out-file=/dev/null build/default/scenarios/chunked'

With --table, t is instead read from a table tools/lesson_times.sh printed (on stdin): t['ROW']
is the milliseconds of the time column ("12.5 ms") of the row whose first cell is ROW, or
'FIRST SECOND' when several rows share their first cell (t['chunked 4,096']).

Exit 0, 2 on bad usage, 3 when a command fails.
"""
import re
import resource
import subprocess
import sys


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def num(x):
    return f'{x:g}'


def within(x, lo, hi):
    if lo <= x <= hi:
        return f'between {num(lo)} and {num(hi)}'
    return f'NOT between {num(lo)} and {num(hi)} ({x:.3g})'


def above(a, b, k=1):
    words = 'more than' if k == 1 else f'more than {num(k)} times'
    if a > k * b:
        return words
    return f'NOT {words} ({a:.3g} vs {b:.3g})'


def near(a, b, k):
    if a < k * b and b < k * a:
        return f'within {num(k)} times'
    return f'NOT within {num(k)} times ({a:.3g} vs {b:.3g})'


def table(text):
    """the rows of a lesson_times.sh table: (first cell, second cell, milliseconds)."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        ms = [c for c in cells if re.fullmatch(r'[\d.]+ ms', c)]
        if line.startswith('|') and ms and len(cells) > 1:
            rows.append((cells[0], cells[1], float(ms[0].split()[0])))
    firsts = [r[0] for r in rows]
    return {(f if firsts.count(f) == 1 else f'{f} {s}'): v for f, s, v in rows}


def main(argv):
    runs = 1
    if argv[:1] == ['--table']:
        if len(argv) != 2:
            print('lesson_time: usage: tools/lesson_time.py --table TEMPLATE < TABLE', file=sys.stderr)
            return 2
        t = table(sys.stdin.read())
        if not t:
            print('lesson_time: no table with a time column (N ms) on stdin', file=sys.stderr)
            return 3
        print(eval('f' + repr(argv[1]), {'t': t, 'within': within, 'above': above, 'near': near, 'min': min}))
        return 0
    if argv[:1] == ['--runs']:
        if len(argv) < 2 or not argv[1].isdigit() or int(argv[1]) < 1:
            print('lesson_time: --runs wants a whole number >= 1', file=sys.stderr)
            return 2
        runs, argv = int(argv[1]), argv[2:]
    if argv[:1] in (['-h'], ['--help']):
        print(__doc__)
        return 0
    if len(argv) < 2:
        print('lesson_time: usage: tools/lesson_time.py [--runs R] TEMPLATE COMMAND... (--help)', file=sys.stderr)
        return 2
    template, cmds = argv[0], argv[1:]
    best = [None] * len(cmds)
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            before = cpu()
            p = subprocess.run(['bash', '-c', cmd], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            took = cpu() - before
            if p.returncode:
                err = p.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:]
                print(f'lesson_time: exit {p.returncode} from: {cmd}: {" ".join(err)}', file=sys.stderr)
                return 3
            if best[i] is None or took < best[i]:
                best[i] = took
    print(eval('f' + repr(template), {'t': best, 'within': within, 'above': above, 'near': near}))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
