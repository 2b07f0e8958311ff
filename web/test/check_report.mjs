// check_report.mjs - load a leaklab HTML report in headless Chromium and check what it shows against leaklab's own JSON and text reports.
//
// usage: node check_report.mjs REPORT.html EXPECT_DIR [REPORT.html EXPECT_DIR...]
// (several pages: one browser, one tab each.)
// EXPECT_DIR holds, for each moment M the capture holds, M.json (`report --at M --format json`),
// M.native.json (the same with --native) and M.txt (`report --at M --top 0`), and with the exit
// scan end.retainers.txt (`report --at end --retainers --top 0`), written by tests/browser/lib.sh. Fails (exit 1, one line per problem) on any console error, any request
// other than the file itself, or any figure the page shows that differs from leaklab's.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { withBrowser } from './browser.mjs';

const args = process.argv.slice(2);
if (!args.length || args.length % 2) {
  console.error('usage: node check_report.mjs REPORT.html EXPECT_DIR [REPORT.html EXPECT_DIR...]');
  process.exit(2);
}
const problems = [];
let current = '';
const fail = (msg) => { problems.push(msg); console.error(`FAIL: ${current}${msg}`); };
const note = (msg) => console.log('ok: ' + msg);
const groupDigits = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

// checkPage(browser, REPORT.html, EXPECT_DIR): every check below on one page, in a tab of its own.
async function checkPage(browser, htmlPath, expectDir) {
  // ---- the file itself: nothing in it may point outside it ------------------------------------
  const html = readFileSync(htmlPath, 'utf8');
  const outside = [
    /<(?:script|img|link|iframe|source|video|audio|embed|object)\b[^>]*\s(?:src|href|data)\s*=\s*["']?\s*(?:https?:|\/\/|ftp:)/i,
    /url\(\s*["']?\s*(?:https?:|\/\/)/i,
    /@import/i,
    /\bfetch\s*\(|XMLHttpRequest|WebSocket\s*\(|EventSource\s*\(|sendBeacon/,
  ];
  for (const re of outside) if (re.test(html)) fail(`the page refers to something outside it: ${re}`);
  // Outside the license texts, no http(s) address may appear but XML namespace names, which
  // name a vocabulary and are never fetched.
  const bare = html.replace(/<pre>[\s\S]*?<\/pre>/g, '')
    .replace(/https?:\/\/www\.w3\.org\/(?:1999\/xhtml|2000\/svg|1999\/xlink|XML\/1998\/namespace|2000\/xmlns\/)/g, '');
  const urls = bare.match(/(?:https?|ftp):\/\/[^\s"'<>)]+/g);
  if (urls) fail(`the page carries addresses: ${[...new Set(urls)].slice(0, 5).join(' ')}`);

  // ---- what leaklab itself says -------------------------------------------------------------
  const moments = readdirSync(expectDir).filter((f) => /^[a-z]+\.json$/.test(f)).map((f) => f.slice(0, -5));
  const expect = {};
  for (const m of moments) {
    expect[m] = {
      json: JSON.parse(readFileSync(join(expectDir, `${m}.json`), 'utf8')),
      native: existsSync(join(expectDir, `${m}.native.json`))
        ? JSON.parse(readFileSync(join(expectDir, `${m}.native.json`), 'utf8')) : null,
      text: readFileSync(join(expectDir, `${m}.txt`), 'utf8'),
    };
  }
  if (!moments.length) fail(`no expected moments in ${expectDir}`);
  const anyJson = expect[moments[0]].json;

  // ---- the browser -----------------------------------------------------------------------------
  const fileUrl = pathToFileURL(resolve(htmlPath)).href;
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('console', (msg) => { if (msg.type() === 'error') fail(`console error: ${msg.text()}`); });
  page.on('pageerror', (err) => fail(`page error: ${err.message}`));
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    if (req.url() === fileUrl) return req.continue();
    fail(`the page asked for ${req.url()}`);
    return req.abort();
  });
  // Reads in one round trip each: page.$$eval makes a handle per element (a DevTools call each),
  // which took seconds per page on flamegraphs of hundreds of frames.
  const $$ev = (sel, fn) => page.evaluate(`(${fn})([...document.querySelectorAll(${JSON.stringify(sel)})])`);
  const $ev = (sel, fn) => page.evaluate(`(${fn})(document.querySelector(${JSON.stringify(sel)}))`);
  // What a click on a control does (its click event; a checkbox's change), in one round trip: a
  // mouse click through DevTools waits for frames. The page's controls get real clicks below too.
  const press = (sel) => page.evaluate((s) => document.querySelector(s).click(), sel);
  // As a user who asked for reduced motion: the flamegraph's frames jump instead of moving for
  // 200 ms, so each read below waits a frame or two instead of a transition (checked below).
  await page.emulateMediaFeatures([{ name: 'prefers-reduced-motion', value: 'reduce' }]);
  const t0 = Date.now();
  await page.goto(fileUrl, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
  note(`interactive after ${Date.now() - t0} ms`);
  // The flamegraph honours prefers-reduced-motion: 0 ms transitions, 200 ms without it (the
  // preference is read at each drawing, so a redraw, two clicks on "inverted", picks it up).
  const motion = async (value) => {
    await page.emulateMediaFeatures([{ name: 'prefers-reduced-motion', value }]);
    await page.click('#inverted');
    await page.click('#inverted');
    return page.evaluate(() => window.leaklab.state.flame && window.leaklab.state.flame.transitionDuration());
  };
  if (await page.evaluate(() => !!window.leaklab.state.flame)) {
    const normal = await motion('no-preference');
    const reduced = await motion('reduce');
    if (normal !== 200 || reduced !== 0) fail(`flamegraph transitions: ${normal} ms, ${reduced} ms with reduced motion (want 200, 0)`);
    else note('flamegraph transitions: 200 ms, 0 ms with reduced motion');
  }

  // d3 keeps a transition on its node (__transition) until it ends: the frames are read once no
  // frame has one and two reads a frame apart agree (one round trip: DevTools waits were ~0.1 s
  // each).
  const frames = () => page.evaluate(() => new Promise((resolve, reject) => {
    const t0 = performance.now();
    let last = null;
    const busy = () => [...document.querySelectorAll('#flame g, #flame rect, #flame div')].some((e) => e.__transition);
    const read = () => [...document.querySelectorAll('#flame g.frame')].map((g) => ({
      name: g.getAttribute('name'),
      width: parseFloat(g.querySelector('rect').getAttribute('width')),
      y: parseFloat(g.getAttribute('transform').match(/,\s*([-\d.e]+)\)/)[1]),
      title: (g.querySelector('title') || {}).textContent || '',
      fade: g.classList.contains('fade'),
      fill: g.querySelector('rect').getAttribute('fill'),
    }));
    const step = () => {
      if (performance.now() - t0 > 10000) return reject(new Error('the flamegraph still moves after 10 s'));
      if (!busy()) {
        const now = read();
        if (last && JSON.stringify(now) === JSON.stringify(last)) return resolve(now);
        last = now;
      }
      return requestAnimationFrame(step);
    };
    step();
  }));
  const rows = (fs) => {
    const ys = [...new Set(fs.map((f) => f.y))].sort((a, b) => a - b);
    return ys.map((y) => fs.filter((f) => f.y === y));
  };

  // The chart: the peak label says the capture's peak, to the byte.
  const peak = await $ev('#peak-label', (e) => ({ bytes: e.dataset.bytes, text: e.textContent,
    shown: getComputedStyle(e).display !== 'none' }));
  if (!peak.shown) fail('no peak label on the chart');
  else if (peak.bytes !== String(anyJson.peak_bytes) || !peak.text.includes(groupDigits(anyJson.peak_bytes)))
    fail(`chart peak label "${peak.text}" is not peak_bytes ${anyJson.peak_bytes}`);
  else note(`chart peak label: ${peak.text}`);
  // The mark and the label sit at the peak's point: the label says its time, the red mark is
  // drawn at that time's x, the label beside it.
  if (peak.shown) {
    const at = await page.evaluate(() => {
      const tl = window.leaklab.data.timeline, u = window.leaklab.chart;
      const t = tl.t_ns[tl.peak_index] / 1e9, last = tl.t_ns[tl.t_ns.length - 1] / 1e9;
      const over = u.over.getBoundingClientRect();
      const lb = document.getElementById('peak-label').getBoundingClientRect();
      const x = u.valToPos(t, 'x', true); // the canvas's own pixels
      const img = u.ctx.getImageData(Math.round(x) - 1, u.bbox.top, 3, u.bbox.height).data;
      let red = 0;
      for (let i = 0; i < img.length; i += 4)
        if (img[i] > 150 && img[i + 1] < 90 && img[i + 2] < 90 && img[i + 3] > 200) red++;
      return { t, last, x: over.left + u.valToPos(t, 'x'), left: lb.left, right: lb.right, red, rows: u.bbox.height };
    });
    if (!peak.text.includes(`at ${at.t.toFixed(3)} s`)) fail(`chart peak label "${peak.text}" does not say the peak point's time ${at.t.toFixed(3)} s`);
    else if (Math.abs(at.left - 8 - at.x) > 1.5 && Math.abs(at.right + 8 - at.x) > 1.5)
      fail(`chart peak label spans ${at.left}-${at.right} px, the peak is at ${at.x} px`);
    else if (at.red < at.rows / 3) fail(`no red peak mark at the peak's x (${at.red} red pixels in ${at.rows} rows)`);
    else note(`peak mark and label at ${at.t.toFixed(3)} s (x ${at.x.toFixed(1)} px), the run's last point at ${at.last.toFixed(3)} s`);
    const leadFile = join(expectDir, 'peak_before_end_ms');
    if (existsSync(leadFile)) {
      const want = +readFileSync(leadFile, 'utf8').trim();
      if ((at.last - at.t) * 1000 < want)
        fail(`the peak is at ${at.t.toFixed(3)} s, ${((at.last - at.t) * 1000).toFixed(0)} ms before the end at ${at.last.toFixed(3)} s: ${want} ms at least wanted`);
    }
  }
  const budgetFile = join(expectDir, 'budget');
  const budget = await $ev('#budget-label', (e) => ({ bytes: e.dataset.bytes, text: e.textContent,
    shown: getComputedStyle(e).display !== 'none' }));
  if (existsSync(budgetFile)) {
    const want = readFileSync(budgetFile, 'utf8').trim();
    if (!budget.shown || budget.bytes !== want || !budget.text.includes(groupDigits(want)))
      fail(`budget label "${budget.text}" (shown: ${budget.shown}) is not check's limit ${want} B`);
    else note(`budget label: ${budget.text}`);
  } else if (budget.shown) {
    fail(`a budget label "${budget.text}" for a capture check did not record`);
  }
  const csv = await page.evaluate(() => window.leaklab.toCSV());
  const npoint = await page.evaluate(() => window.leaklab.data.timeline.t_ns.length);
  if (csv.trim().split('\n').length !== npoint + 1) fail(`CSV has not one row per point (${npoint})`);

  const available = await $$ev('#moments button', (bs) => bs.map((b) => b.dataset.at));
  for (const m of moments) if (!available.includes(m)) fail(`the page offers no '${m}' moment`);

  for (const m of moments) {
    const { json, native, text } = expect[m];
    await press(`#moments button[data-at="${m}"]`);
    if (await $ev('#inverted', (e) => e.checked)) await press('#inverted');
    if (await $ev('#native', (e) => e.checked)) await press('#native');
    let fs = await frames();
    const total = json.sites.reduce((a, s) => a + s.size, 0);
    if (!total) {
      if (fs.length) fail(`${m}: frames drawn for an empty moment`);
      continue;
    }
    const root = rows(fs)[0];
    if (root.length !== 1 || root[0].name !== m) fail(`${m}: the root frame is ${JSON.stringify(root.map((f) => f.name))}`);
    if (!root[0].title.includes(`(${groupDigits(total)} B, 100.00%)`))
      fail(`${m}: root frame says "${root[0].title}", leaklab's sites sum to ${total} B`);

    // Inverted, the row under the root is the allocating lines: each one's width is its share.
    const checkLines = async (sites, label) => {
      await press('#inverted');
      const fs2 = await frames();
      const rw = rows(fs2)[0][0].width;
      const lines = rows(fs2)[1] || [];
      let checked = 0;
      for (const s of sites) {
        const name = s.function ? `${s.function} (${s.file}:${s.line})` : `${s.file}:${s.line}`;
        const want = rw * s.size / total;
        const got = lines.find((f) => f.name === name);
        if (s.size / total < 0.001 || want <= 1) continue; // merged or too thin to draw
        if (!got) { fail(`${m}${label}: no frame for ${name} (${s.size} B)`); continue; }
        if (Math.abs(got.width - want) > 0.5) fail(`${m}${label}: ${name} is ${got.width}px wide, ${s.size}/${total} of ${rw}px is ${want.toFixed(2)}`);
        if (!got.title.includes(`(${groupDigits(s.size)} B,`)) fail(`${m}${label}: ${name} says "${got.title}", leaklab says ${s.size} B`);
        checked++;
      }
      const sum = lines.reduce((a, f) => a + f.width, 0);
      if (Math.abs(sum - rw) > 0.5 * Math.max(1, lines.length) && lines.length === sites.length)
        fail(`${m}${label}: the lines' widths sum to ${sum}, the root is ${rw}`);
      await press('#inverted');
      return checked;
    };
    const checked = await checkLines(json.sites, '');
    note(`${m}: root and ${checked} allocating lines match leaklab's sizes`);
    if (native && await $ev('#native', (e) => !e.disabled)) {
      await press('#native');
      const n = await checkLines(native.sites, ' (library frames)');
      note(`${m}: with library frames, ${n} allocating lines match 'report --native'`);
      await press('#native');
    }

    // The table: every line, sizes in tracemalloc's words as the text report prints them.
    const table = await $$ev('#lines tbody tr', (trs) => trs.map((tr) =>
      [...tr.children].map((td) => td.textContent)));
    if (table.length !== json.sites.length) fail(`${m}: table has ${table.length} lines, leaklab ${json.sites.length}`);
    const textSizes = new Map();
    for (const line of text.split('\n')) {
      const mm = line.match(/^(.*:\d+): size=(.*?), count=(\d+)(?:, average=(.*))?$/);
      if (mm) textSizes.set(mm[1], { size: mm[2], count: mm[3], average: mm[4] });
    }
    let same = 0;
    for (const r of table) {
      const t = textSizes.get(r[0]);
      if (!t) { fail(`${m}: table line ${r[0]} is not in the text report`); continue; }
      if (r[2] !== t.size || r[3] !== t.count || (t.average && r[4] !== t.average))
        fail(`${m}: table ${r.slice(0, 5).join(' | ')} vs text size=${t.size}, count=${t.count}, average=${t.average}`);
      else same++;
    }
    note(`${m}: ${same} table lines read as the text report's`);
  }

  // The exit scan: at end, each line's kinds and the chain holding it, as --retainers prints
  // them, in the table; the allocating lines' frames in the colour of their kind.
  const retFile = join(expectDir, 'end.retainers.txt');
  if (existsSync(retFile) && moments.includes('end')) {
    const ret = new Map();
    let cur = null;
    for (const line of readFileSync(retFile, 'utf8').split('\n')) {
      const mm = line.match(/^(\S.*:\d+): size=/);
      if (mm) { cur = { kinds: [], chain: '' }; ret.set(mm[1], cur); continue; }
      const kk = line.match(/^    kinds: (.*)$/);
      if (kk && cur) { cur.kinds = kk[1].split(', ').map((p) => p.match(/^(.*?) (\d+) B in/)).filter(Boolean).map((p) => [p[1], +p[2]]); continue; }
      if (line.startsWith('    ') && cur) cur.chain = line.trim();
    }
    await press('#moments button[data-at="end"]');
    if (await $ev('#inverted', (e) => e.checked)) await press('#inverted');
    if (await $ev('#native', (e) => e.checked)) await press('#native');
    const cells = await $$ev('#lines tbody tr', (trs) => trs.map((tr) => ({
      where: tr.children[0].textContent,
      kind: tr.children[7] ? tr.children[7].dataset.kind : undefined,
      kinds: tr.children[7] ? tr.children[7].textContent : undefined,
      chain: tr.children[8] ? tr.children[8].textContent : undefined,
    })));
    const names = ['definitely lost', 'indirectly lost', 'possibly lost', 'still reachable'];
    const colors = await page.evaluate(() => window.leaklab.kindColors);
    let same = 0, colored = 0;
    await press('#inverted');
    const fs = rows(await frames())[1] || [];
    for (const c of cells) {
      const want = ret.get(c.where);
      if (!want || !want.kinds.length) continue;
      const top = want.kinds.reduce((a, b) => (b[1] > a[1] ? b : a));
      if (c.kind !== String(names.indexOf(top[0])))
        fail(`end: ${c.where} shows kind ${c.kind} (${c.kinds}), --retainers: ${JSON.stringify(want.kinds)}`);
      else if (want.kinds.some(([k]) => !c.kinds.includes(k)))
        fail(`end: ${c.where} shows "${c.kinds}", --retainers: ${JSON.stringify(want.kinds)}`);
      else if (c.chain !== (want.chain || '(nothing holds it)'))
        fail(`end: ${c.where} held by "${c.chain}", --retainers: "${want.chain}"`);
      else same++;
      // Its frame under the root (inverted: the allocating line), one kind only: that colour.
      const fr = fs.find((f) => f.name.endsWith(`(${c.where})`) || f.name === c.where);
      if (fr && want.kinds.length === 1) {
        if (fr.fill !== colors[names.indexOf(top[0])]) fail(`end: frame ${fr.name} is ${fr.fill}, not ${top[0]}'s colour`);
        else colored++;
      }
    }
    await press('#inverted');
    if (!same) fail('end: no line shows its leak kinds and holder');
    else note(`end: ${same} lines show --retainers' kinds and chain, ${colored} frames their kind's colour`);
  }

  // Zoom: a click on a frame makes it the full width; reset zoom brings the root back.
  await page.click(`#moments button[data-at="${moments.includes('peak') ? 'peak' : moments[0]}"]`);
  let fs = await frames();
  const r = rows(fs);
  if (r.length > 1) {
    const full = r[0][0].width;
    const target = r[r.length > 2 ? 2 : 1].reduce((a, b) => (b.width > a.width ? b : a));
    // d3 listens on the frame's <g>: click it where the user would, inside its rectangle.
    await page.evaluate((n) => {
      const g = [...document.querySelectorAll('#flame g.frame')].find((e) => e.getAttribute('name') === n);
      g.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    }, target.name);
    fs = await frames();
    const zoomed = fs.find((f) => f.name === target.name && !f.fade);
    if (!zoomed || Math.abs(zoomed.width - full) > 0.5) fail(`zoom: ${target.name} is ${zoomed && zoomed.width}px after a click, not ${full}`);
    else note(`zoom: ${target.name} fills the width after a click`);
    await page.click('#reset-zoom');
    fs = await frames();
    const back = fs.find((f) => f.name === target.name);
    if (!back || Math.abs(back.width - target.width) > 0.5) fail('reset zoom did not restore the widths');
    else note('reset zoom restores the widths');
    // Search marks the matching frames.
    await page.type('#search', target.name.slice(0, 12));
    await page.evaluate(() => new Promise((resolve) => { // until it says so, 3 s at most
      const t0 = performance.now();
      const step = () => (/search: \d+ frames matched/.test(document.getElementById('details').textContent) ||
        performance.now() - t0 > 3000 ? resolve() : requestAnimationFrame(step));
      step();
    }));
    const details = await $ev('#details', (e) => e.textContent);
    if (!/search: \d+ frames matched/.test(details)) fail(`search shows "${details}"`);
    else note(`search: ${details}`);
  }
  await page.close();
}

// One browser for every page the test names: Chromium's start is most of a small page's cost.
await withBrowser(async (browser) => {
  for (let i = 0; i < args.length; i += 2) {
    current = args.length > 2 ? `${args[i]}: ` : '';
    await checkPage(browser, args[i], args[i + 1]);
  }
});
const pages = args.filter((_, i) => i % 2 === 0).join(' ');
if (problems.length) {
  console.error(`${problems.length} problem(s) in ${pages}`);
  process.exit(1);
}
console.log(`all checks passed: ${pages}`);
