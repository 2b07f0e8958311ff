// main.js - the report page: reads the report's JSON from the page and fills the summary, chart, flamegraphs, lines (with their leak kinds and holders at exit) and histogram.
import './style.css';
import { formatSize, groupDigits, formatStat } from './format.js';
import { drawChart, toCSV } from './chart.js';
import { drawFlame } from './flame.js';
import { KIND_NAMES, KIND_COLORS, momentKinds, reachLines } from './kinds.js';

const data = JSON.parse(document.getElementById('leaklab-data').textContent);
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const sizeWithBytes = (b) => `${formatSize(b)} <span class="bytes">(${groupDigits(b)} B)</span>`;

const state = { moment: 0, inverted: false, native: !!data.native_default, flame: null, sort: { key: 'size', desc: true } };
window.leaklab = { data, state, toCSV: () => toCSV(data), kindColors: KIND_COLORS }; // for the tests and the curious

function summary() {
  const s = data.summary;
  $('program').textContent = data.program || '';
  document.title = `leaklab: ${data.program || 'report'} - peak ${formatSize(s.peak_bytes)}`;
  $('headline').innerHTML = `peak ${sizeWithBytes(s.peak_bytes)}, end ${sizeWithBytes(s.end_bytes)}, ` +
    `${groupDigits(s.total_allocations)} allocations totalling ${formatSize(s.total_bytes)}`;
  const rows = [['program', esc(data.program || '(unknown)')]];
  if (data.chain.length > 1)
    rows.push(['exec chain', '<ol>' + data.chain.map((c) =>
      `<li>${esc(c.program)} (pid ${c.pid}): peak ${formatSize(c.peak)}, end ${formatSize(c.end)}, ` +
      `${groupDigits(c.total_allocations)} allocations</li>`).join('') + '</ol>']);
  if (s.how) rows.push(['ended', s.how === 'signal' ? `killed by signal ${s.signal}` : esc(s.how)]);
  rows.push(['peak', sizeWithBytes(s.peak_bytes) + ' live, requested bytes']);
  rows.push(['end', sizeWithBytes(s.end_bytes) + ' live at exit']);
  rows.push(['allocations', `${groupDigits(s.total_allocations)} totalling ${sizeWithBytes(s.total_bytes)}`]);
  rows.push(['untracked', s.untracked_allocations
    ? `<strong>${groupDigits(s.untracked_allocations)} blocks (${formatSize(s.untracked_bytes)}) the tracker could not record</strong>`
    : 'none']);
  if (s.jemalloc) {
    const j = s.jemalloc;
    rows.push(['jemalloc at end', `allocated ${formatSize(j.allocated)}, active ${formatSize(j.active)}, ` +
      `resident ${formatSize(j.resident)}, mapped ${formatSize(j.mapped)}`]);
  }
  if (s.budget && s.budget.limit_bytes != null)
    rows.push(['budget (check)', `--limit-memory ${sizeWithBytes(s.budget.limit_bytes)}: ` +
      (s.peak_bytes < s.budget.limit_bytes ? 'the peak stays below it' : '<strong>the peak reaches it</strong>')]);
  if (s.budget && s.budget.limit_leaks_bytes != null)
    rows.push(['leak limit (check)', `--limit-leaks ${sizeWithBytes(s.budget.limit_leaks_bytes)} per line`]);
  rows.push(['moments held', data.moments.map((m) => m.at).join(', ') || 'none']);
  $('summary').innerHTML = rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
}

function chart() {
  const tl = data.timeline;
  if (!tl || !tl.t_ns.length) {
    $('chart-hint').textContent = 'This file holds no timeline (only captures recorded by leaklab run have one).';
    $('chart-wrap').style.display = 'none';
    document.querySelector('#chart-section .actions').style.display = 'none';
    return;
  }
  $('chart-hint').textContent = tl.lines && tl.lines.length
    ? `${tl.t_ns.length} points; the bands are the top lines' own live bytes, stacked; hover for each one's bytes.`
    : `${tl.t_ns.length} points of the live total (requested bytes); hover for the bytes at each point. ` +
      'This capture holds no per-line series.';
  window.leaklab.chart = drawChart($('chart'), data, $('chart-wrap'));
  const download = (name, type, text) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type }));
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  $('download-csv').onclick = () => download('leaklab-timeline.csv', 'text/csv', toCSV(data));
  $('download-json').onclick = () => download('leaklab-timeline.json', 'application/json',
    JSON.stringify(data.timeline));
}

function moments() {
  const bar = $('moments');
  bar.innerHTML = data.moments.map((m, i) =>
    `<button type="button" role="tab" data-at="${esc(m.at)}" data-index="${i}">${esc(m.at)} ` +
    `<span class="bytes">${formatSize(m.total_bytes)}</span></button>`).join('');
  bar.onclick = (e) => {
    const b = e.target.closest('button');
    if (b) select(+b.dataset.index);
  };
  $('inverted').checked = state.inverted;
  $('inverted').onchange = () => { state.inverted = $('inverted').checked; flame(); };
  const anyNative = data.moments.some((m) => m.trees.native);
  $('native').checked = state.native;
  $('native').disabled = !anyNative;
  if (!anyNative) $('native').parentElement.title = 'this file holds no library frames';
  $('native').onchange = () => { state.native = $('native').checked; flame(); };
  $('search').oninput = () => { if (state.flame) state.flame.search($('search').value); };
  $('reset-zoom').onclick = () => { if (state.flame) state.flame.resetZoom(); };
}

const HINTS = {
  peak: 'live at the high-water mark', end: 'live when the program ended',
  leaks: "the program's own blocks never freed", temporary: 'allocated and freed soon after',
  allocations: 'every allocation of the run, freed or not', lost: 'live at exit and unreachable',
  reachable: 'live at exit, still reachable', current: 'live when the snapshot was taken',
};

function select(i) {
  state.moment = i;
  for (const b of $('moments').querySelectorAll('button'))
    b.setAttribute('aria-selected', String(+b.dataset.index === i));
  const m = data.moments[i];
  $('moment-hint').textContent = `${m.at}: ${HINTS[m.at] || ''} - ${formatSize(m.total_bytes)} ` +
    `(${groupDigits(m.total_bytes)} B) in ${groupDigits(m.total_blocks)} blocks. Click a frame to zoom.`;
  $('lines-moment').textContent = `at ${m.at}`;
  const allowed = momentKinds(data, m.at);
  $('kinds-legend').innerHTML = allowed ? 'colour: the leak kind most of a frame\'s bytes are at exit - ' +
    allowed.map((k) => `<span class="kind"><i style="background:${KIND_COLORS[k]}"></i>${KIND_NAMES[k]}</span>`).join(' ') : '';
  flame();
  lines();
}

function flame() {
  const m = data.moments[state.moment];
  state.flame = drawFlame($('flame'), data, m, { native: state.native, inverted: state.inverted, details: $('details') });
  if (state.flame && $('search').value) state.flame.search($('search').value);
}

const NO_HOLDER = '(nothing holds it)';
// The page names a line's frame as the trees do: its index in frames, found by that name.
const frameIndex = new Map(data.frames.map((n, i) => [n, i]));
const reach = reachLines(data);
const frameName = (r) => (r[2] ? (r[1] ? `${r[2]} (${r[0]}:${r[1]})` : `${r[2]} (${r[0]})`) : `${r[0]}:${r[1]}`);
// A row's kinds at exit: [bytes of each kind the moment holds], the kind most of them are, the chain.
function rowReach(r, allowed) {
  const line = reach.get(frameIndex.get(frameName(r)));
  if (!line) return null;
  let best = -1;
  for (const k of allowed) if (line.bytes[k] > 0 && (best < 0 || line.bytes[k] > line.bytes[best])) best = k;
  return { line, best };
}

const COLUMNS = [
  { key: 'where', label: 'line', get: (r) => `${r[0]}:${r[1]}` },
  { key: 'function', label: 'function', get: (r) => r[2] },
  { key: 'size', label: 'size', get: (r) => r[3], num: true },
  { key: 'count', label: 'count', get: (r) => r[4], num: true },
  { key: 'average', label: 'average', get: (r) => (r[4] ? r[3] / r[4] : 0), num: true },
  { key: 'usable', label: 'usable', get: (r) => r[5], num: true },
  { key: 'share', label: 'share', get: (r) => r[3], num: true },
];

function lines() {
  const m = data.moments[state.moment];
  const allowed = momentKinds(data, m.at);
  const col = COLUMNS.find((c) => c.key === state.sort.key);
  const rows = m.lines.slice().sort((a, b) => {
    const x = col.get(a), y = col.get(b);
    const c = col.num ? x - y : String(x).localeCompare(String(y));
    return state.sort.desc ? -c : c;
  });
  $('lines').tHead.innerHTML = '<tr>' + COLUMNS.map((c) =>
    `<th data-key="${c.key}" class="${c.num ? 'num' : ''}" aria-sort="${c.key === state.sort.key ? (state.sort.desc ? 'descending' : 'ascending') : 'none'}">${c.label}</th>`).join('') +
    (allowed ? '<th class="nosort">kind at exit</th><th class="nosort">held by</th>' : '') + '</tr>';
  $('lines').tHead.onclick = (e) => {
    const th = e.target.closest('th');
    if (!th || !th.dataset.key) return;
    const key = th.dataset.key;
    state.sort = { key, desc: state.sort.key === key ? !state.sort.desc : COLUMNS.find((c) => c.key === key).num };
    lines();
  };
  const total = m.total_bytes;
  // At exit: the line's kinds (each with its bytes) and what holds it, up to its root.
  const kindCells = (r) => {
    const x = rowReach(r, allowed);
    if (!x || x.best < 0) return '<td class="kinds">-</td><td class="chain"></td>';
    const parts = allowed.filter((k) => x.line.blocks[k] > 0).map((k) =>
      `<span class="kind" data-kind="${k}"><i style="background:${KIND_COLORS[k]}"></i>${KIND_NAMES[k]} ${formatSize(x.line.bytes[k])}</span>`);
    return `<td class="kinds" data-kind="${x.best}">${parts.join('<br>')}</td><td class="chain">${esc(x.line.chain || NO_HOLDER)}</td>`;
  };
  $('lines').tBodies[0].innerHTML = rows.map((r) =>
    `<tr title="${esc(formatStat(r[0], r[1], r[3], r[4]))}"><td>${esc(r[0])}:${r[1]}</td><td>${esc(r[2])}</td>` +
    `<td class="num" data-bytes="${r[3]}">${formatSize(r[3])}</td><td class="num">${r[4]}</td>` +
    `<td class="num">${r[4] ? formatSize(r[3] / r[4]) : '-'}</td><td class="num" data-bytes="${r[5]}">${formatSize(r[5])}</td>` +
    `<td class="num">${total ? (100 * r[3] / total).toFixed(1) + '%' : '-'}</td>` +
    (allowed ? kindCells(r) : '') + '</tr>').join('') ||
    `<tr><td colspan="${allowed ? 9 : 7}">No lines at this moment.</td></tr>`;
}

function histogram() {
  const h = data.histogram || [];
  if (!h.length) {
    $('histogram-section').style.display = 'none';
    return;
  }
  const maxCount = Math.max(...h.map((b) => b.count), 1);
  const maxBytes = Math.max(...h.map((b) => b.bytes), 1);
  const bar = (v, max, cls) => `<div class="bar ${cls}" style="width:${(100 * v / max).toFixed(1)}%"></div>`;
  $('histogram').tBodies[0].innerHTML = h.map((b) =>
    `<tr><td>${b.lo === b.hi ? formatSize(b.lo) : `${formatSize(b.lo)} - ${formatSize(b.hi)}`}</td>` +
    `<td class="num">${groupDigits(b.count)}</td><td class="barcell">${bar(b.count, maxCount, 'count')}</td>` +
    `<td class="num">${formatSize(b.bytes)}</td><td class="barcell">${bar(b.bytes, maxBytes, 'bytes')}</td></tr>`).join('');
}

summary();
chart();
moments();
histogram();
if (data.moments.length) {
  const peak = data.moments.findIndex((m) => m.at === 'peak');
  select(peak >= 0 ? peak : 0);
} else {
  $('flame-section').style.display = 'none';
  $('lines-section').style.display = 'none';
}
// performance.now() counts from the navigation: parsing, data, first drawing; read by the bench.
window.leaklab.readyMs = performance.now();
document.body.dataset.ready = '1';
