#!/usr/bin/env python3
# lesson_outputs.py - run every command a lesson's README quotes and check (or, with --update, refresh) the output it quotes; --update retakes its pictures too.
"""usage: tools/lesson_outputs.py [--update] [--no-images] [--build DIR] [LESSON...]

Checks scenarios/LESSON/README.md (default: every lesson of scenarios/index.txt) against a real
run. A fenced block whose first line starts with "$ " is a transcript: each "$ " line is a
command, run with bash from the repository root (PATH starts with the build directory, so
`leaklab` is build/default/leaklab; stdout and stderr together, as a terminal shows them), and
the lines under it, up to the next "$ " line, are the output it must print. Commands run in the
README's order, so a later block may read the capture an earlier one wrote.

Compared as a reader would: the checkout's path is shown as /work/main (the READMEs' outputs
come from there); wall and CPU times, rates per second, process ids, valgrind's progress
lines, the exit scan's layout-dependent figures (the roots' size, blocks per first holder) and
jemalloc's statistics at exit may differ; a line "..." in the README stands for any lines.
Every other character, every byte count, must be equal.

A fence preceded by the line <!-- lesson_outputs: skip --> is not run (say why beside it).

--update rewrites each block that differs with what the run printed (blocks that match stay as
they are), then runs tools/screenshots.sh for the lessons checked, unless --no-images. Exit 0
when every block matched (or was updated), 1 when one differs (a unified diff says where), 2 on
bad usage, 3 when a command could not run at all.
"""
import difflib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP = '<!-- lesson_outputs: skip -->'

# What may differ between two runs of the same command (each replaced by a mark on both sides).
VOLATILE = [
    (re.compile(r'\b\d+(\.\d+)? ?(ms|s|sec)\b'), '<time>'),        # 0.5 s, 51.127 s, 12 ms, 7.67 sec
    (re.compile(r'[+-]?[\d.]+ ?[KMGT]?i?B/s\b'), '<rate>'),        # +32.6 MiB/s, 1.2 GB/s
    (re.compile(r'\.check\.\d+\.llcap'), '.check.<pid>.llcap'),
    (re.compile(r'\bpid \d+'), 'pid <pid>'),
    # The exit scan: the roots' size (stacks, environment) and which holder reached a block
    # first (chains through hash buckets follow the heap's addresses) change with the layout.
    (re.compile(r'[\d.]+ ?[KMGT]?i?B of roots'), '<size> of roots'),
    (re.compile(r'<- \d+ blocks? held by'), '<- <n> blocks held by'),
    # jemalloc's own statistics at exit depend on its arenas' state (purging runs on a clock).
    (re.compile(r'^jemalloc at end: .*'), 'jemalloc at end: <stats>'),
]
# Progress lines a slow run prints and a fast one does not.
PROGRESS = re.compile(r'^leaklab \w+: valgrind \w+ still running')


def normal(line):
    for rx, mark in VOLATILE:
        line = rx.sub(mark, line)
    return line.rstrip()


def matches(expected, actual):
    """expected lines (with '...' wildcards) against actual lines, both normalised."""
    exp = [normal(x) for x in expected if not PROGRESS.match(x)]
    act = [normal(x) for x in actual if not PROGRESS.match(x)]

    memo = {}

    def m(i, j):
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(exp):
            r = j == len(act)
        elif exp[i] == '...':
            r = any(m(i + 1, k) for k in range(j, len(act) + 1))
        else:
            r = j < len(act) and exp[i] == act[j] and m(i + 1, j + 1)
        memo[key] = r
        return r

    sys.setrecursionlimit(max(10000, 4 * (len(exp) + len(act))))
    return m(0, 0)


def blocks(lines):
    """(start, end) line indexes of each transcript fence's body (lines[start:end])."""
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith('```'):
            j = i + 1
            while j < len(lines) and not lines[j].startswith('```'):
                j += 1
            skip = i > 0 and lines[i - 1].strip() == SKIP
            if not skip and i + 1 < j and lines[i + 1].startswith('$ '):
                out.append((i + 1, j))
            i = j + 1
        else:
            i += 1
    return out


def run(cmd, build):
    env = dict(os.environ)
    env['PATH'] = os.path.join(ROOT, build) + os.pathsep + env.get('PATH', '')
    env.pop('COLUMNS', None)
    p = subprocess.run(['bash', '-c', cmd], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    text = p.stdout.decode('utf-8', 'replace')
    if ROOT != '/work/main':
        text = text.replace(ROOT + '/', '/work/main/')
    return text.splitlines(), p.returncode


def check_lesson(lesson, build, update):
    path = os.path.join(ROOT, 'scenarios', lesson, 'README.md')
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    bad = 0
    # From the last block to the first when rewriting, so earlier indexes stay valid; but the
    # commands must run in order: collect first, rewrite after.
    results = []
    for start, end in blocks(lines):
        body = lines[start:end]
        new_body, ok = [], True
        k = 0
        while k < len(body):
            cmd = body[k][2:]
            k2 = k + 1
            while k2 < len(body) and not body[k2].startswith('$ '):
                k2 += 1
            expected = body[k + 1:k2]
            actual, status = run(cmd, build)
            if status == 127:
                print(f'lesson_outputs: {lesson}: command not found: {cmd}', file=sys.stderr)
                sys.exit(3)
            if matches(expected, actual):
                new_body += body[k:k2]
            else:
                ok = False
                print(f'--- scenarios/{lesson}/README.md:{start + k + 1}: $ {cmd}')
                sys.stdout.writelines(difflib.unified_diff(
                    [normal(x) + '\n' for x in expected], [normal(x) + '\n' for x in actual],
                    'README', 'run', n=1))
                new_body += [body[k]] + [x for x in actual if not PROGRESS.match(x)]
            k = k2
        if not ok:
            bad += 1
            results.append((start, end, new_body))
    if update and results:
        for start, end, new_body in reversed(results):
            lines[start:end] = new_body
        with open(path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(lines))
        print(f'lesson_outputs: scenarios/{lesson}/README.md: {bad} block(s) updated')
    elif not bad:
        print(f'lesson_outputs: scenarios/{lesson}/README.md: every output matches')
    return bad


def main(argv):
    update = no_images = False
    build = 'build/default'
    lessons = []
    args = iter(argv)
    for a in args:
        if a == '--update':
            update = True
        elif a == '--no-images':
            no_images = True
        elif a == '--build':
            build = next(args, None)
            if build is None:
                print('lesson_outputs: --build needs a directory', file=sys.stderr)
                return 2
        elif a in ('-h', '--help'):
            print(__doc__)
            return 0
        elif a.startswith('-'):
            print(f"lesson_outputs: unknown option '{a}' (--help)", file=sys.stderr)
            return 2
        else:
            lessons.append(a)
    with open(os.path.join(ROOT, 'scenarios', 'index.txt'), encoding='utf-8') as f:
        known = [l.split('\t')[0] for l in f if l.strip() and not l.startswith('#')]
    for l in lessons:
        if l not in known:
            print(f"lesson_outputs: unknown lesson '{l}' (scenarios/index.txt lists them)", file=sys.stderr)
            return 2
    if not os.access(os.path.join(ROOT, build, 'leaklab'), os.X_OK):
        print(f'lesson_outputs: {build}/leaklab is missing: run make build', file=sys.stderr)
        return 3
    bad = sum(check_lesson(l, build, update) for l in (lessons or known))
    if update and not no_images:
        r = subprocess.run([os.path.join(ROOT, 'tools', 'screenshots.sh'), build] + lessons, cwd=ROOT)
        if r.returncode:
            return 3
    return 0 if update or not bad else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
