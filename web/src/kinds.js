// kinds.js - the exit scan on the page: each line's leak kinds (memcheck's four), a flamegraph frame's colour by the kinds of the blocks under it, and the chain that holds a line.
export const KIND_NAMES = ['definitely lost', 'indirectly lost', 'possibly lost', 'still reachable'];
export const KIND_COLORS = ['#d62728', '#ff7f0e', '#bcbd22', '#1f77b4'];
// The kinds a moment at exit holds: lost is definitely + indirectly lost, reachable the rest
// but possibly lost; moments before exit (peak, temporary, ...) have no kinds.
const MOMENT_KINDS = { end: [0, 1, 2, 3], leaks: [0, 1, 2, 3], lost: [0, 1], reachable: [3] };

export function momentKinds(data, at) {
  return data.reach ? MOMENT_KINDS[at] || null : null;
}

// frame index -> {bytes[4], blocks[4], chain}, for the lines of the program's own code.
export function reachLines(data) {
  const m = new Map();
  for (const [frame, bytes, blocks, chain] of (data.reach ? data.reach.lines : []))
    m.set(frame, { bytes, blocks, chain });
  return m;
}

// A line's share of each allowed kind (they sum to 1), or null when it has none of them.
function shares(line, allowed) {
  if (!line) return null;
  const sum = allowed.reduce((a, k) => a + line.bytes[k], 0);
  if (!sum) return null;
  return [0, 1, 2, 3].map((k) => (allowed.includes(k) ? line.bytes[k] / sum : 0));
}

// Bytes of each kind (index 4: not known) under every node of a tree (keyed by the node's
// array). A byte belongs to the line that allocated it: in a callers tree the deepest of the
// program's lines on its path (library frames such as malloc sit below it), in an inverted tree
// the first one from the top (the callers sit below it).
export function treeKinds(tree, lines, allowed, inverted) {
  const out = new WeakMap();
  const walk = (node, ctx) => {
    const own = typeof node[0] === 'number' ? lines.get(node[0]) : undefined;
    const s = own && shares(own, allowed);
    if (s && (!inverted || !ctx)) ctx = s;
    const kids = node[3] || [];
    const acc = [0, 0, 0, 0, 0];
    let under = 0;
    for (const c of kids) {
      const ck = walk(c, ctx);
      for (let k = 0; k < 5; k++) acc[k] += ck[k];
      under += c[1];
    }
    const self = node[1] - under;
    if (self > 0) {
      // A merged "(N small)" node has no frame of its own: its bytes are not attributed.
      if (ctx && typeof node[0] === 'number') for (let k = 0; k < 4; k++) acc[k] += self * ctx[k];
      else acc[4] += self;
    }
    out.set(node, acc);
    return acc;
  };
  walk(tree, null);
  return out;
}

// The kind most of a node's bytes are, or -1 when most are not known.
export function dominant(acc) {
  let best = 4;
  for (let k = 0; k < 4; k++) if (acc[k] > acc[best]) best = k;
  return best === 4 ? -1 : best;
}
