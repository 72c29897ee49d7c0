/**
 * The append window (gateway/append/window.ts, `limits.appendWindowMs`): single-receipt requests of
 * one token arriving while another of its appends is in progress wait and share one ledger
 * transaction, and each still gets its own answer — 201, 200 for an identical repeat, 409 for a
 * conflict, 422 for a bad signature — exactly as without the window. A client sending one receipt at
 * a time never waits. A gateway shut down while a window is open answers the receipts in it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generatePrivateKey } from '../../core/index.js';
import type { AppendOutcome } from '../../gateway/append/coalescer.js';
import { AppendWindow } from '../../gateway/append/window.js';
import type { WalletIdentity } from '../../gateway/ledger/wallet.js';
import { call, idOf, receipt, service, startTestGateway } from './helpers.js';

/**
 * An AppendWindow over a stand-in append that answers each receipt with itself; the calls for which
 * `holds(inputs, n)` is true (n: 1 for the first call) stay in progress until `release()`.
 */
function heldWindow(
  windowMs: number,
  holds: (inputs: readonly (Uint8Array | string)[], n: number) => boolean,
) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const calls: (readonly (Uint8Array | string)[])[] = [];
  const window = new AppendWindow({ windowMs, maxReceipts: 100 }, async (_who, inputs) => {
    calls.push(inputs);
    if (holds(inputs, calls.length)) await held;
    return inputs.map((input) => ({ ok: true, input }) as unknown as AppendOutcome);
  });
  return { window, calls, release };
}

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
  // The first of a pair goes at once; the second waits in a window if it arrives while the first
  // is in progress, which is the scheduler's call: pairs are sent until one opens a window (a pair
  // that does not is simply answered, and must be).
  let pending: Promise<{ status: number }[]> | undefined;
  for (let attempt = 0; pending === undefined; attempt++) {
    assert.ok(attempt < 50, 'no window opened in 50 pairs');
    let settled = false;
    const pair = Promise.all(
      [0, 1].map(() => call(url, 'POST', '/v1/receipts', { token: s.token, raw: receipt([s.key]) })),
    ).finally(() => {
      settled = true;
    });
    while (!settled && gw.service.appendWindow.waiting === 0) await sleep(1);
    if (gw.service.appendWindow.waiting > 0) pending = pair;
    else
      assert.deepEqual(
        (await pair).map((a) => a.status),
        [201, 201],
      );
  }
  // Draining (the service's close does it first) closes the open window at once, without waiting
  // out its second, and its receipt is appended, not dropped.
  const drained = gw.service.appendWindow.drain();
  assert.equal(gw.service.appendWindow.waiting, 0, 'no window left open');
  await drained;
  assert.deepEqual(
    (await pending).map((a) => a.status),
    [201, 201],
  );
});

test('append window: drain closes an open window at once and its receipts get their own outcomes', async () => {
  // Deterministic: the first append is held in progress until the test lets it go.
  const who = { mspId: 'Org1MSP', label: 'svc' } as WalletIdentity;
  const { window, calls, release } = heldWindow(60_000, (_inputs, n) => n === 1);
  const first = window.append(who, 'a');
  const second = window.append(who, 'b');
  const third = window.append(who, 'c');
  assert.equal(window.waiting, 2, 'the two arriving while the first is in progress wait');
  const drained = window.drain();
  assert.equal(window.waiting, 0, 'drain closed the window without waiting out its 60 s');
  assert.deepEqual(calls, [['a'], ['b', 'c']], 'the gathered receipts went in one call');
  release();
  await drained;
  assert.deepEqual(
    [await first, await second, await third].map((o) => (o as unknown as { input: string }).input),
    ['a', 'b', 'c'],
  );
  // Draining, a new receipt goes at once, alone.
  assert.equal(((await window.append(who, 'd')) as unknown as { input: string }).input, 'd');
  assert.deepEqual(calls.at(-1), ['d']);
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

test('append window: a token with several requests in flight lately gathers with nothing in progress; one sending one at a time never waits', async () => {
  const calls: (readonly (Uint8Array | string)[])[] = [];
  const window = new AppendWindow({ windowMs: 50, maxReceipts: 100 }, async (_who, inputs) => {
    calls.push(inputs);
    return inputs.map((input) => ({ ok: true, input }) as unknown as AppendOutcome);
  });
  const one = { mspId: 'Org1MSP', label: 'one-at-a-time' } as WalletIdentity;
  for (const input of ['s0', 's1', 's2', 's3']) {
    const answer = window.append(one, input);
    assert.equal(window.waiting, 0, 'a client with one request at a time never opens a window');
    await answer;
  }
  assert.deepEqual(calls, [['s0'], ['s1'], ['s2'], ['s3']]);

  const many = { mspId: 'Org1MSP', label: 'several-connections' } as WalletIdentity;
  calls.length = 0;
  // Two at once: the second arrives while the first is in progress (the window as before).
  await Promise.all([window.append(many, 'a'), window.append(many, 'b')]);
  assert.deepEqual(calls, [['a'], ['b']]);
  // Nothing of it in progress now, but it had two in flight at once and its next is due: a window
  // opens, and closes as soon as its second connection's receipt is in it (no other can come).
  const c = window.append(many, 'c');
  assert.equal(window.waiting, 1, 'the window opened for a client with several requests in flight');
  const d = window.append(many, 'd');
  assert.equal(window.waiting, 0, 'closed once no other receipt was expected');
  await Promise.all([c, d]);
  assert.deepEqual(calls.at(-1), ['c', 'd']);
});

test('append window: behind an append in progress, a receipt waits only when its token sends faster than the window', async () => {
  // The first append of each token is held in progress until the test lets it go.
  const { window, calls, release } = heldWindow(
    40,
    (inputs) => inputs[0] === 'slow-0' || inputs[0] === 'fast-0',
  );
  // A trickle: its second receipt comes 120 ms after the first (three windows), while the first is
  // still in progress. Its next is not due within a window, so it goes at once instead of waiting 40 ms.
  const slow = { mspId: 'Org1MSP', label: 'slow' } as WalletIdentity;
  const s0 = window.append(slow, 'slow-0');
  await sleep(120);
  const s1 = window.append(slow, 's1');
  assert.equal(window.waiting, 0, 'a receipt of a token slower than the window is not held');
  assert.deepEqual(calls.at(-1), ['s1'], 'it went at once, alone');
  // A token sending faster than the window: those behind its append in progress gather.
  const fast = { mspId: 'Org1MSP', label: 'fast' } as WalletIdentity;
  const f0 = window.append(fast, 'fast-0');
  const f1 = window.append(fast, 'f1');
  const f2 = window.append(fast, 'f2');
  assert.equal(window.waiting, 2, 'receipts of a token faster than the window wait for each other');
  release();
  await Promise.all([s0, s1, f0, f1, f2]);
  assert.deepEqual(calls.slice(2), [['fast-0'], ['f1', 'f2']]);
});
