/**
 * Appends under concurrency: every one acknowledged exactly once, every acknowledged one durable
 * (the gateway is closed, the data reopened, the receipts counted), identical racers agree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EmbeddedDriver } from '../../gateway/ledger/embedded/driver.js';
import { call, idOf, receipt, service, startTestGateway } from './helpers.js';

const N = 200;

async function countBySource(url: string, token: string, source: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `/v1/receipts?source=${source}&limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await call(url, 'GET', q, { token });
    assert.equal(page.status, 200, page.text);
    ids.push(...page.json.receipts.map((r: { id: string }) => r.id));
    cursor = page.json.nextCursor;
  } while (cursor);
  return ids;
}

test(`${N} concurrent appends: all acknowledged exactly once, all durable after reopening`, async (t) => {
  const first = await startTestGateway(t);
  const s = await service(first.url, first.admin);
  const receipts = Array.from({ length: N }, () => receipt([s.key], { source: 'load-test' }));
  const answers = await Promise.all(
    receipts.map((raw) => call(first.url, 'POST', '/v1/receipts', { token: s.token, raw })),
  );
  assert.deepEqual(
    answers.map((a) => a.status),
    receipts.map(() => 201),
  );
  const acked = answers.map((a) => a.json.id as string);
  assert.deepEqual(acked, receipts.map(idOf), 'each answer names its own receipt');
  assert.equal(new Set(answers.map((a) => a.json.id)).size, N);
  // Coalescing happened (fewer transactions than receipts) — not a timing claim, a count.
  const metrics = (await call(first.url, 'GET', '/metrics')).text;
  assert.match(metrics, new RegExp(`torgo_receipts_appended_total\\{status="appended"\\} ${N}`));
  await first.gw.close();

  const again = await startTestGateway(t, {}, first.dir);
  const stored = await countBySource(again.url, s.token, 'load-test');
  assert.equal(stored.length, N);
  assert.deepEqual(new Set(stored), new Set(acked));
  const report = await (again.gw.service.driver as EmbeddedDriver).ledger.verifyChain();
  assert.ok(report);
});

test('the same receipt raced 20 times: one 201, nineteen 200, one body', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const s = await service(url, admin);
  const mu = receipt([s.key]);
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => call(url, 'POST', '/v1/receipts', { token: s.token, raw: mu })),
  );
  assert.deepEqual(answers.map((a) => a.status).sort(), [...Array(19).fill(200), 201]);
  for (const a of answers) assert.deepEqual(a.json, answers[0]!.json);
});

test('concurrent batches from two services with invalid items mixed in', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const a = await service(url, admin, 'svc-a');
  const b = await service(url, admin, 'svc-b');
  const make = (key: typeof a.key, source: string) =>
    Array.from({ length: 20 }, (_, i) => (i % 5 === 4 ? receipt([]) : receipt([key], { source })));
  const batches = [make(a.key, 'svc-a'), make(b.key, 'svc-b'), make(a.key, 'svc-a'), make(b.key, 'svc-b')];
  const answers = await Promise.all(
    batches.map((receipts, i) =>
      call(url, 'POST', '/v1/receipts/batch', { token: i % 2 === 0 ? a.token : b.token, body: { receipts } }),
    ),
  );
  for (const r of answers) {
    assert.equal(r.status, 200);
    assert.deepEqual([r.json.appended, r.json.failed], [16, 4]);
  }
  assert.equal((await countBySource(url, a.token, 'svc-a')).length, 32);
  assert.equal((await countBySource(url, b.token, 'svc-b')).length, 32);
});
