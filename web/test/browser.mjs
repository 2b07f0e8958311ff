// browser.mjs - the one way the report's scripts start headless Chromium (Debian's, through puppeteer-core), and always close it.
//
// withBrowser(fn) launches the browser with a throw-away profile, awaits fn(browser) and closes
// the browser and removes the profile however fn ends; it returns what fn returns.
import puppeteer from 'puppeteer-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function withBrowser(fn) {
  const profile = mkdtempSync(join(tmpdir(), 'leaklab-chromium-'));
  let browser;
  try {
    // No network, no updates, no sync: a report must work offline, and the test must not wait.
    browser = await puppeteer.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--user-data-dir=${profile}`],
    });
    return await fn(browser);
  } finally {
    if (browser) await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
