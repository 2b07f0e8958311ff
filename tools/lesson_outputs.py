#!/usr/bin/env python3
# lesson_outputs.py - run every command a lesson's README quotes and check (or, with --update, refresh) the output it quotes; --update retakes its pictures too.
"""usage: tools/lesson_outputs.py [--update] [--no-images] [--no-valgrind] [--build DIR] [LESSON...]

Checks scenarios/LESSON/README.md (default: every lesson of scenarios/index.txt, then `top`, the
repository's README.md) against a real run. A fenced block whose first line starts with "$ " is
a transcript: each "$ " line is a command, run with bash from the repository root (PATH starts
with the build directory, so `leaklab` is build/default/leaklab; stdout and stderr together, as
a terminal shows them), and the lines under it, up to the next "$ " line, are the output it must
print. Commands run in the README's order, so a later block may read the capture an earlier one
wrote.

Compared as a reader would: the checkout's path is shown as /work/main (the READMEs' outputs
come from there); wall and CPU times, rates per second, process ids, valgrind's progress
lines, the exit scan's layout-dependent figures (the roots' size, blocks per first holder) and
jemalloc's statistics at exit may differ; a line "..." in the README stands for any lines.
Every other character, every byte count, must be equal.

A fence preceded by a line <!-- lesson_outputs: skip (why) --> is not run.

Figures quoted in prose and tables are checked by hidden figure blocks, HTML comments that a
reader (and `leaklab explain`) does not see:

    <!-- lesson_figures: what the block checks
    $ COMMAND that prints the figures as the README writes them (tools/lesson_figure.py helps;
      tools/lesson_time.py says what the prose says of times: an ordering or a ratio band)
    the lines it must print
    -->

Its commands run in the README's order with the transcripts and are compared the same way; in
its lines, a number written N~P% may differ from N by P percent (max RSS, say). Then every number
of those lines must appear (thousands separators aside) in the README's text after the comment,
up to the next heading or figure block: a figure changed in one place and not the other fails.

--no-valgrind leaves out the figure blocks that run valgrind (directly, or through `leaklab
massif` or `leaklab memcheck`): they take most of the time (the transcripts still run).

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
SKIP = '<!-- lesson_outputs: skip'
FIGURES = '<!-- lesson_figures'
APPROX = re.compile(r'(\d[\d,]*(?:\.\d+)?)~(\d+)%')
NUMBER = re.compile(r'\d[\d,]*(?:\.\d+)?')

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
    # A build's id hashes the binary, whose debug information names the checkout.
    (re.compile(r'^Build ID: [0-9a-f]+$'), 'Build ID: <id>'),
]
# Progress lines a slow run prints and a fast one does not.
VALGRIND = re.compile(r'\bvalgrind\b|\bleaklab (massif|memcheck)\b')
PROGRESS = re.compile(r'^leaklab \w+: valgrind \w+ still running')


def normal(line):
    for rx, mark in VOLATILE:
        line = rx.sub(mark, line)
    # A time's width moves what is aligned before it (ctest pads "Passed   6.81 sec").
    return re.sub(r' +<time>', ' <time>', line).rstrip()


def same_line(exp, act):
    """one normalised expected line against an actual one; N~P% in exp matches within P%."""
    if '~' not in exp or not APPROX.search(exp):
        return exp == act
    parts = APPROX.split(exp)  # literal, number, percent, literal, ...
    rx = ''.join(re.escape(x) if i % 3 == 0 else r'(\d[\d,]*(?:\.\d+)?)' if i % 3 == 1 else ''
                 for i, x in enumerate(parts))
    m = re.fullmatch(rx, act)
    if not m:
        return False
    for want, pct, got in zip(parts[1::3], parts[2::3], m.groups()):
        w, g = float(want.replace(',', '')), float(got.replace(',', ''))
        if abs(g - w) > abs(w) * int(pct) / 100:
            return False
    return True


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
            r = j < len(act) and same_line(exp[i], act[j]) and m(i + 1, j + 1)
        memo[key] = r
        return r

    sys.setrecursionlimit(max(10000, 4 * (len(exp) + len(act))))
    return m(0, 0)


def blocks(lines):
    """(start, end, figures) line indexes of each transcript fence's or figure block's body
    (lines[start:end]), in the README's order; figures is True for a figure block."""
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith(FIGURES):
            j = i + 1
            while j < len(lines) and lines[j].strip() != '-->':
                j += 1
            if i + 1 < j and lines[i + 1].startswith('$ '):
                out.append((i + 1, j, True))
            i = j + 1
        elif lines[i].startswith('```'):
            j = i + 1
            while j < len(lines) and not lines[j].startswith('```'):
                j += 1
            skip = i > 0 and lines[i - 1].startswith(SKIP)
            if not skip and i + 1 < j and lines[i + 1].startswith('$ '):
                out.append((i + 1, j, False))
            i = j + 1
        else:
            i += 1
    return out


def quoted(lines, end, expected):
    """the numbers of a figure block's expected lines that the text after it (to the next
    heading or figure block) does not quote."""
    k = end + 1
    while k < len(lines) and not lines[k].startswith('#') and not lines[k].startswith(FIGURES):
        k += 1
    text = '\n'.join(lines[end + 1:k]).replace(',', '')
    missing = []
    for line in expected:
        for num in NUMBER.findall(APPROX.sub(r'\1', line)):
            n = num.replace(',', '')
            if not re.search(r'(?<![\d.])' + re.escape(n) + r'(?![\d]|\.\d)', text):
                missing.append(num)
    return missing


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


def check_lesson(lesson, build, update, no_valgrind=False):
    rel = 'README.md' if lesson == 'top' else f'scenarios/{lesson}/README.md'
    return check_readme(os.path.join(ROOT, rel), rel, build, update, no_valgrind)


def check_readme(path, rel, build, update, no_valgrind=False):
    """the README at path (rel: its name in messages): the number of blocks that differ."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    bad = 0
    # From the last block to the first when rewriting, so earlier indexes stay valid; but the
    # commands must run in order: collect first, rewrite after.
    results = []
    for start, end, figures in blocks(lines):
        body = lines[start:end]
        if figures and no_valgrind and any(VALGRIND.search(x) for x in body if x.startswith('$ ')):
            continue
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
                print(f'lesson_outputs: {rel}: command not found: {cmd}', file=sys.stderr)
                sys.exit(3)
            if matches(expected, actual):
                new_body += body[k:k2]
            else:
                ok = False
                print(f'--- {rel}:{start + k + 1}: $ {cmd}')
                sys.stdout.writelines(difflib.unified_diff(
                    [normal(x) + '\n' for x in expected], [normal(x) + '\n' for x in actual],
                    'README', 'run', n=1))
                new_body += [body[k]] + [x for x in actual if not PROGRESS.match(x)]
            if figures:
                missing = quoted(lines, end, expected)
                if missing:
                    ok = False
                    print(f'--- {rel}:{start + k + 1}: $ {cmd}')
                    print(f'figures the run prints that the text after the block does not quote: {" ".join(missing)}')
            k = k2
        if not ok:
            bad += 1
            results.append((start, end, new_body))
    if update and results:
        for start, end, new_body in reversed(results):
            lines[start:end] = new_body
        with open(path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(lines))
        print(f'lesson_outputs: {rel}: {bad} block(s) updated')
    elif not bad:
        print(f'lesson_outputs: {rel}: every output matches')
    return bad


def main(argv):
    update = no_images = no_valgrind = False
    build = 'build/default'
    lessons = []
    args = iter(argv)
    for a in args:
        if a == '--update':
            update = True
        elif a == '--no-images':
            no_images = True
        elif a == '--no-valgrind':
            no_valgrind = True
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
        if l not in known and l != 'top':
            print(f"lesson_outputs: unknown lesson '{l}' (scenarios/index.txt lists them)", file=sys.stderr)
            return 2
    if not os.access(os.path.join(ROOT, build, 'leaklab'), os.X_OK):
        print(f'lesson_outputs: {build}/leaklab is missing: run make build', file=sys.stderr)
        return 3
    bad = sum(check_lesson(l, build, update, no_valgrind) for l in (lessons or known + ['top']))
    if update and not no_images and lessons != ['top']:
        r = subprocess.run([os.path.join(ROOT, 'tools', 'screenshots.sh'), build] + [l for l in lessons if l != 'top'], cwd=ROOT)
        if r.returncode:
            return 3
    return 0 if update or not bad else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
