// lesson_shots.mjs - PNGs of parts of one HTML report (the memory chart, the flamegraph of a chosen moment) as headless Chromium draws them.
//
// usage: node lesson_shots.mjs REPORT.html SHOT...
//   SHOT is OUT.png=chart                       the "Memory over time" section
//        or OUT.png=flame:MOMENT[:native][:inverted]   the flamegraph section with MOMENT's tab
//                                                     selected (peak, end, leaks, ...)
// One browser session serves every shot of the page; a moment the page does not hold is an
// error (exit 1) naming it, so a lesson's README cannot show a picture of nothing.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { withBrowser } from './browser.mjs';

const [htmlPath, ...shots] = process.argv.slice(2);
if (!htmlPath || !shots.length || shots.some((s) => !/^.+\.png=(chart|flame:[a-z]+(:native|:inverted)*)$/.test(s))) {
  console.error('usage: node lesson_shots.mjs REPORT.html OUT.png=chart|OUT.png=flame:MOMENT[:native][:inverted]...');
  process.exit(2);
}
let status = 0;
await withBrowser(async (browser) => {
  const page = await browser.newPage();
  // A README's picture is read at about 1000 px wide; 2x keeps the flamegraph's labels sharp.
  await page.setViewport({ width: 1000, height: 900, deviceScaleFactor: 2 });
  const file = pathToFileURL(resolve(htmlPath)).href;
  await page.setRequestInterception(true);
  page.on('request', (req) => (req.url() === file ? req.continue() : req.abort()));
  page.on('pageerror', (e) => { console.error(`lesson_shots: page error: ${e.message}`); status = 1; });
  await page.goto(file, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  for (const shot of shots) {
    const [out, what] = shot.split('=');
    let selector = '#chart-section';
    if (what.startsWith('flame:')) {
      const [, moment, ...opts] = what.split(':');
      const ok = await page.evaluate((moment, native, inverted) => {
        const b = document.querySelector(`#moments button[data-at="${moment}"]`);
        if (!b) return false;
        for (const [id, on] of [['native', native], ['inverted', inverted]]) {
          const box = document.getElementById(id);
          if (box.checked !== on && !box.disabled) box.click();
        }
        b.click();
        return true;
      }, moment, opts.includes('native'), opts.includes('inverted'));
      if (!ok) {
        console.error(`lesson_shots: ${htmlPath} holds no moment "${moment}" (for ${out})`);
        status = 1;
        continue;
      }
      selector = '#flame-section';
      await new Promise((r) => setTimeout(r, 1200)); // the flamegraph's entry transition
    }
    const el = await page.$(selector);
    await el.screenshot({ path: out });
    console.log(`lesson_shots: ${out}`);
  }
});
process.exit(status);
