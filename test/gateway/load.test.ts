/**
 * Appends under concurrency: every one acknowledged exactly once, coalesced into fewer ledger
 * transactions than receipts (counted on the ledger's own chain and in the metrics), every acknowledged
 * one durable (the gateway is closed, the data reopened, the receipts counted), identical racers agree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EmbeddedDriver } from '../../gateway/ledger/embedded/driver.js';
import { call, idOf, receipt, service, startTestGateway } from './helpers.js';

const N = 200;
const IN_FLIGHT = 2;

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

/** The value of one metric sample in a Prometheus text exposition (0 when absent). */
function sample(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

test(`${N} concurrent appends, ${IN_FLIGHT} transactions in flight: all acknowledged exactly once, coalesced into fewer transactions, all durable after reopening`, async (t) => {
  // Two transactions in flight, so receipts that arrive while both run must wait and share the next.
  // With the default 32 the embedded ledger keeps up and gives every receipt its own transaction.
  // No periodic checkpoint during the run: its ledger transaction would be on the chain but is no append.
  const first = await startTestGateway(t, {
    'limits.transactionsInFlight': IN_FLIGHT,
    'transparency.checkpointIntervalMs': 3_600_000,
  });
  const s = await service(first.url, first.admin);
  const ledger = (first.gw.service.driver as EmbeddedDriver).ledger;
  const before = await ledger.verifyChain();
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
  // Coalescing happened — not a timing claim, a count: the ledger's chain holds fewer new valid
  // transactions than receipts, and the metrics count the same transactions carrying all N receipts.
  const after = await ledger.verifyChain();
  const transactions = after.validTransactions - before.validTransactions;
  assert.ok(transactions >= 1 && transactions < N, `${N} receipts in ${transactions} transactions`);
  const metrics = (await call(first.url, 'GET', '/metrics')).text;
  assert.equal(sample(metrics, 'torgo_receipts_appended_total{status="appended"}'), N);
  const committed =
    sample(metrics, 'torgo_ledger_transactions_total{fcn="appendReceipt",outcome="committed"}') +
    sample(metrics, 'torgo_ledger_transactions_total{fcn="appendReceipts",outcome="committed"}');
  assert.equal(committed, transactions, 'the metrics count the transactions on the chain');
  assert.equal(sample(metrics, 'torgo_receipts_per_transaction_count'), transactions);
  assert.equal(sample(metrics, 'torgo_receipts_per_transaction_sum'), N);
  await first.gw.close();

  const again = await startTestGateway(t, {}, first.dir);
  const stored = await countBySource(again.url, s.token, 'load-test');
  assert.equal(stored.length, N);
  assert.deepEqual(new Set(stored), new Set(acked));
  const report = await (again.gw.service.driver as EmbeddedDriver).ledger.verifyChain();
  assert.equal(
    report.validTransactions,
    after.validTransactions,
    'the chain verifies, nothing lost or added',
  );
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
