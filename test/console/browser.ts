/**
 * Headless Chromium for the browser tests: Debian's `chromium` driven by playwright-core (no
 * browser download). Missing Chromium skips the test on a developer machine and fails it in CI
 * (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (process.env['CI']) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
    t.skip(`no ${CHROMIUM}: apt-get install chromium to run the browser tests`);
    return undefined;
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  t.after(() => browser.close());
  return browser;
}

/** Where screenshots go: TORGO_SCREENSHOTS (npm run screenshots sets docs/screenshots), else a temp dir. */
export async function screenshot(page: Page, dir: string, name: string): Promise<void> {
  const out = process.env['TORGO_SCREENSHOTS'] ?? dir;
  await mkdir(out, { recursive: true });
  await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
}

/** Collects uncaught errors and console errors in the page (the tests expect none). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Chromium logs every 4xx answer; those are expected (a wrong token, a route still to come).
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      errors.push(`console: ${m.text()}`);
  });
  return errors;
}
