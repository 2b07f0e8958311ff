// chart.js - memory over time (uPlot): the total, each top line's own bytes stacked under it, the peak and the budget marked.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatSize, groupDigits } from './format.js';

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1',
  '#ff9da7', '#9c755f', '#bab0ac'];

// The series as the page draws them: seconds, the total, each line, "other". A point whose
// high-water mark is above its live bytes is drawn twice at the same time, the high first, so
// the line reaches the peak and comes back down to what was live.
export function seriesOf(data) {
  const tl = data.timeline;
  // A line still growing at the end of the run says so in its label (leaklab report --growth).
  const raw = (tl.lines || []).map((l) => ({
    key: l.growth === 'grows' ? l.key + ' \u2197 grows' : l.key, values: l.values, growth: l.growth,
  }));
  if (tl.other && raw.length) raw.push({ key: 'other', values: tl.other });
  const out = {
    seconds: [], total: [], peak: null,
    bands: raw.map((b) => ({ key: b.key, growth: b.growth, values: [] })),
  };
  for (let i = 0; i < tl.t_ns.length; i++) {
    const t = tl.t_ns[i] / 1e9;
    const push = (v) => {
      out.seconds.push(t);
      out.total.push(v);
      raw.forEach((b, k) => out.bands[k].values.push(b.values[i]));
    };
    if (i === tl.peak_index) out.peak = out.seconds.length;
    push(tl.high[i]);
    if (tl.current[i] < tl.high[i]) push(tl.current[i]);
  }
  return out;
}

export function toCSV(data) {
  const tl = data.timeline;
  const bands = (tl.lines || []).map((l) => l);
  if (tl.other && bands.length) bands.push({ key: 'other', values: tl.other });
  const quote = (k) => '"' + k.replace(/"/g, '""') + '"';
  const head = ['t_ns', 'current_bytes', 'high_bytes', ...bands.map((b) => quote(b.key))];
  const rows = [head.join(',')];
  for (let i = 0; i < tl.t_ns.length; i++)
    rows.push([tl.t_ns[i], tl.current[i], tl.high[i], ...bands.map((b) => b.values[i])].join(','));
  return rows.join('\n') + '\n';
}

export function drawChart(el, data, wrap) {
  const s = seriesOf(data);
  const peak = s.peak;
  const budget = data.summary.budget ? data.summary.budget.limit_bytes : null; // null: not set
  // Stacked bands: each line's values summed with those below it; the legend shows its own.
  const stacked = [];
  let acc = new Array(s.seconds.length).fill(0);
  for (const b of s.bands) {
    acc = acc.map((v, i) => v + b.values[i]);
    stacked.push(acc);
  }
  const series = [{ label: 'time', value: (u, v) => (v == null ? '-' : v.toFixed(3) + ' s') }];
  // Steps, not slopes: each point's bytes hold until the next point (the capture has a point
  // whenever the total moved by 1/256 of the peak), so a plateau stays flat and a fall falls
  // where it happened.
  const step = uPlot.paths.stepped({ align: 1 });
  const bandsOpt = [];
  s.bands.forEach((b, k) => {
    const color = b.key === 'other' ? '#bbbbbb' : PALETTE[k % PALETTE.length];
    series.push({
      label: b.key, stroke: color, width: b.growth === 'grows' ? 3 : 1, fill: color + '99', paths: step,
      value: (u, v, si, i) => (i == null ? '-' : formatSize(b.values[i])),
    });
    if (k > 0) bandsOpt.push({ series: [k + 1, k], fill: color + '99' });
  });
  series.push({
    label: 'total', stroke: '#222', width: 2, paths: step,
    value: (u, v, si, i) => (i == null ? '-' : formatSize(s.total[i])),
  });
  const width = Math.max(400, el.clientWidth || 900);
  const opts = {
    width, height: 340,
    scales: {
      x: { time: false },
      y: { range: (u, min, max) => [0, Math.max(max, budget || 0, 1) * 1.08] },
    },
    axes: [
      { label: 'seconds since start', values: (u, ticks) => ticks.map((t) => +t.toFixed(6) + ' s') },
      { size: 80, values: (u, ticks) => ticks.map((v) => formatSize(v)) },
    ],
    series,
    bands: bandsOpt,
    legend: { live: true },
    hooks: { draw: [(u) => markPeakAndBudget(u, s, peak, budget, wrap)] },
  };
  // The first band fills down to zero; the others fill down to the band under them.
  if (s.bands.length) series[1].fillTo = 0;
  return new uPlot(opts, [s.seconds, ...stacked, s.total], el);
}

function markPeakAndBudget(u, s, peak, budget, wrap) {
  const ctx = u.ctx;
  const dpr = window.devicePixelRatio || 1;
  const peakLabel = wrap.querySelector('#peak-label');
  if (peak != null && peak >= 0) {
    const x = u.valToPos(s.seconds[peak], 'x', true);
    const y = u.valToPos(s.total[peak], 'y', true);
    ctx.save();
    ctx.strokeStyle = '#c0392b';
    ctx.setLineDash([4 * dpr, 3 * dpr]);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#c0392b';
    ctx.beginPath();
    ctx.arc(x, y, 5 * dpr, 0, 2 * Math.PI);
    ctx.fill();
    ctx.restore();
    const bytes = s.total[peak];
    peakLabel.textContent = `peak ${formatSize(bytes)} (${groupDigits(bytes)} B) at ${s.seconds[peak].toFixed(3)} s`;
    peakLabel.dataset.bytes = String(bytes);
    peakLabel.style.display = 'block';
    // Placed once the plot is laid out (the first draw can come before it is).
    requestAnimationFrame(() => {
      const wrapBox = wrap.getBoundingClientRect();
      const over = u.over.getBoundingClientRect();
      // CSS pixels from the plot area's corner (x and y above are the canvas's own pixels).
      const left = over.left - wrapBox.left + u.valToPos(s.seconds[peak], 'x');
      const top = over.top - wrapBox.top + u.valToPos(s.total[peak], 'y');
      peakLabel.style.top = Math.max(0, top - 26) + 'px';
      // Right of the mark, or left of it when it would leave the plot.
      const flip = left + 8 + peakLabel.offsetWidth > over.right - wrapBox.left;
      peakLabel.style.left = (flip ? left - 8 : left + 8) + 'px';
      peakLabel.style.transform = flip ? 'translateX(-100%)' : '';
    });
  } else {
    peakLabel.style.display = 'none';
  }
  const budgetLabel = wrap.querySelector('#budget-label');
  if (budget != null) {
    const y = u.valToPos(budget, 'y', true);
    ctx.save();
    ctx.strokeStyle = '#8e44ad';
    ctx.lineWidth = 2 * dpr;
    ctx.setLineDash([8 * dpr, 4 * dpr]);
    ctx.beginPath();
    ctx.moveTo(u.bbox.left, y);
    ctx.lineTo(u.bbox.left + u.bbox.width, y);
    ctx.stroke();
    ctx.restore();
    budgetLabel.textContent = `budget ${formatSize(budget)} (${groupDigits(budget)} B)`;
    budgetLabel.dataset.bytes = String(budget);
    budgetLabel.style.display = 'block';
    requestAnimationFrame(() => {
      const wrapBox = wrap.getBoundingClientRect();
      const over = u.over.getBoundingClientRect();
      budgetLabel.style.top = (over.top - wrapBox.top + u.valToPos(budget, 'y') - 20) + 'px';
      budgetLabel.style.left = (over.left - wrapBox.left + 6) + 'px';
    });
  } else {
    budgetLabel.style.display = 'none';
  }
}
