/**
 * The relay against a real gateway (embedded ledger on LevelDB, real HTTP on loopback): intake over
 * TCP, a Unix socket and the library call; strict intake; signing; a gateway answering 503 for a
 * while; a full outbox; a lost answer resent. Each ends with the ledger check (helpers.ts).
 */
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  createReceiptText,
  generatePrivateKey,
  newUlid,
  parseReceipt,
  publicKeyToPem,
} from '../../core/index.js';
import {
  call,
  createToken,
  freePort,
  idOf,
  receipt,
  service,
  startTestGateway,
  tempDir,
} from '../gateway/helpers.js';
import { type Acknowledged, assertOnLedgerInOrder, faultProxy, startTestRelay, waitFor } from './helpers.js';

async function setUp(t: TestContext) {
  const dir = await tempDir(t, 'torgo-relay-');
  const gateway = await startTestGateway(t);
  const { token, key } = await service(gateway.url, gateway.admin);
  const auditor = await createToken(gateway.url, gateway.admin, 'auditor', ['auditor']);
  const tokenFile = path.join(dir, 'relay.token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  return { dir, gateway, token, key, auditor, tokenFile };
}

const metric = (text: string, name: string): number => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
};

describe('relay with a real gateway', () => {
  it('accepts over TCP, a Unix socket and the library call, answers once durable, forwards, reports', async (t) => {
    const { dir, gateway, key, auditor, tokenFile } = await setUp(t);
    const socket = path.join(dir, 'relay.sock');
    const running = await startTestRelay(t, {
      dataDir: path.join(dir, 'outbox'),
      gateways: [gateway.url],
      tokenFile,
      socket,
    });
    assert.equal((await stat(socket)).mode & 0o777, 0o600, 'the socket is the relay user’s only');
    const acknowledged: Acknowledged = new Map([['edge-a', []]]);
    const ids = acknowledged.get('edge-a')!;

    const tcp = await call(running.url!, 'POST', '/v1/receipts', {
      raw: receipt([key], { source: 'edge-a' }),
    });
    assert.equal(tcp.status, 202, tcp.text);
    assert.equal(tcp.json.status, 'queued');
    ids.push(tcp.json.id);

    const dispatcher = new Agent({ connect: { socketPath: socket } });
    t.after(() => dispatcher.close());
    const viaSocket = await undiciFetch('http://relay/v1/receipts', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ receipt: receipt([key], { source: 'edge-a' }) }),
      dispatcher,
    });
    assert.equal(viaSocket.status, 202);
    ids.push(((await viaSocket.json()) as { id: string }).id);

    const viaLibrary = await running.relay.accept(receipt([key], { source: 'edge-a' }));
    assert.equal(viaLibrary.status, 'queued');
    ids.push(viaLibrary.id);

    const batch = await call(running.url!, 'POST', '/v1/receipts/batch', {
      body: { receipts: [receipt([key], { source: 'edge-a' }), receipt([key], { source: 'edge-a' })] },
    });
    assert.equal(batch.status, 200, batch.text);
    assert.equal(batch.json.queued, 2);
    ids.push(...batch.json.results.map((r: { receipt: { id: string } }) => r.receipt.id));

    await waitFor(() => running.relay.status().backlog.receipts === 0, 'the backlog to drain');
    const status = await call(running.url!, 'GET', '/v1/status');
    assert.equal(status.json.backlog.receipts, 0);
    assert.equal(status.json.backlog.oldestAgeSeconds, 0);
    assert.equal(status.json.forwarding.gateways[0].gateway, gateway.url);
    const health = await call(running.url!, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.json.accepting, true);
    const metrics = (await call(running.url!, 'GET', '/metrics')).text;
    assert.equal(metric(metrics, 'torgo_relay_backlog_receipts'), 0);
    assert.equal(metric(metrics, 'torgo_relay_oldest_unforwarded_age_seconds'), 0);
    assert.equal(metric(metrics, 'torgo_relay_received_total\\{status="queued"\\}'), 5);
    assert.equal(
      metric(metrics, `torgo_relay_forwarded_total\\{gateway="${gateway.url}",status="appended"\\}`),
      5,
    );
    await assertOnLedgerInOrder(gateway.url, auditor, acknowledged, dir);
  });

  it('refuses bad input at intake with a coded error; a repeat is "existing"; another receipt under a queued id is a conflict', async (t) => {
    const { dir, gateway, key, auditor, tokenFile } = await setUp(t);
    const proxy = await faultProxy(t, gateway.url);
    proxy.setMode('unavailable'); // nothing drains: the receipts stay queued
    const running = await startTestRelay(t, {
      dataDir: path.join(dir, 'outbox'),
      gateways: [proxy.url],
      tokenFile,
    });
    const url = running.url!;
    const mu = receipt([key], { source: 'edge-b' });

    const notMu = await call(url, 'POST', '/v1/receipts', { raw: 'hello\n' });
    assert.equal(notMu.status, 400);
    assert.match(notMu.json.code, /^E_RECEIPT_/);
    const crlf = await call(url, 'POST', '/v1/receipts', { raw: mu.replaceAll('\n', '\r\n') });
    assert.equal(crlf.status, 400);
    assert.match(crlf.json.code, /^E_RECEIPT_/, 'not canonical: refused, never normalised');
    const unsigned = await call(url, 'POST', '/v1/receipts', { raw: parseReceipt(mu).text });
    assert.equal(unsigned.status, 400);
    assert.equal(unsigned.json.code, 'E_SIGNATURE_MISSING');
    assert.equal(
      (await call(url, 'POST', '/v1/receipts', { body: { other: 1 } })).json.code,
      'E_BAD_REQUEST',
    );
    assert.equal((await call(url, 'POST', '/v1/receipts/batch', { body: { receipts: [] } })).status, 400);

    const first = await call(url, 'POST', '/v1/receipts', { raw: mu });
    assert.equal(first.status, 202);
    const again = await call(url, 'POST', '/v1/receipts', { raw: mu });
    assert.equal(again.status, 200);
    assert.equal(again.json.status, 'existing');
    assert.equal(again.json.sequence, first.json.sequence);
    const other = receipt([key], { source: 'edge-b', id: idOf(mu), intent: 'Something else entirely.' });
    const conflict = await call(url, 'POST', '/v1/receipts', { raw: other });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json.code, 'E_RECEIPT_CONFLICT');

    const mixed = await call(url, 'POST', '/v1/receipts/batch', {
      body: { receipts: [receipt([key], { source: 'edge-b' }), 'not a receipt\n', other] },
    });
    assert.deepEqual(
      mixed.json.results.map((r: { status: number }) => r.status),
      [202, 400, 409],
    );
    assert.equal(running.relay.status().backlog.receipts, 2);

    proxy.setMode('pass');
    await waitFor(() => running.relay.status().backlog.receipts === 0, 'the backlog to drain');
    await assertOnLedgerInOrder(
      gateway.url,
      auditor,
      new Map([['edge-b', [first.json.id, mixed.json.results[0].receipt.id]]]),
      dir,
    );
    const metrics = (await call(url, 'GET', '/metrics')).text;
    assert.equal(metric(metrics, 'torgo_relay_refused_total\\{code="E_RECEIPT_CONFLICT"\\}'), 2);
  });

  it('signs unsigned receipts with its key (deterministically: a resend is the same receipt)', async (t) => {
    const { dir, gateway, token, auditor, tokenFile } = await setUp(t);
    const relayKey = generatePrivateKey();
    const reg = await call(gateway.url, 'POST', '/v1/keys', {
      token,
      body: { publicKey: publicKeyToPem(relayKey), label: 'relay' },
    });
    assert.equal(reg.status, 201, reg.text);
    const keyFile = path.join(dir, 'relay.key.pem');
    const { privateKeyToPem } = await import('../../core/index.js');
    await writeFile(keyFile, privateKeyToPem(relayKey), { mode: 0o600 });
    const running = await startTestRelay(t, {
      dataDir: path.join(dir, 'outbox'),
      gateways: [gateway.url],
      tokenFile,
      signKeyFile: keyFile,
    });
    const unsigned = createReceiptText({
      fields: {
        format: 'torgo.receipt/1',
        id: newUlid(),
        source: 'edge-c',
        operation: 'vitals.forward',
        subject: 'urn:torgo:subject:7f3a9c',
        occurredAt: '2026-12-01T20:00:00Z',
        payloadDigests: ['sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
      },
      sections: [{ name: 'Intent', lines: ['Forward one vitals batch.'] }],
    });
    const a = await call(running.url!, 'POST', '/v1/receipts', { raw: unsigned });
    assert.equal(a.status, 202, a.text);
    await waitFor(() => running.relay.status().backlog.receipts === 0, 'the backlog to drain');
    const onLedger = await call(gateway.url, 'GET', `/v1/receipts/${a.json.id}`, { token: auditor });
    assert.deepEqual(onLedger.json.signerKeyIds, [relayKey.keyId]);
    assert.equal(onLedger.json.hash, a.json.digest, 'the ledger holds the bytes the relay acknowledged');
    // The service sends it again after the relay forwarded it: same bytes, so "existing", not a conflict.
    const b = await call(running.url!, 'POST', '/v1/receipts', { raw: unsigned });
    assert.equal(b.json.digest, a.json.digest);
    await waitFor(() => running.relay.status().backlog.receipts === 0, 'the resend to drain');
    assert.equal(running.relay.status().rejected.receipts, 0);
    const metrics = (await call(running.url!, 'GET', '/metrics')).text;
    assert.match(metrics, /torgo_relay_forwarded_total\{gateway="[^"]+",status="existing"\} 1/);
    await assertOnLedgerInOrder(gateway.url, auditor, new Map([['edge-c', [a.json.id]]]), dir);
  });

  it('keeps everything through a gateway answering 503 for a while, with backoff, then drains in order', async (t) => {
    const { dir, gateway, key, auditor, tokenFile } = await setUp(t);
    const proxy = await faultProxy(t, gateway.url);
    const running = await startTestRelay(t, {
      dataDir: path.join(dir, 'outbox'),
      gateways: [proxy.url],
      tokenFile,
      batchSize: 7,
    });
    const sources = ['edge-d', 'edge-e'];
    const acknowledged: Acknowledged = new Map(sources.map((s) => [s, []]));
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const source = sources[i % 2]!;
        const r = await running.relay.accept(receipt([key], { source }));
        acknowledged.get(source)!.push(r.id);
      }
    };
    await send(10);
    await waitFor(() => running.relay.status().backlog.receipts === 0, 'the first receipts to drain');
    proxy.setMode('unavailable');
    await send(30);
    await waitFor(() => proxy.unavailableAnswers >= 3, 'three 503 answers');
    const during = running.relay.status();
    assert.equal(during.forwarding.state, 'retrying');
    assert.ok(during.backlog.receipts > 0 && during.backlog.oldestAgeSeconds > 0, JSON.stringify(during));
    assert.equal(during.forwarding.gateways[0]!.lastError!.code, 'E_UNAVAILABLE');
    const metrics = (await call(running.url!, 'GET', '/metrics')).text;
    assert.ok(metric(metrics, 'torgo_relay_backlog_receipts') > 0);
    assert.ok(metric(metrics, 'torgo_relay_oldest_unforwarded_age_seconds') > 0);
    assert.match(metrics, /torgo_relay_forward_errors_total\{gateway="[^"]+",code="E_UNAVAILABLE"\} [1-9]/);
    await send(10);
    proxy.setMode('pass');
    await waitFor(
      () => running.relay.status().backlog.receipts === 0,
      'the backlog to drain after the outage',
    );
    assert.equal(running.relay.status().forwarding.consecutiveFailures, 0);
    await assertOnLedgerInOrder(gateway.url, auditor, acknowledged, dir);
  });

  it('a full outbox refuses with 507 E_RELAY_FULL, health says so, and it accepts again once drained', async (t) => {
    const { dir, gateway, key, auditor, tokenFile } = await setUp(t);
    const proxy = await faultProxy(t, gateway.url);
    proxy.setMode('unavailable');
    const running = await startTestRelay(t, {
      dataDir: path.join(dir, 'outbox'),
      gateways: [proxy.url],
      tokenFile,
      maxReceipts: 12,
    });
    const url = running.url!;
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await call(url, 'POST', '/v1/receipts', { raw: receipt([key], { source: 'edge-f' }) });
      assert.equal(r.status, 202, r.text);
      ids.push(r.json.id);
    }
    const full = await call(url, 'POST', '/v1/receipts', { raw: receipt([key], { source: 'edge-f' }) });
    assert.equal(full.status, 507);
    assert.equal(full.json.code, 'E_RELAY_FULL');
    assert.equal(full.json.details.maxReceipts, 12);
    assert.ok(Number(full.headers.get('retry-after')) > 0);
    const health = await call(url, 'GET', '/healthz');
    assert.equal(health.status, 503);
    assert.equal(health.json.accepting, false);
    await assert.rejects(running.relay.accept(receipt([key], { source: 'edge-f' })), {
      code: 'E_RELAY_FULL',
    });

    proxy.setMode('pass');
    await waitFor(() => running.relay.status().backlog.receipts === 0, 'the full outbox to drain');
    const after = await call(url, 'POST', '/v1/receipts', { raw: receipt([key], { source: 'edge-f' }) });
    assert.equal(after.status, 202);
    ids.push(after.json.id);
    await waitFor(() => running.relay.status().backlog.receipts === 0, 'the last receipt to drain');
    await assertOnLedgerInOrder(gateway.url, auditor, new Map([['edge-f', ids]]), dir);
  });

  it('the byte bound refuses too; a relay reopened on its outbox forwards what the last one left', async (t) => {
    const { dir, gateway, key, auditor, tokenFile } = await setUp(t);
    const proxy = await faultProxy(t, gateway.url);
    proxy.setMode('unavailable');
    const mu = () => receipt([key], { source: 'edge-g' });
    const size = Buffer.byteLength(mu());
    const options = {
      dataDir: path.join(dir, 'outbox'),
      gateways: [proxy.url],
      tokenFile,
      maxBytes: size * 3 + 10,
    };
    const first = await startTestRelay(t, options);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await first.relay.accept(mu())).id);
    await assert.rejects(first.relay.accept(mu()), { code: 'E_RELAY_FULL' });
    await first.close();

    proxy.setMode('pass');
    const second = await startTestRelay(t, { ...options, maxBytes: size * 10 });
    await waitFor(() => second.relay.status().backlog.receipts === 0, 'the reopened outbox to drain');
    await assertOnLedgerInOrder(gateway.url, auditor, new Map([['edge-g', ids]]), dir);
  });

  it('keeps a receipt the gateway refuses for good as rejected (listed, counted); its batch neighbours keep their order; fails over to a second gateway', async (t) => {
    const { dir, gateway, key, auditor, tokenFile } = await setUp(t);
    const dead = `http://127.0.0.1:${await freePort()}`;
    const proxy = await faultProxy(t, gateway.url);
    proxy.setMode('unavailable'); // everything waits, so it leaves as one batch
    const running = await startTestRelay(t, {
      dataDir: path.join(dir, 'outbox'),
      gateways: [dead, proxy.url],
      tokenFile,
    });
    const stranger = generatePrivateKey(); // never registered: the gateway refuses its receipts
    const good: string[] = [];
    for (let i = 0; i < 6; i++)
      good.push((await running.relay.accept(receipt([key], { source: 'edge-h' }))).id);
    const bad = await running.relay.accept(receipt([stranger], { source: 'edge-h' }));
    for (let i = 0; i < 6; i++)
      good.push((await running.relay.accept(receipt([key], { source: 'edge-h' }))).id);
    await waitFor(() => proxy.unavailableAnswers >= 1, 'the relay to try the gateway');
    proxy.setMode('pass');
    await waitFor(() => running.relay.status().backlog.receipts === 0, 'the backlog to drain');
    const status = running.relay.status();
    assert.equal(status.rejected.receipts, 1);
    assert.equal(status.forwarding.gateways[0]!.lastError!.code, 'E_NETWORK', 'the dead gateway was tried');
    assert.ok(status.forwarding.gateways[1]!.lastSuccessAt, 'the second gateway took the batch');
    const rejected = await call(running.url!, 'GET', '/v1/rejected');
    assert.equal(rejected.json.receipts.length, 1);
    assert.equal(rejected.json.receipts[0].id, bad.id);
    assert.match(rejected.json.receipts[0].error.code, /^E_KEY_/);
    assert.equal(parseReceipt(rejected.json.receipts[0].mu).digest, bad.digest, 'kept byte for byte');
    const metrics = (await call(running.url!, 'GET', '/metrics')).text;
    assert.equal(metric(metrics, 'torgo_relay_rejected_receipts'), 1);
    await assertOnLedgerInOrder(gateway.url, auditor, new Map([['edge-h', good]]), dir);
  });
});
