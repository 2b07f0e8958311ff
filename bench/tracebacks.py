# tracebacks.py - many distinct native call stacks live at once, for the HTML report's size bench.
# Each of 4**8 = 65536 leaves is reached through 8 nested calls that each go through one of four
# C paths of the interpreter (map, a class's __init__, sorted's key, functools.reduce), chosen by
# the leaf's digits in base 4, and keeps a small list alive: recorded with enough frames
# (--frames 128 --unwind libunwind), the peak holds tens of thousands of distinct tracebacks.
import functools
keep = []
class Box:
    def __init__(self, depth, digits):
        self.v = descend(depth, digits)
def via_map(depth, digits): return list(map(lambda _: descend(depth, digits), [0]))[0]
def via_init(depth, digits): return Box(depth, digits).v
def via_sorted(depth, digits):
    out = []
    sorted([0], key=lambda _: out.append(descend(depth, digits)))
    return out[0]
def via_reduce(depth, digits): return functools.reduce(lambda a, _: descend(depth, digits), [0], None)
WAYS = (via_map, via_init, via_sorted, via_reduce)
def descend(depth, digits):
    if depth == 0:
        keep.append([digits] * 4)
        return None
    return WAYS[digits >> (2 * (depth - 1)) & 3](depth - 1, digits)
for i in range(4 ** 8):
    descend(8, i)
print(len(keep))
