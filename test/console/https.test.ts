/**
 * The auditor console over HTTPS, in headless Chromium, against a gateway that accepts post-quantum
 * key exchange only (`tls.requirePostQuantum`): the browser gets in over HTTP/2, signs in, and the
 * gateway saw only X25519MLKEM768 handshakes.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createDevCertificates } from '../../gateway/tls/devcert.js';
import { startTestGateway, tempDir } from '../gateway/helpers.js';
import { launchBrowser, watchErrors } from './browser.js';

test('console over HTTPS with requirePostQuantum: Chromium negotiates X25519MLKEM768 over HTTP/2 and signs in', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const dir = await tempDir(t, 'torgo-console-tls-');
  await createDevCertificates({ dir });
  const { url, admin } = await startTestGateway(t, {
    'tls.cert': path.join(dir, 'server.pem'),
    'tls.key': path.join(dir, 'server.key.pem'),
    'tls.requirePostQuantum': true,
  });
  // The development CA is not in Chromium's trust store; what is tested here is the key exchange.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = watchErrors(page);
  const response = await page.goto(`${url}/console/`);
  assert.equal(response?.status(), 200, 'the console is built (npm run build) and served over HTTPS');
  await page.locator('#signin').waitFor();
  await page.fill('#token', admin);
  await page.click('#signin button[type=submit]');
  await page.locator('#who', { hasText: 'admin' }).waitFor();
  assert.deepEqual(errors, []);

  const ready = (await (await context.request.get(`${url}/readyz`)).json()) as {
    details: { tls: { handshakes: Record<string, number>; failures: Record<string, number> } };
  };
  assert.deepEqual(Object.keys(ready.details.tls.handshakes), ['X25519MLKEM768']);
  // Chromium may first refuse the untrusted development certificate (counted, then ignored as asked);
  // no handshake failed for want of a shared group.
  assert.equal(ready.details.tls.failures['no_shared_group'], undefined, JSON.stringify(ready.details.tls));
  const metrics = await (await context.request.get(`${url}/metrics`)).text();
  assert.match(metrics, /torgo_tls_handshakes_total\{group="X25519MLKEM768",protocol="h2"\} [1-9]/);
});
