/**
 * @torgo/client over HTTPS against a real gateway: a private CA (`tls.ca`), HTTP/1.1 by default and
 * HTTP/2 by ALPN with `http2: true` (the gateway's handshake metrics name the protocol), and an
 * untrusted certificate reported as a network failure, never retried into success.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { TorgoApiError, TorgoClient } from '@torgo/client';
import { createDevCertificates } from '../../gateway/tls/devcert.js';
import { generatePrivateKey, publicKeyToPem } from '../../core/index.js';
import { idOf, receipt, startTestGateway, tempDir } from '../gateway/helpers.js';

test('over HTTPS with a private CA: HTTP/1.1 by default, HTTP/2 when asked', async (t) => {
  const dir = await tempDir(t, 'torgo-client-tls-');
  await createDevCertificates({ dir });
  const ca = await readFile(path.join(dir, 'ca.pem'), 'utf8');
  const { url, admin } = await startTestGateway(t, {
    'tls.cert': path.join(dir, 'server.pem'),
    'tls.key': path.join(dir, 'server.key.pem'),
  });
  const { token } = await new TorgoClient({ baseUrl: url, token: admin, tls: { ca } }).tokens.create({
    name: 'svc',
    roles: ['appender', 'auditor'],
  });
  const h1 = new TorgoClient({ baseUrl: url, token, tls: { ca } });
  const key = generatePrivateKey();
  await h1.keys.register({ publicKey: publicKeyToPem(key) });
  const mu = receipt([key]);
  assert.equal((await h1.append(mu)).created, true);
  const h2 = new TorgoClient({ baseUrl: url, token, tls: { ca }, http2: true });
  assert.equal((await h2.get(idOf(mu))).id, idOf(mu));
  assert.equal((await h2.append(mu)).created, false);

  const metrics = await new TorgoClient({ baseUrl: url, tls: { ca } }).send({
    method: 'GET',
    path: '/metrics',
    accept: 'text/plain',
    idempotent: true,
  });
  assert.match(metrics.text, /torgo_tls_handshakes_total\{group="[^"]+",protocol="h2"\} [1-9]/);
  assert.match(metrics.text, /torgo_tls_handshakes_total\{group="[^"]+",protocol="http\/1\.1"\} [1-9]/);

  // Without the CA the certificate is not trusted: E_TLS, no answer (status 0), and not retried
  // (the same handshake would fail the same way).
  const untrusting = new TorgoClient({ baseUrl: url, token, retry: { retries: 3, baseDelayMs: 1 } });
  await assert.rejects(untrusting.get(idOf(mu)), (e: unknown) => {
    assert.ok(e instanceof TorgoApiError);
    assert.equal(e.code, 'E_TLS');
    assert.equal(e.status, 0);
    assert.equal(e.attempts, 1);
    return true;
  });
});
