// time_to_interactive.mjs - how long an HTML report takes to become usable in headless Chromium (the bench's figure).
//
// usage: node time_to_interactive.mjs REPORT.html [RUNS]
// Prints "interactive_ms=N" per run: from the navigation's start to the moment the page has
// parsed its data and drawn the chart, the flamegraph and the table (window.leaklab.readyMs).
import puppeteer from 'puppeteer-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [htmlPath, runs = '3'] = process.argv.slice(2);
if (!htmlPath) {
  console.error('usage: node time_to_interactive.mjs REPORT.html [RUNS]');
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
  const file = pathToFileURL(resolve(htmlPath)).href;
  for (let i = 0; i < +runs; i++) {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(file, { waitUntil: 'load', timeout: 120000 });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 120000 });
    console.log(`interactive_ms=${Math.round(await page.evaluate(() => window.leaklab.readyMs))}`);
    await page.close();
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
