/**
 * Bundle lines are cut from shared slabs (export.ts `LineSlab`) and handed to the socket in chunks
 * (`inChunks`): a chunk of lines that lie one after another in one slab is a view of it, not a copy,
 * and the bytes are exactly the lines', in order, whatever their memory.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReceipt } from '../../../core/index.js';
import { type ExportedReceipt, inChunks, LineSlab } from '../../../gateway/logbuilder/export.js';
import { buildLog, exportLines, receiptEntry, signedReceipt } from './fixture.js';

const CHUNK = 64 * 1024;

async function* from(lines: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* lines;
}

async function chunksOf(lines: readonly Uint8Array[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of inChunks(from(lines))) out.push(c);
  return out;
}

test('a slab hands out regions that never overlap, and a region outlives the slabs after it', () => {
  const slab = new LineSlab(100);
  const taken: [Buffer, number][] = [];
  for (const [i, n] of [30, 30, 30, 30, 150, 1, 99, 100, 0, 7].entries()) {
    const room = slab.take(n);
    assert.equal(room.length, n);
    room.fill(i + 1);
    taken.push([room, i + 1]);
  }
  // Every region still holds what was written into it: nothing later wrote over it.
  for (const [room, value] of taken) assert.ok(room.every((b) => b === value));
  // Regions of one slab are consecutive; the fourth of 30 did not fit in 100 and began a new slab.
  const [a, b, c, d, big] = taken.map(([r]) => r);
  assert.equal(a!.buffer, b!.buffer);
  assert.equal(b!.byteOffset, a!.byteOffset + 30);
  assert.equal(c!.byteOffset, b!.byteOffset + 30);
  assert.notEqual(d!.buffer, c!.buffer);
  // A line longer than a slab gets one of its own size.
  assert.notEqual(big!.buffer, d!.buffer);
  assert.equal(big!.buffer.byteLength >= 150, true);
});

test('lines that follow each other in one slab go out as one view of it; others are joined by a copy', async () => {
  const slab = new LineSlab(CHUNK);
  const lines = Array.from({ length: 40 }, (_, i) => {
    const room = slab.take(6000 + i);
    room.fill(0x61 + (i % 26));
    return room;
  });
  const chunks = await chunksOf(lines);
  assert.deepEqual(Buffer.concat(chunks), Buffer.concat(lines), 'the same bytes, in order');
  // Ten lines of ~6 KB fill a 64 KiB slab; the eleventh starts the next: each chunk is one slab's
  // lines, handed on without a copy.
  assert.equal(chunks.length, 4);
  for (const chunk of chunks) {
    const first = lines.find((l) => l.buffer === chunk.buffer);
    assert.ok(first, 'a chunk is a view of the slab its lines were written into');
    assert.equal(chunk.byteOffset, first.byteOffset);
  }

  // Lines in memory of their own (the statement line, another generator's): copied into chunks of
  // about CHUNK bytes, as before the slabs.
  const loose = Array.from({ length: 30 }, (_, i) => Buffer.alloc(5000, 0x30 + (i % 10)));
  const joined = await chunksOf(loose);
  assert.deepEqual(Buffer.concat(joined), Buffer.concat(loose));
  assert.equal(joined.length, 3);
  for (const chunk of joined.slice(0, -1)) assert.ok(chunk.length >= CHUNK);
  for (const chunk of joined)
    assert.ok(
      loose.every((l) => l.buffer !== chunk.buffer),
      'copies',
    );

  // Slab lines with loose lines between them: every byte once, in order.
  const mixed = lines.flatMap((l, i) => (i % 7 === 3 ? [loose[i % loose.length]!, l] : [l]));
  assert.deepEqual(Buffer.concat(await chunksOf(mixed)), Buffer.concat(mixed));
  assert.deepEqual(await chunksOf([]), []);
});

test("an export's receipt lines share slabs, and its chunks are whole lines", async () => {
  const f = await buildLog();
  try {
    const extra = Array.from({ length: 60 }, (_, i) => signedReceipt(100 + i, [f.witness]));
    await f.store.appendBlock(
      4,
      extra.map((mu, i) => ({
        ...receiptEntry(mu, `2026-04-02T00:00:${String(i).padStart(2, '0')}.000Z`, 100 + i),
        block: 4,
      })),
    );
    const receipts: ExportedReceipt[] = [
      ...f.receipts,
      ...extra.map((mu) => ({ id: parseReceipt(mu).document.fields.id, mu })),
    ];
    const lines: Buffer[] = [];
    const seen = async function* () {
      for await (const line of exportLines(f, { source: 'icu-relay-3' }, receipts)) {
        lines.push(line);
        yield line;
      }
    };
    const chunks: Buffer[] = [];
    for await (const c of inChunks(seen())) chunks.push(c);
    assert.deepEqual(Buffer.concat(chunks), Buffer.concat(lines));
    for (const c of chunks) assert.equal(c.at(-1), 0x0a, 'a chunk ends with a whole line');
    const receiptLines = lines.filter((l) => l.toString('utf8', 0, 17) === '{"type":"receipt"');
    assert.ok(receiptLines.length >= 60, `${receiptLines.length} receipt lines`);
    const buffers = new Set(receiptLines.map((l) => l.buffer));
    const bytes = receiptLines.reduce((n, l) => n + l.length, 0);
    assert.ok(
      buffers.size <= Math.ceil(bytes / (CHUNK / 2)),
      `${receiptLines.length} receipt lines (${bytes} bytes) in ${buffers.size} allocations`,
    );
  } finally {
    await f.close();
  }
});
