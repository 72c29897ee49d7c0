/**
 * @torgo/client against a real gateway (embedded ledger on LevelDB, 127.0.0.1, random port):
 * appends and their idempotent resends, batches with per-item results, reads, queries over
 * cursors, exports, checkpoints, keys and tokens; retries on real 503s and lost connections, none
 * on a 4xx; timeouts and aborts. A fetch that records what was sent observes attempts (the
 * requests themselves are real).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatePrivateKey, publicKeyToPem } from '../../core/index.js';
import { type FetchLike, TorgoApiError, TorgoClient } from '@torgo/client';
import { call, freePort, idOf, receipt, service, startTestGateway, tempDir } from '../gateway/helpers.js';

/** The global fetch, recording each attempt's URL and status (0: no answer). */
function recordingFetch(): { fetch: FetchLike; attempts: { url: string; status: number }[] } {
  const attempts: { url: string; status: number }[] = [];
  return {
    attempts,
    fetch: async (url, init) => {
      try {
        const response = await fetch(url, init);
        attempts.push({ url, status: response.status });
        return response;
      } catch (e) {
        attempts.push({ url, status: 0 });
        throw e;
      }
    },
  };
}

const FAST = { baseDelayMs: 1, maxDelayMs: 5 };

test('append: 201 then, resent, 200 with the same acknowledgement', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const { token, key } = await service(url, admin);
  const client = new TorgoClient({ baseUrl: url, token });
  const mu = receipt([key]);
  const first = await client.append(mu);
  assert.equal(first.created, true);
  assert.equal(first.receipt.id, idOf(mu));
  const again = await client.append(new TextEncoder().encode(mu));
  assert.equal(again.created, false);
  assert.deepEqual(again.receipt, first.receipt);
});

test('appendBatch: one result per receipt in input order, split across requests, bad items alone fail', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const { token, key } = await service(url, admin);
  const { fetch, attempts } = recordingFetch();
  const client = new TorgoClient({ baseUrl: url, token, fetch });
  const good = Array.from({ length: 5 }, () => receipt([key]));
  await client.append(good[1]!);
  const tampered = good[3]!.replace('slativ', 'zlativ');
  const notUtf8 = new Uint8Array([0x23, 0xff, 0x0a]);
  const input = [good[0]!, good[1]!, good[2]!, tampered, notUtf8, good[4]!];
  const before = attempts.length;
  const r = await client.appendBatch(input, { maxItems: 2 });
  assert.equal(attempts.length - before, 3, 'five sendable receipts in requests of at most two');
  assert.deepEqual(
    r.results.map((x) => [x.index, x.status]),
    [
      [0, 201],
      [1, 200],
      [2, 201],
      [3, r.results[3]!.status],
      [4, 422],
      [5, 201],
    ],
  );
  assert.ok(r.results[3]!.status >= 400 && r.results[3]!.status < 500);
  assert.match(r.results[3]!.error!.code, /^E_/);
  assert.equal(r.results[4]!.error!.code, 'E_RECEIPT_ENCODING');
  assert.deepEqual([r.appended, r.existing, r.failed], [3, 1, 2]);
  for (const i of [0, 2, 5]) assert.equal(r.results[i]!.receipt!.id, idOf(input[i] as string));
});

test('get, getMu, query over cursors, checkpoint, proof and a streamed export', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const { token, key } = await service(url, admin);
  const client = new TorgoClient({ baseUrl: url, token });
  const mus = Array.from({ length: 7 }, () => receipt([key], { source: 'ward-9' }));
  await client.appendBatch(mus);
  const one = await client.get(idOf(mus[0]!));
  assert.equal(one.id, idOf(mus[0]!));
  assert.equal(one.submitter.mspId.length > 0, true);
  assert.equal(typeof one.block, 'number');
  assert.equal(await client.getMu(idOf(mus[0]!)), mus[0]);

  const seen: string[] = [];
  for await (const r of client.query({ source: 'ward-9' }, { pageSize: 3 })) seen.push(r.id);
  assert.deepEqual(seen.sort(), mus.map(idOf).sort(), 'three pages of at most 3, every receipt once');

  const checkpoint = await client.checkpoint();
  assert.ok(checkpoint.size >= 0);
  assert.match(checkpoint.note, new RegExp(checkpoint.origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

  const inclusion = await client.proof(idOf(mus[0]!));
  assert.equal(inclusion.id, idOf(mus[0]!));
  assert.ok(inclusion.leafIndex < inclusion.treeSize);
  assert.ok(Array.isArray(inclusion.proof));

  const stream = await client.export({ source: 'ward-9' });
  let text = '';
  for await (const chunk of stream) text += new TextDecoder().decode(chunk, { stream: true });
  const lines = text.trim().split('\n');
  assert.ok(lines.length > mus.length, 'a header, the receipts and their proofs');
  for (const id of mus.map(idOf)) assert.ok(text.includes(id), `the bundle holds ${id}`);
});

test('keys and tokens through the client', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const adminClient = new TorgoClient({ baseUrl: url, token: admin });
  const created = await adminClient.tokens.create({ name: 'svc', roles: ['appender', 'auditor'] });
  assert.match(created.token, /^torgo_/);
  assert.equal(created.info.name, 'svc');
  const svc = new TorgoClient({ baseUrl: url, token: created.token });
  assert.equal((await svc.tokens.me()).tokenId, created.info.id);

  const first = generatePrivateKey();
  const registered = await svc.keys.register({ publicKey: publicKeyToPem(first), label: 'k1' });
  const keyId = registered.key.keyId;
  assert.equal((await svc.keys.get(keyId)).status, 'active');
  const rotated = await svc.keys.rotate(keyId, publicKeyToPem(generatePrivateKey()));
  assert.equal(rotated.retired.keyId, keyId);
  const revoked = await svc.keys.revoke(rotated.registered.keyId, 'test');
  assert.equal(revoked.key.status, 'revoked');
  assert.ok((await svc.keys.history(keyId)).history.length >= 2);

  const listed = await adminClient.tokens.list();
  assert.ok(listed.some((x) => x.id === created.info.id));
  const revokedToken = await adminClient.tokens.revoke(created.info.id);
  assert.ok(revokedToken.revokedAt);
  await assert.rejects(svc.tokens.me(), (e: TorgoApiError) => e.status === 401 && e.attempts === 1);
  const audit = await adminClient.tokens.audit({ limit: 50 });
  assert.ok(audit.events.some((e) => e.event === 'token.revoked'));
});

test('a 4xx is never retried and carries the API code', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const { token, key } = await service(url, admin);
  const { fetch, attempts } = recordingFetch();
  const client = new TorgoClient({ baseUrl: url, token, fetch, retry: { ...FAST, retries: 5 } });
  const mu = receipt([key]);
  await client.append(mu);
  const conflicting = receipt([key], { id: idOf(mu) });
  attempts.length = 0;
  await assert.rejects(client.append(conflicting), (e: unknown) => {
    assert.ok(e instanceof TorgoApiError);
    assert.equal(e.code, 'E_RECEIPT_CONFLICT');
    assert.equal(e.status, 409);
    assert.equal(e.attempts, 1);
    return true;
  });
  assert.equal(attempts.length, 1);
  await assert.rejects(
    client.get('nope'),
    (e: TorgoApiError) => e.status === 400 && e.code === 'E_BAD_REQUEST',
  );
  assert.equal(attempts.length, 2);
});

test('a real 503 (a full append queue) is retried, honouring Retry-After, then thrown with its code', async (t) => {
  const { url, admin } = await startTestGateway(t, { 'limits.queueReceipts': 2 });
  const { token, key } = await service(url, admin);
  const { fetch, attempts } = recordingFetch();
  const client = new TorgoClient({ baseUrl: url, token, fetch, retry: { ...FAST, retries: 2 } });
  const three = Array.from({ length: 3 }, () => receipt([key]));
  await assert.rejects(client.appendBatch(three), (e: unknown) => {
    assert.ok(e instanceof TorgoApiError);
    assert.equal(e.code, 'E_QUEUE_FULL');
    assert.equal(e.status, 503);
    assert.equal(e.retryAfterMs, 1000);
    assert.equal(e.attempts, 3);
    return true;
  });
  assert.deepEqual(
    attempts.map((a) => a.status),
    [503, 503, 503],
  );
  // A Retry-After longer than the policy waits is not waited for.
  attempts.length = 0;
  const impatient = new TorgoClient({ baseUrl: url, token, fetch, retry: { ...FAST, maxRetryAfterMs: 500 } });
  await assert.rejects(impatient.appendBatch(three), (e: TorgoApiError) => e.attempts === 1);
  assert.equal(attempts.length, 1);
});

test('with several gateways, a retry goes to the next one', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const { token, key } = await service(url, admin);
  const down = `http://127.0.0.1:${await freePort()}`;
  const { fetch, attempts } = recordingFetch();
  const client = new TorgoClient({ baseUrl: [down, url], token, fetch, retry: FAST });
  const r = await client.appendBatch([receipt([key]), receipt([key])]);
  assert.equal(r.appended, 2);
  assert.deepEqual(
    attempts.map((a) => [a.url.startsWith(down), a.status]),
    [
      [true, 0],
      [false, 200],
    ],
  );
  // The gateway that answered is tried first next time.
  await client.get(r.results[0]!.receipt!.id);
  assert.equal(attempts.at(-1)!.url.startsWith(url), true);
  assert.equal(attempts.length, 3);
});

test('lost connections are retried: an append made while the gateway is down lands when it is back', async (t) => {
  const dir = await tempDir(t);
  const port = await freePort();
  const first = await startTestGateway(t, { port }, dir);
  const { token, key } = await service(first.url, first.admin);
  await first.gw.close();
  const { fetch, attempts } = recordingFetch();
  const client = new TorgoClient({
    baseUrl: first.url,
    token,
    fetch,
    retry: { retries: 100, baseDelayMs: 50, maxDelayMs: 200 },
  });
  const mu = receipt([key]);
  const pending = client.append(mu);
  while (attempts.length < 2) await new Promise((r) => setTimeout(r, 20));
  assert.ok(
    attempts.every((a) => a.status === 0),
    'nobody listening: no answer',
  );
  await startTestGateway(t, { port }, dir);
  const r = await pending;
  assert.equal(r.created, true);
  assert.equal(r.receipt.id, idOf(mu));
  const stored = await call(first.url, 'GET', `/v1/receipts/${idOf(mu)}`, { token });
  assert.equal(stored.status, 200);
});

test('timeouts and aborts: coded errors, no retry after an abort', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const { token, key } = await service(url, admin);
  // A server that accepts and never answers: every attempt times out.
  const { createServer } = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  const silent = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  const slow = new TorgoClient({ baseUrl: silentUrl, token, timeoutMs: 100, retry: { ...FAST, retries: 1 } });
  await assert.rejects(slow.get('01HZY0000000000000000000AA'), (e: TorgoApiError) => {
    assert.equal(e.code, 'E_TIMEOUT');
    assert.equal(e.attempts, 2);
    return true;
  });
  const controller = new AbortController();
  const pending = slow.append(receipt([key]), { signal: controller.signal, timeoutMs: 60_000 });
  controller.abort();
  await assert.rejects(pending, (e: TorgoApiError) => e.code === 'E_ABORTED' && e.attempts === 1);
  // Against the real gateway, an aborted signal stops the call before anything is sent.
  const client = new TorgoClient({ baseUrl: url, token });
  await assert.rejects(
    client.append(receipt([key]), { signal: AbortSignal.abort() }),
    (e: TorgoApiError) => e.code === 'E_ABORTED',
  );
});

test('appendBatch resends only the items the gateway could not settle (per-item 503/504)', async (t) => {
  // The embedded ledger cannot be made to answer an item 503 (an MVCC conflict, a lost commit
  // status) on demand, so a loopback server answers as the gateway does in that case: the batch
  // 200, the unsettled items with their own 503/504, then the items alone on the resend.
  const { createServer } = await import('node:http');
  const bodies: string[][] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const { receipts } = JSON.parse(data) as { receipts: string[] };
      bodies.push(receipts);
      const first = bodies.length === 1;
      const results = receipts.map((mu, index) => {
        const ack = {
          id: mu,
          txId: 't',
          block: 1,
          hash: 'sha256:00',
          committedAt: '2026-12-01T00:00:00.000000000Z',
        };
        if (first && mu === 'b')
          return { index, status: 503, error: { code: 'E_COMMIT_CONFLICT', message: 'x' } };
        if (first && mu === 'c')
          return { index, status: 504, error: { code: 'E_COMMIT_UNKNOWN', message: 'y' } };
        if (first && mu === 'd')
          return { index, status: 409, error: { code: 'E_RECEIPT_CONFLICT', message: 'z' } };
        return { index, status: first ? 201 : 200, receipt: ack };
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ results, appended: 0, existing: 0, failed: 0 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const client = new TorgoClient({ baseUrl: url, token: 't', retry: FAST });
  const r = await client.appendBatch(['a', 'b', 'c', 'd']);
  assert.deepEqual(
    bodies,
    [
      ['a', 'b', 'c', 'd'],
      ['b', 'c'],
    ],
    'only the unsettled items are resent',
  );
  assert.deepEqual(
    r.results.map((x) => [x.index, x.status]),
    [
      [0, 201],
      [1, 200],
      [2, 200],
      [3, 409],
    ],
  );
  assert.deepEqual([r.appended, r.existing, r.failed], [1, 2, 1]);
  // Without retries the item statuses are handed back as they came.
  bodies.length = 0;
  const once = await new TorgoClient({ baseUrl: url, token: 't', retry: false }).appendBatch(['a', 'b']);
  assert.deepEqual(
    once.results.map((x) => x.status),
    [201, 503],
  );
  assert.equal(bodies.length, 1);
});
