# exercise_3.py - memray's exercise 3 program in Python, as REFERENCE.md states it, with its fixes: the peak measured by tracemalloc, beside the C lesson's figures.
"""usage: python3 exercise_3.py [leaky|per_instance|value_keyed|lru|periodic_clear]

Runs the original program's two passes, (500, 500) then (1000, 1000), counting the last digit of
Algorithms(i).factorial_plus(j), with the cache the variant names, and prints the digit counts
and tracemalloc's peak (Python's own allocations, as memray counts them, in requested bytes).
"""
import functools
import platform
import sys
import tracemalloc


def make(variant):
    class Algorithms:
        def __init__(self, inc):
            self.inc = inc
            if variant == 'per_instance':  # the cache lives and dies with the instance
                self.factorial_plus = functools.cache(self._factorial_plus)

        def _factorial_plus(self, n):
            return n * self.factorial_plus(n - 1) + self.inc if n > 1 else 1 + self.inc

        if variant in ('leaky', 'periodic_clear'):  # keyed on (self, n): pins every instance
            factorial_plus = functools.cache(_factorial_plus)
        elif variant == 'lru':  # keyed on (inc, n), at most 10000 results
            def factorial_plus(self, n):
                return _value(n, self.inc)

        elif variant == 'value_keyed':  # keyed on (inc, n), unbounded
            def factorial_plus(self, n):
                return _value_unbounded(n, self.inc)

    @functools.lru_cache(maxsize=10000)
    def _value(n, inc):
        return n * _value(n - 1, inc) + inc if n > 1 else 1 + inc

    @functools.cache
    def _value_unbounded(n, inc):
        return n * _value_unbounded(n - 1, inc) + inc if n > 1 else 1 + inc

    return Algorithms


def last_digits(Algorithms, variant, plus_range, factorial_range):
    for i in range(plus_range):
        a = Algorithms(i)
        for j in range(factorial_range):
            yield a.factorial_plus(j) % 10
        if variant == 'periodic_clear':
            Algorithms.factorial_plus.cache_clear()


def main():
    variant = sys.argv[1] if len(sys.argv) > 1 else 'leaky'
    if variant not in ('leaky', 'per_instance', 'value_keyed', 'lru', 'periodic_clear') or len(sys.argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    sys.setrecursionlimit(10000)
    Algorithms = make(variant)
    tracemalloc.start()
    for r in (500, 1000):
        counts = [0] * 10
        for d in last_digits(Algorithms, variant, r, r):
            counts[d] += 1
        print(f'last digits ({r}, {r}): ' + ' '.join(f'{d}={c}' for d, c in enumerate(counts)))
    current, peak = tracemalloc.get_traced_memory()
    print(f'Python {platform.python_version()}, {variant}: tracemalloc peak {peak} B '
          f'({peak / 1048576:.1f} MiB), at the end {current} B')
    return 0


if __name__ == '__main__':
    sys.exit(main())
