/**
 * The auditor console in headless Chromium against a real gateway (embedded ledger, random
 * 127.0.0.1 port): sign in, search with pagination, open a receipt, the timeline, the key
 * registry and history, checkpoints, export — and the token never in a URL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createReceiptText,
  newUlid,
  type PrivateKey,
  parseReceipt,
  type ReceiptDocument,
  signReceipt,
} from '../../core/index.js';
import { loadConfig } from '../../gateway/config.js';
import { buildApp } from '../../gateway/http/app.js';
import { consoleRoutes } from '../../gateway/http/console.js';
import { GatewayService } from '../../gateway/service.js';
import { call, createToken, receipt, registerKey, tempDir } from '../gateway/helpers.js';
import { launchBrowser, screenshot, watchErrors } from './browser.js';

/** A gateway like `torgo serve`, with the console registered if app.ts does not do it yet. */
async function startGatewayWithConsole(t: Parameters<typeof tempDir>[0]) {
  const dataDir = await tempDir(t);
  const config = loadConfig({
    env: {},
    overrides: { dataDir, port: 0, host: '127.0.0.1', 'log.level': 'silent' },
  });
  const service = await GatewayService.open(config);
  const app = await buildApp(service, { logger: false });
  if (!app.hasRoute({ method: 'GET', url: '/console/*' })) await app.register(consoleRoutes);
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await app.close();
    await service.close();
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, admin: service.bootstrapToken! };
}

/** A receipt with every section and some Markdown, including HTML that must stay text. */
function richReceipt(keys: readonly PrivateKey[], refs: string[]): string {
  const doc: ReceiptDocument = {
    fields: {
      format: 'torgo.receipt/1',
      id: newUlid(),
      source: 'icu-relay-3',
      operation: 'vitals.forward',
      subject: 'urn:torgo:subject:7f3a9c',
      occurredAt: '2026-11-25T13:07:48.123Z',
      payloadDigests: ['sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
      refs,
    },
    sections: [
      {
        name: 'Intent',
        lines: [
          'Forward **vitals batch 42** to the EHR bridge, as *scheduled*.',
          '<img src=x onerror=alert(1)> stays text',
        ],
      },
      {
        name: 'Context',
        lines: [
          '- Relay firmware `3.1.4`',
          '- Link quality nominal',
          '  - latency 42 ms',
          '> Checked by the night shift',
        ],
      },
      { name: 'Code_Blocks', lines: ['```sh', 'torgo append batch-42.mu', '```'] },
      { name: 'History', lines: ['1. Queued at the relay', '2. Retried once after a timeout'] },
    ],
  };
  let text = createReceiptText(doc);
  for (const k of keys) text = signReceipt(parseReceipt(text), k);
  return text;
}

test('auditor console: sign in, search and page, receipt, timeline, keys, checkpoints, export', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const shots = await tempDir(t, 'torgo-console-shots-');
  const { url, admin } = await startGatewayWithConsole(t);

  // Two services append; one auditor reads.
  const relay = await createToken(url, admin, 'icu-relay', ['appender']);
  const hub = await createToken(url, admin, 'device-hub', ['appender']);
  const auditor = await createToken(url, admin, 'auditor-anna', ['auditor']);
  const relayKey = await registerKey(url, relay);
  const witnessKey = await registerKey(url, relay);
  const hubKey = await registerKey(url, hub);
  const append = async (token: string, mu: string) => {
    const r = await call(url, 'POST', '/v1/receipts', { token, raw: mu });
    assert.equal(r.status, 201, r.text);
    return r.json.id as string;
  };
  const relayIds: string[] = [];
  for (let i = 0; i < 7; i++)
    relayIds.push(await append(relay, receipt([relayKey], { source: 'icu-relay-3' })));
  const richId = await append(relay, richReceipt([relayKey, witnessKey], [relayIds[0]!]));
  relayIds.push(richId);
  const revoked = await call(url, 'POST', `/v1/keys/${witnessKey.keyId}/revoke`, {
    token: relay,
    body: { reason: 'witness device decommissioned' },
  });
  assert.equal(revoked.status, 200, revoked.text);

  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = watchErrors(page);
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));

  // Sign in: a wrong token is refused, the auditor token is kept in sessionStorage only.
  await page.goto(`${url}/console/`);
  await page.locator('#signin').waitFor();
  await screenshot(page, shots, 'console-signin');
  await page.fill('#token', 'not-a-token');
  await page.click('#signin button[type=submit]');
  await page.locator('#signin .error', { hasText: 'not valid' }).waitFor();
  await page.fill('#token', auditor);
  await page.click('#signin button[type=submit]');
  await page.locator('#who', { hasText: 'auditor-anna (auditor)' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('torgo.console.token')), auditor);

  // Search one source: the rows the API gives, in its order, both ways.
  const api = async (q: string) =>
    ((await call(url, 'GET', `/v1/receipts?${q}`, { token: auditor })).json.receipts as { id: string }[]).map(
      (r) => r.id,
    );
  await page.fill('input[name=source]', 'icu-relay-3');
  await page.selectOption('select[name=limit]', '10');
  await page.click('form.filters button[type=submit]');
  await page.locator('#results tbody tr').nth(7).waitFor();
  const ids = () => page.locator('#results tbody tr td:nth-child(2)').allTextContents();
  assert.deepEqual(await ids(), await api('source=icu-relay-3&limit=10'));
  assert.deepEqual(new Set(await ids()), new Set(relayIds));
  await screenshot(page, shots, 'console-search');
  const newestFirst = await api('source=icu-relay-3&limit=10&order=desc');
  await page.selectOption('select[name=order]', 'desc');
  await page.click('form.filters button[type=submit]');
  // The old rows stay until the new page replaces them: wait for the new first row.
  await page.locator('#results tbody tr:first-child td:nth-child(2)', { hasText: newestFirst[0]! }).waitFor();
  assert.deepEqual(await ids(), newestFirst);

  // Paging through cursors: 15 receipts of another source, 10 a page.
  for (let i = 0; i < 15; i++)
    await append(
      hub,
      receipt([hubKey], {
        source: 'device-hub-7',
        operation: 'device.reading',
        subject: `urn:torgo:device:${i % 4}`,
      }),
    );
  await page.goto(`${url}/console/#/?source=device-hub-7&order=asc&limit=10`);
  await page.locator('#results tbody tr').nth(9).waitFor();
  const hubPage1 = await ids();
  await page.click('text=Next →');
  await page.locator('.pager', { hasText: 'Page 2' }).waitFor();
  const hubPage2 = await ids();
  assert.equal(hubPage2.length, 5);
  assert.equal(new Set([...hubPage1, ...hubPage2]).size, 15, 'pages do not overlap');
  assert.ok(!(await page.locator('.pager a', { hasText: 'Next' }).count()), 'no next page at the end');
  await page.click('text=← Previous');
  await page.locator('.pager', { hasText: 'Page 1' }).waitFor();
  assert.deepEqual(await ids(), hubPage1);

  // Export of the current query: a bundle download once the gateway serves /v1/export.
  const hasExport =
    (await call(url, 'GET', '/v1/export?source=device-hub-7', { token: auditor })).status !== 404;
  if (hasExport) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-bundle')]);
    assert.match(download.suggestedFilename(), /^torgo-bundle-.*\.jsonl$/);
  } else {
    await page.click('#export-bundle');
    await page.locator('.error', { hasText: 'does not serve bundle exports' }).waitFor();
  }

  // The receipt page: un-mirrored, rendered Markdown; HTML in it stays text; signers checked here.
  await page.goto(`${url}/console/#/receipt/${richId}`);
  await page.locator('#signers .badge').first().waitFor();
  const body = page.locator('#receipt-body');
  assert.equal(await body.locator('strong').first().textContent(), 'vitals batch 42');
  assert.match((await body.textContent()) ?? '', /<img src=x onerror=alert\(1\)> stays text/);
  assert.equal(await body.locator('img').count(), 0);
  assert.deepEqual(await body.locator('h2').allTextContents(), [
    'Intent',
    'Context',
    'Code Blocks',
    'History',
  ]);
  assert.equal(await body.locator('ul ul li').textContent(), 'latency 42 ms');
  assert.equal(await body.locator('pre code').textContent(), 'torgo append batch-42.mu');
  assert.equal(await body.locator('ol li').count(), 2);
  assert.match(
    (await page.locator('#front-matter').textContent()) ?? '',
    /^---\nformat: torgo\.receipt\/1\nid: /,
  );
  assert.match(
    (await page.locator('#signers').textContent()) ?? '',
    /2 of 2 signatures verified in this browser/,
  );
  assert.match(
    (await page.locator('#signers').textContent()) ?? '',
    /valid; revoked later at .*witness device decommissioned/,
  );
  assert.match((await page.locator('#ledger').textContent()) ?? '', /matches the .mu text/);
  await page.locator('#inclusion .badge').waitFor();
  await screenshot(page, shots, 'console-receipt');

  // Timeline of two sources.
  await page.goto(`${url}/console/#/timeline?source=icu-relay-3,device-hub-7`);
  await page.locator('#timeline svg rect').first().waitFor();
  assert.deepEqual(
    (await page.locator('.legend li').allTextContents()).map((s) => s.trim()),
    ['device-hub-7 15', 'icu-relay-3 8'],
  );
  await screenshot(page, shots, 'console-timeline');

  // Key registry: keys met in this session, and one key's history.
  await page.goto(`${url}/console/#/keys`);
  await page.locator('#keys tbody tr').nth(2).waitFor();
  await page.goto(`${url}/console/#/keys/${witnessKey.keyId}`);
  await page.locator('#key-history tbody tr').nth(1).waitFor();
  assert.deepEqual(await page.locator('#key-history tbody tr td:nth-child(2)').allTextContents(), [
    'registered',
    'revoked: witness device decommissioned',
  ]);
  await screenshot(page, shots, 'console-key');

  // Checkpoints: the latest one when the gateway serves them, else said plainly.
  await page.goto(`${url}/console/#/checkpoints`);
  await page.locator('#latest-checkpoint, .badge.info, .error').first().waitFor();
  await screenshot(page, shots, 'console-checkpoints');

  // The token never appeared in a URL; signing out forgets it.
  assert.ok(urls.length > 10);
  assert.ok(urls.every((u) => !u.includes(auditor)));
  await page.click('#sign-out');
  await page.locator('#signin').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('torgo.console.token')), null);
  assert.deepEqual(errors, []);
  await context.close();
});
