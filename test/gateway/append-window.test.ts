/**
 * The append window (gateway/append/window.ts, `limits.appendWindowMs`): single-receipt requests of
 * one token arriving within the window share one ledger transaction, and each still gets its own
 * answer — 201, 200 for an identical repeat, 409 for a conflict, 422 for a bad signature — exactly as
 * without the window. A gateway shut down while a window is open answers the receipts in it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatePrivateKey } from '../../core/index.js';
import { call, idOf, receipt, service, startTestGateway } from './helpers.js';

test('append window: receipts arriving together share one transaction, each answered on its own', async (t) => {
  const { url, admin } = await startTestGateway(t, { 'limits.appendWindowMs': 300 });
  const s = await service(url, admin);
  const existing = receipt([s.key]);
  assert.equal((await call(url, 'POST', '/v1/receipts', { token: s.token, raw: existing })).status, 201);

  const good = [receipt([s.key]), receipt([s.key]), receipt([s.key])];
  const bodies = [
    good[0]!,
    receipt([generatePrivateKey()]), // unknown key: refused by pre-verification
    existing, // identical repeat
    good[1]!,
    receipt([s.key], { id: idOf(existing), intent: 'Conflicting text.' }), // refused by the contract
    good[2]!,
  ];
  const answers = await Promise.all(
    bodies.map((raw) => call(url, 'POST', '/v1/receipts', { token: s.token, raw })),
  );
  assert.deepEqual(
    answers.map((a) => a.status),
    [201, 422, 200, 201, 409, 201],
    answers.map((a) => a.text).join('\n'),
  );
  assert.equal(answers[1]!.json.code, 'E_KEY_UNKNOWN');
  assert.equal(answers[4]!.json.code, 'E_RECEIPT_CONFLICT');
  // The three new receipts were committed in one transaction (the conflict made the coalescer split
  // the first attempt, so they were resubmitted one by one: then they share a block, not a txId).
  const created = [answers[0]!, answers[3]!, answers[5]!].map((a) => a.json);
  assert.equal(new Set(created.map((a) => a.block)).size, 1, JSON.stringify(created));
  for (const [i, mu] of good.entries()) {
    const read = await call(url, 'GET', `/v1/receipts/${encodeURIComponent(idOf(mu))}`, { token: s.token });
    assert.equal(read.status, 200);
    assert.equal(read.json.txId, created[i]!.txId);
  }
});

test('append window: clean receipts gathered in a window go in one transaction; window 0 keeps them apart', async (t) => {
  for (const [windowMs, sharedTx] of [
    [300, true],
    [0, false],
  ] as const) {
    const { url, admin } = await startTestGateway(t, { 'limits.appendWindowMs': windowMs });
    const s = await service(url, admin);
    const answers = await Promise.all(
      [0, 1, 2, 3].map(() => call(url, 'POST', '/v1/receipts', { token: s.token, raw: receipt([s.key]) })),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [201, 201, 201, 201],
    );
    const txIds = new Set(answers.map((a) => a.json.txId));
    if (sharedTx) assert.equal(txIds.size, 1, `window ${windowMs}: ${[...txIds]}`);
    else assert.equal(txIds.size, 4, `window ${windowMs}: ${[...txIds]}`);
  }
});

test('append window: shutting down closes open windows and answers their receipts', async (t) => {
  const { gw, url, admin } = await startTestGateway(t, { 'limits.appendWindowMs': 1000 });
  const s = await service(url, admin);
  const mu = receipt([s.key]);
  const pending = call(url, 'POST', '/v1/receipts', { token: s.token, raw: mu });
  // Draining (the service's close does it first) closes the open window at once, without waiting
  // out its second, and its receipt is appended, not dropped.
  while (gw.service.appendWindow.waiting === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const drained = gw.service.appendWindow.drain();
  assert.equal(gw.service.appendWindow.waiting, 0, 'no window left open');
  await drained;
  const answer = await pending;
  assert.equal(answer.status, 201, answer.text);
});
