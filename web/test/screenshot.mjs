// screenshot.mjs - a PNG of an HTML report as headless Chromium draws it (the browser tests' browser and flags).
//
// usage: node screenshot.mjs REPORT.html OUT.png [WIDTH HEIGHT]
// The top of the page: summary, memory over time and the flamegraph at the peak.
import puppeteer from 'puppeteer-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [htmlPath, out, w = '1280', h = '1500'] = process.argv.slice(2);
if (!htmlPath || !out) {
  console.error('usage: node screenshot.mjs REPORT.html OUT.png [WIDTH HEIGHT]');
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), 'leaklab-chromium-'));
const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: +w, height: +h });
  const file = pathToFileURL(resolve(htmlPath)).href;
  await page.setRequestInterception(true);
  page.on('request', (req) => (req.url() === file ? req.continue() : req.abort()));
  await page.goto(file, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  await new Promise((r) => setTimeout(r, 1500)); // the flamegraph's entry transition
  await page.screenshot({ path: out, clip: { x: 0, y: 0, width: +w, height: +h } });
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
