// screenshot.mjs - a PNG of an HTML report as headless Chromium draws it (the browser tests' browser and flags).
//
// usage: node screenshot.mjs REPORT.html OUT.png [WIDTH HEIGHT]
// The top of the page: summary, memory over time and the flamegraph at the peak.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { withBrowser } from './browser.mjs';

const [htmlPath, out, w = '1280', h = '1500'] = process.argv.slice(2);
if (!htmlPath || !out) {
  console.error('usage: node screenshot.mjs REPORT.html OUT.png [WIDTH HEIGHT]');
  process.exit(2);
}
await withBrowser(async (browser) => {
  const page = await browser.newPage();
  await page.setViewport({ width: +w, height: +h });
  const file = pathToFileURL(resolve(htmlPath)).href;
  await page.setRequestInterception(true);
  page.on('request', (req) => (req.url() === file ? req.continue() : req.abort()));
  await page.goto(file, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  await new Promise((r) => setTimeout(r, 1500)); // the flamegraph's entry transition
  await page.screenshot({ path: out, clip: { x: 0, y: 0, width: +w, height: +h } });
});
