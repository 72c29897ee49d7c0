/**
 * An export shares the main thread with appends: it yields to the event loop after SLICE_MS of work,
 * and rests while other work is waiting (gateway/slicer.ts `Slicer`); a batch's inclusion proofs are
 * assembled one line at a time, the groups its proofs share folded once (store.ts `inclusionProofs`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReceipt, toBase64 } from '../../../core/index.js';
import type { ExportedReceipt } from '../../../gateway/logbuilder/export.js';
import { BUSY_MS, Slicer } from '../../../gateway/slicer.js';
import { besideTicker } from '../ticker.js';
import { buildLog, exportLines, type LogFixture, receiptEntry, signedReceipt } from './fixture.js';

/** The fixture with `count` more receipts of icu-relay-3 in block 4; all its receipts. */
async function withMore(f: LogFixture, count: number): Promise<ExportedReceipt[]> {
  const extra = Array.from({ length: count }, (_, i) => signedReceipt(100 + i, [f.witness]));
  await f.store.appendBlock(
    4,
    extra.map((mu, i) => ({
      ...receiptEntry(mu, `2026-04-02T00:00:${String(i).padStart(2, '0')}.000Z`, 100 + i),
      block: 4,
    })),
  );
  return [...f.receipts, ...extra.map((mu) => ({ id: parseReceipt(mu).document.fields.id, mu }))];
}

/**
 * Exports the chain of icu-relay-3 with `sliceMs`, an immediate-queue ticker running beside it; for
 * each receipt line, how many times the ticker had run by then.
 */
async function ticksAtLines(f: LogFixture, receipts: ExportedReceipt[], sliceMs: number): Promise<number[]> {
  return besideTicker(async (ticks) => {
    const at: number[] = [];
    for await (const line of exportLines(f, { source: 'icu-relay-3' }, receipts, { sliceMs })) {
      if (line.toString('utf8').startsWith('{"type":"receipt"')) at.push(ticks());
    }
    return at;
  });
}

test('an export lets the event loop run between its lines once its slice is spent', async () => {
  const f = await buildLog();
  try {
    const receipts = await withMore(f, 40);
    // The control: never yielding, lines whose reads are already in memory leave no turn to others
    // (what kept appends waiting behind an export for seconds, docs/performance.md §12).
    const unsliced = await ticksAtLines(f, receipts, Number.POSITIVE_INFINITY);
    assert.ok(unsliced.length >= 40, `${unsliced.length} receipt lines`);
    assert.ok(
      unsliced.some((t, i) => i > 0 && t === unsliced[i - 1]),
      'without slices, consecutive lines with no turn between them',
    );
    // A slice of 0 ms is spent at every line: the loop turns before each one.
    const sliced = await ticksAtLines(f, receipts, 0);
    assert.equal(sliced.length, unsliced.length);
    for (let i = 1; i < sliced.length; i++)
      assert.ok(sliced[i]! > sliced[i - 1]!, `line ${i}: the event loop ran since line ${i - 1}`);
  } finally {
    await f.close();
  }
});

test('batched inclusion proofs equal single ones, for every leaf of every tree size', async () => {
  const f = await buildLog();
  try {
    await withMore(f, 40);
    const n = f.store.size;
    for (let size = 1; size <= n; size++) {
      const leaves = Array.from({ length: size }, (_, i) => i);
      // Asked for in a different order than computed, some twice: each is its own leaf's proof.
      const order = [...leaves.reverse(), 0, size - 1];
      const batch = await f.store.inclusionProofs(order, size);
      for (const [i, leaf] of order.entries()) {
        const single = await f.store.inclusionProof(leaf, size);
        assert.deepEqual(batch.proof(i), single, `leaf ${leaf} of ${size}`);
        assert.deepEqual(batch.proofBase64(i), single.map(toBase64), `leaf ${leaf} of ${size}, base64`);
      }
      assert.throws(() => batch.proof(order.length), RangeError);
      assert.throws(() => batch.proofBase64(order.length), RangeError);
    }
  } finally {
    await f.close();
  }
});

test('a slicer rests when other work held the event loop while it yielded, and not when none did', async () => {
  // Other work: each turn of the loop runs an immediate that holds the thread for 3 ms.
  let running = true;
  const busy = () => {
    const until = performance.now() + 3;
    while (performance.now() < until);
    if (running) setImmediate(busy);
  };
  setImmediate(busy);
  const shared = new Slicer(0, BUSY_MS);
  try {
    for (let i = 0; i < 10; i++) await shared.pace();
  } finally {
    running = false;
  }
  assert.equal(shared.yields, 10);
  assert.equal(shared.rests, 10, 'every yield found the loop busy for longer than BUSY_MS');
  // Nothing else to run: yields come straight back (a rest or two on a loaded machine, not all).
  const alone = new Slicer(0, BUSY_MS);
  for (let i = 0; i < 10; i++) await alone.pace();
  assert.equal(alone.yields, 10);
  assert.ok(alone.rests < alone.yields, `${alone.rests} rests of ${alone.yields} with nothing else to run`);
});
