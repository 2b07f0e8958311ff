// flame.js - the flamegraph of one moment (d3-flame-graph, drawn as an icicle): zoom by click, search, inverted and library-frame toggles, frames coloured by leak kind at exit.
import { select } from 'd3-selection';
import flamegraph from 'd3-flame-graph'; // its CSS comes with it
import { formatSize, groupDigits } from './format.js';
import { KIND_NAMES, KIND_COLORS, momentKinds, reachLines, treeKinds, dominant } from './kinds.js';

// Which tree a moment shows: own code or every frame, callers first or the allocating line first.
export function pickTree(moment, native, inverted) {
  const trees = native && moment.trees.native ? moment.trees.native : moment.trees.own;
  return inverted ? trees.inverted : trees.callers;
}

export function drawFlame(el, data, moment, opts) {
  const names = data.frames;
  const tree = pickTree(moment, opts.native, opts.inverted);
  // Nodes are [name (index into frames, or a string), bytes, blocks, children?] (see html.h).
  const total = tree[1];
  const name = (d) => (typeof d.data[0] === 'string' ? d.data[0] : names[d.data[0]]);
  el.textContent = '';
  if (!total) {
    el.textContent = 'Nothing was live at this moment.';
    return null;
  }
  // At exit, each frame takes the colour of the leak kind most of its bytes are.
  const allowed = momentKinds(data, moment.at);
  const kinds = allowed ? treeKinds(tree, reachLines(data), allowed, opts.inverted) : null;
  const kindOf = (d) => (kinds && kinds.get(d.data) ? dominant(kinds.get(d.data)) : -1);
  const width = Math.max(400, el.clientWidth || 900);
  const chart = flamegraph()
    .width(width)
    .cellHeight(20)
    .inverted(true) // an icicle: the root on top
    .minFrameSize(1)
    .transitionDuration(reducedMotion() ? 0 : 200)
    .tooltip(false)
    .sort(false)
    .getName(name)
    .getValue((x) => (Array.isArray(x) ? x[1] : x.value)) // items, and nodes when searching
    .getChildren((item) => item[3])
    .setSearchMatch((d, term) => term !== '' && name(d).toLowerCase().includes(term.toLowerCase()))
    .setSearchHandler((results, sum) => {
      opts.details.textContent = results.length
        ? `search: ${results.length} frames matched, ${formatSize(sum)} (${pct(sum, total)}) of the moment`
        : '';
    })
    .setDetailsElement(opts.details)
    .label((d) => {
      const v = d.data[1];
      const blocks = d.data[2] === 1 ? '1 block' : `${groupDigits(d.data[2])} blocks`;
      const k = kindOf(d);
      return `${name(d)}: ${formatSize(v)} (${groupDigits(v)} B, ${pct(v, total)}), ${blocks}` +
        (k >= 0 ? `; mostly ${KIND_NAMES[k]}` : '');
    });
  if (kinds) chart.setColorMapper((d, original) => (d.highlight || kindOf(d) < 0 ? original : KIND_COLORS[kindOf(d)]));
  select(el).datum(tree).call(chart);
  return chart;
}

// A user who asked the system for less motion gets frames that jump to their place at once.
function reducedMotion() {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}

function pct(v, total) {
  return total ? (100 * v / total).toFixed(2) + '%' : '-';
}
