// time_to_interactive.mjs - how long an HTML report takes to become usable in headless Chromium (the bench's figure).
//
// usage: node time_to_interactive.mjs REPORT.html [RUNS]
// Prints "interactive_ms=N" per run: from the navigation's start to the moment the page has
// parsed its data and drawn the chart, the flamegraph and the table (window.leaklab.readyMs).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { withBrowser } from './browser.mjs';

const [htmlPath, runs = '3'] = process.argv.slice(2);
if (!htmlPath) {
  console.error('usage: node time_to_interactive.mjs REPORT.html [RUNS]');
  process.exit(2);
}
await withBrowser(async (browser) => {
  const file = pathToFileURL(resolve(htmlPath)).href;
  for (let i = 0; i < +runs; i++) {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(file, { waitUntil: 'load', timeout: 120000 });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 120000 });
    console.log(`interactive_ms=${Math.round(await page.evaluate(() => window.leaklab.readyMs))}`);
    await page.close();
  }
});
