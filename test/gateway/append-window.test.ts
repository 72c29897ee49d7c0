/**
 * The append window (gateway/append/window.ts, `limits.appendWindowMs`): single-receipt requests of
 * one token arriving while another of its appends is in progress wait and share one ledger
 * transaction, and each still gets its own answer — 201, 200 for an identical repeat, 409 for a
 * conflict, 422 for a bad signature — exactly as without the window. A client sending one receipt at
 * a time never waits. A gateway shut down while a window is open answers the receipts in it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatePrivateKey } from '../../core/index.js';
import { call, idOf, receipt, service, startTestGateway } from './helpers.js';

test('append window: receipts arriving together are each answered on their own, as without the window', async (t) => {
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
  const created = [answers[0]!, answers[3]!, answers[5]!].map((a) => a.json);
  for (const [i, mu] of good.entries()) {
    const read = await call(url, 'GET', `/v1/receipts/${encodeURIComponent(idOf(mu))}`, { token: s.token });
    assert.equal(read.status, 200);
    assert.equal(read.json.txId, created[i]!.txId);
  }
});

test('append window: receipts arriving together share transactions; window 0 keeps them apart', async (t) => {
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
    // With the window, the first goes at once (nothing of this token in progress) and those arriving
    // while it is in progress wait for each other.
    const txIds = new Set(answers.map((a) => a.json.txId));
    if (sharedTx) assert.ok(txIds.size < 4, `window ${windowMs}: ${[...txIds]}`);
    else assert.equal(txIds.size, 4, `window ${windowMs}: ${[...txIds]}`);
  }
});

test('append window: shutting down closes open windows and answers their receipts', async (t) => {
  const { gw, url, admin } = await startTestGateway(t, { 'limits.appendWindowMs': 1000 });
  const s = await service(url, admin);
  // The first goes at once; the second arrives while it is in progress and waits in a window.
  const pending = Promise.all(
    [0, 1].map(() => call(url, 'POST', '/v1/receipts', { token: s.token, raw: receipt([s.key]) })),
  );
  // Draining (the service's close does it first) closes the open window at once, without waiting
  // out its second, and its receipt is appended, not dropped.
  while (gw.service.appendWindow.waiting === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const drained = gw.service.appendWindow.drain();
  assert.equal(gw.service.appendWindow.waiting, 0, 'no window left open');
  await drained;
  assert.deepEqual(
    (await pending).map((a) => a.status),
    [201, 201],
  );
});

test('append window: a client sending one receipt at a time never waits for the window', async (t) => {
  const { gw, url, admin } = await startTestGateway(t, { 'limits.appendWindowMs': 1000 });
  const s = await service(url, admin);
  for (let i = 0; i < 3; i++) {
    let answered = false;
    const pending = call(url, 'POST', '/v1/receipts', { token: s.token, raw: receipt([s.key]) }).finally(
      () => {
        answered = true;
      },
    );
    // Gathered, it would sit in a window for a second: watched until answered, none ever opens.
    let seen = 0;
    while (!answered) {
      seen = Math.max(seen, gw.service.appendWindow.waiting);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.equal(seen, 0, 'no window opened');
    assert.equal((await pending).status, 201);
  }
});
