/**
 * What bounds an export's working set: ledger reads sized by the bytes of the largest receipt seen
 * (gateway/ledger/selection.ts) and batches bounded by count and by `.mu` bytes (chainexport.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTRACT_PAGE, nextReadSize, READ_BYTES } from '../../../gateway/ledger/selection.js';
import {
  BATCH_MU_BYTES,
  idsOf,
  inBatches,
  ReceiptTexts,
  receiptBatches,
  SEGMENT_BATCH,
} from '../../../gateway/logbuilder/chainexport.js';
import { type ExportedReceipt, exportBundle } from '../../../gateway/logbuilder/export.js';
import { buildLog, exportLines, ORIGIN } from './fixture.js';

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** A held or read text as its line carries it (a JSON literal's bytes), decoded. */
async function textOf(texts: ReceiptTexts, id: string): Promise<string> {
  return JSON.parse(Buffer.from(await texts.text(id)).toString('utf8')) as string;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const i of items) out.push(i);
  return out;
}

test('a ledger read asks for READ_BYTES of .mu: a full page of small receipts, a few large ones, never none', () => {
  assert.equal(nextReadSize(4_900), CONTRACT_PAGE);
  assert.equal(nextReadSize(36 * 1024), Math.floor(READ_BYTES / (36 * 1024)));
  assert.ok(nextReadSize(36 * 1024) < 20);
  assert.equal(nextReadSize(4 * READ_BYTES), 1);
  assert.ok(nextReadSize(0) >= 1 && nextReadSize(0) <= CONTRACT_PAGE, 'before any receipt is seen');
});

test('receipt batches stop at BATCH_MU_BYTES of text or SEGMENT_BATCH receipts, whichever comes first', async () => {
  const big = 'x'.repeat(36 * 1024);
  const large = Array.from({ length: 100 }, (_, i) => ({ id: `r${i}`, mu: big }));
  const batches = await collect(receiptBatches(from(large)));
  assert.equal(batches.flat().length, 100, 'every receipt, once');
  for (const b of batches.slice(0, -1)) {
    const bytes = b.reduce((n, r) => n + r.mu.length, 0);
    assert.ok(bytes >= BATCH_MU_BYTES && bytes < BATCH_MU_BYTES + big.length, `${bytes} bytes`);
  }
  const small = Array.from({ length: 2 * SEGMENT_BATCH + SEGMENT_BATCH / 2 }, (_, i) => ({
    id: `s${i}`,
    mu: 'y'.repeat(100),
  }));
  assert.deepEqual(
    (await collect(receiptBatches(from(small)))).map((b) => b.length),
    [SEGMENT_BATCH, SEGMENT_BATCH, SEGMENT_BATCH / 2],
  );
  const huge = [{ id: 'h', mu: 'z'.repeat(2 * BATCH_MU_BYTES) }];
  assert.deepEqual(
    await collect(receiptBatches(from(huge))),
    [huge],
    'a receipt larger than a batch still goes',
  );
});

test('an id-only pass keeps ids, in order', async () => {
  const receipts = [
    { id: 'a', mu: 'one' },
    { id: 'b', mu: 'two' },
  ];
  assert.deepEqual(await collect(inBatches(idsOf(from(receipts)), 1)), [['a'], ['b']]);
});

test('texts read ahead of the chain are held up to the byte budget; past it, read again by id', async () => {
  // The ledger's order is the chain's reversed: the worst disorder, every text comes before its entry.
  const receipts = Array.from({ length: 50 }, (_, i) => ({ id: `r${i}`, mu: `${'x'.repeat(1000)}${i}` }));
  const byId = new Map(receipts.map((r) => [r.id, r.mu]));
  const reads: string[] = [];
  const budget = 10_000;
  const texts = new ReceiptTexts(
    from([...receipts].reverse()),
    async (id) => {
      reads.push(id);
      return byId.get(id)!;
    },
    budget,
  );
  let held = 0;
  for (const r of receipts) {
    assert.equal(await textOf(texts, r.id), r.mu, 'every text, as read');
    held = Math.max(held, texts.heldBytes);
  }
  assert.ok(held <= budget, `held ${held} bytes of text, budget ${budget}`);
  assert.ok(held > budget / 2, 'the budget is used');
  assert.equal(texts.reread, reads.length);
  assert.ok(reads.length > 0 && reads.length < receipts.length, `${reads.length} read again`);
  // Without a way to read a text again, a disorder beyond the budget fails the export.
  const strict = new ReceiptTexts(from([...receipts].reverse()), undefined, budget);
  await assert.rejects(strict.text('r0'), /none can be read again by id/);
});

/** Receipts whose `.mu` is a getter (as the gateway's ledger rows are) that counts its decodes. */
function lazyReceipts(count: number, size: number) {
  const decoded = new Map<string, number>();
  const receipts = Array.from({ length: count }, (_, i) => {
    const id = `r${i}`;
    const text = `${'x'.repeat(size)}${i}`;
    return {
      id,
      muBytes: Buffer.byteLength(text) + 2,
      text,
      get mu() {
        decoded.set(id, (decoded.get(id) ?? 0) + 1);
        return text;
      },
    };
  });
  return { receipts, decoded };
}

test('rows that know their size are batched by it without decoding their texts', async () => {
  const { receipts, decoded } = lazyReceipts(100, 36 * 1024);
  const batches = await collect(receiptBatches(from(receipts)));
  assert.equal(batches.flat().length, 100);
  for (const b of batches.slice(0, -1)) {
    const bytes = b.reduce((n, r) => n + (r.muBytes ?? Number.NaN), 0);
    assert.ok(bytes >= BATCH_MU_BYTES && bytes < BATCH_MU_BYTES + 37 * 1024, `${bytes} bytes`);
  }
  assert.equal(decoded.size, 0, 'no text decoded to weigh a batch');
});

test('texts read ahead are decoded once when held, and not at all when past the budget', async () => {
  const { receipts, decoded } = lazyReceipts(50, 1000);
  const budget = 10_000;
  const reads: string[] = [];
  const texts = new ReceiptTexts(
    from([...receipts].reverse()),
    async (id) => {
      reads.push(id);
      return receipts.find((r) => r.id === id)!.text;
    },
    budget,
  );
  for (const r of receipts) assert.equal(await textOf(texts, r.id), r.text);
  assert.ok(reads.length > 0 && reads.length < receipts.length, `${reads.length} read again`);
  for (const id of reads) assert.equal(decoded.get(id), undefined, `${id}: past the budget, never decoded`);
  for (const [id, n] of decoded) assert.equal(n, 1, `${id} decoded once`);
  assert.equal(decoded.size + reads.length, receipts.length);
});

test('an export by a selection no chain covers decodes each .mu once, as its line is written', async () => {
  // The selection path (two ledger passes; receipts batched for their leaves and proofs): a batch
  // holds rows, not texts, so the texts in memory are the one being written, whatever the batch.
  const f = await buildLog();
  try {
    const events: string[] = [];
    const rows = f.receipts.map((r) => ({
      id: r.id,
      muBytes: Buffer.byteLength(r.mu, 'utf8') + 2,
      get mu() {
        events.push(`decode ${r.id}`);
        return r.mu;
      },
    }));
    const lines: string[] = [];
    for await (const line of exportBundle({
      store: f.store,
      checkpointer: f.checkpointer,
      receipts: async function* () {
        yield* rows;
      },
      filters: { operation: 'vitals.forward' },
      origin: ORIGIN,
    })) {
      const l = JSON.parse(line.toString('utf8')) as { type: string; mu?: string; entry?: { id: string } };
      if (l.type === 'receipt') {
        events.push(`line ${l.entry!.id}`);
        lines.push(l.mu!);
      }
    }
    assert.equal(lines.length, f.receipts.length, 'every receipt bundled');
    assert.deepEqual(lines.toSorted(), f.receipts.map((r) => r.mu).toSorted(), 'each with its text');
    const ids = events.filter((e) => e.startsWith('line ')).map((e) => e.slice(5));
    assert.deepEqual(
      events,
      ids.flatMap((id) => [`decode ${id}`, `line ${id}`]),
      'each text decoded once, right before its line',
    );
  } finally {
    await f.close();
  }
});

test('rows that carry their .mu as JSON bytes are bundled from those bytes, never decoded: the same lines as from the texts', async () => {
  const f = await buildLog();
  try {
    const checkpoint = await f.checkpointer.issue();
    const bundle = async (rows: readonly ExportedReceipt[], filters: Record<string, string>) => {
      const lines: string[] = [];
      for await (const l of exportLines(f, filters, rows, { checkpoint })) lines.push(l.toString('utf8'));
      return lines;
    };
    const asBytes: ExportedReceipt[] = f.receipts.map((r) => {
      const muJson = Buffer.from(JSON.stringify(r.mu), 'utf8');
      return {
        id: r.id,
        muBytes: muJson.length,
        muJson,
        get mu(): string {
          throw new Error(`${r.id}: decoded`);
        },
      };
    });
    // Along the source's chain (texts read ahead and held), and by a selection no chain covers.
    const selections: Record<string, string>[] = [{ source: 'icu-relay-3' }, { operation: 'vitals.forward' }];
    for (const filters of selections) {
      const plain = await bundle(f.receipts, filters);
      const fromBytes = await bundle(asBytes, filters);
      assert.ok(plain.filter((l) => l.startsWith('{"type":"receipt"')).length >= 3, 'receipts bundled');
      assert.equal(fromBytes.length, plain.length);
      // Two exports differ only in the header's createdAt and the statement signed over it.
      assert.deepEqual(fromBytes.slice(1, -1), plain.slice(1, -1), JSON.stringify(filters));
    }
  } finally {
    await f.close();
  }
});
