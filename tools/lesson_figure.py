#!/usr/bin/env python3
# lesson_figure.py - print figures of a leaklab capture the way a lesson's prose and tables quote them (for lesson_outputs.py's hidden figure blocks).
"""usage: tools/lesson_figure.py CAPTURE TEMPLATE [REPORT OPTIONS...]

Reads `leaklab report CAPTURE --format json --top 0 [REPORT OPTIONS...]` (leaklab from PATH) and
prints TEMPLATE as a Python f-string over the report: its top-level fields (peak_bytes,
end_bytes, total_allocations, total_bytes, ...), and site['FILE:LINE'] for each line (FILE is
the file's base name, or only the line number when one file has it; .size, .count,
.usable; a line the report does not have is 0 bytes in 0
blocks). mib(B) is B in MiB with one decimal, kib(B) in KiB rounded, t(B) in tracemalloc's
size format (614 MiB, 76.3 MiB, 4096 B), c(N) is N with thousands separators, as the READMEs
write them. Example:

    tools/lesson_figure.py reports/mc-leaky.llcap '{c(peak_bytes)} B, line 314: {c(site["method_cache.c:314"].size)}'
"""
import json
import os
import subprocess
import sys
from types import SimpleNamespace


def t(n):
    """tracemalloc's size format: 614 MiB, 76.3 MiB, 4096 B."""
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if abs(n) < 100 and unit != 'B':
            return f'{n:.1f} {unit}'
        if abs(n) < 10 * 1024 or unit == 'TiB':
            return f'{n:.0f} {unit}'
        n /= 1024


def c(n):
    return f'{n:,}'


def mib(n):
    return f'{n / 1048576:.1f}'


def kib(n):
    return f'{round(n / 1024)}'


class Sites(dict):
    def __missing__(self, key):
        if isinstance(key, int):  # site[314]: the one line 314, whatever its file
            hits = [v for k, v in self.items() if k.endswith(f':{key}')]
            if len(hits) > 1:
                raise SystemExit(f'lesson_figure: line {key} is in more than one file: name it')
            if hits:
                return hits[0]
        return SimpleNamespace(size=0, count=0, usable=0)


def main(argv):
    if len(argv) < 2 or argv[0] in ('-h', '--help'):
        print(__doc__, file=sys.stderr if len(argv) < 2 else sys.stdout)
        return 0 if argv and argv[0] in ('-h', '--help') else 2
    capture, template, opts = argv[0], argv[1], argv[2:]
    p = subprocess.run(['leaklab', 'report', capture, '--format', 'json', '--top', '0'] + opts,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        sys.stderr.write(p.stderr.decode('utf-8', 'replace'))
        return 3
    report = json.loads(p.stdout)
    sites = Sites()
    for s in report.get('sites', []):
        key = f"{os.path.basename(s['file'])}:{s['line']}"
        if key in sites:  # --group-by traceback: the same line by several stacks adds up
            old = sites[key]
            old.size += s['size']
            old.count += s['count']
            old.usable += s.get('usable', 0)
        else:
            sites[key] = SimpleNamespace(size=s['size'], count=s['count'], usable=s.get('usable', 0))
    ns = {k: v for k, v in report.items() if k != 'sites'}
    ns.update(site=sites, c=c, mib=mib, kib=kib, t=t)
    print(eval('f' + repr(template), ns))  # the template is the README author's, not input
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
