/**
 * Headless Chromium for the browser tests: Debian's `chromium` driven by playwright-core (no
 * browser download). Missing Chromium skips the test loudly on a developer machine and fails it
 * where CI is set (.ci/run sets CI=true and installs it).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** CI as the CI systems (and .ci/run) set it: `CI=true` (any value but empty, 0 or false). */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env['CI']?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

/**
 * Whether the browser tests can run: undefined when `executable` exists, else the reason they are
 * skipped — announced on stderr, not only in the test report. In CI a missing browser is an error:
 * a green run that drove no browser must not pass for one that did.
 */
export function chromiumMissing(
  executable: string = CHROMIUM,
  env: NodeJS.ProcessEnv = process.env,
  warn: (text: string) => void = (text) => process.stderr.write(text),
): string | undefined {
  if (existsSync(executable)) return undefined;
  if (inCI(env))
    throw new Error(`${executable} is missing and CI is set: .ci/run installs Debian's chromium`);
  const reason = `no ${executable}: browser tests SKIPPED (apt-get install chromium to run them; CI fails instead)`;
  warn(`\n!!! ${reason}\n\n`);
  return reason;
}

export async function launchBrowser(t: TestContext): Promise<Browser | undefined> {
  const missing = chromiumMissing();
  if (missing !== undefined) {
    t.skip(missing);
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
