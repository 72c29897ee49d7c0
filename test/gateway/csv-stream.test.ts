/**
 * The CSV export's stream (gateway/http/csv.ts `csvChunks`): the header and every row, in chunks of
 * about CSV_CHUNK characters, and turns of the event loop between rows once a slice of work is spent,
 * as the bundle export does (gateway/slicer.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReceiptResource } from '@torgo/api';
import { csvChunks, csvHeader, csvRow } from '../../gateway/http/csv.js';
import { Slicer } from '../../gateway/slicer.js';
import { besideTicker } from './ticker.js';

function resource(i: number): ReceiptResource {
  return {
    id: `rcpt-${String(i).padStart(6, '0')}`,
    committedAt: '2026-04-02T00:00:00.000Z',
    occurredAt: '2026-04-01T23:59:59.000Z',
    source: 'icu-relay-3',
    operation: i % 3 === 0 ? '=formula' : 'dose.administered',
    subject: `patient, "${i}"`,
    hash: `sha256:${'ab'.repeat(32)}`,
    signerKeyIds: [`mldsa65:${'cd'.repeat(16)}`],
    submitter: { mspId: 'HospitalMSP', id: 'relay' },
    txId: 'ef'.repeat(32),
    revokedSigners:
      i % 5 === 0
        ? [{ keyId: `mldsa65:${'cd'.repeat(16)}`, revokedAt: '2026-05-01T00:00:00.000Z', reason: 'rotated' }]
        : [],
    mu: '---\nid: x\n---\n',
  };
}

async function* from<T>(items: readonly T[], seen?: () => void): AsyncGenerator<T> {
  for (const item of items) {
    seen?.();
    yield item;
  }
}

test('the CSV stream is the header and every row, in chunks of about CSV_CHUNK', async () => {
  const rows = Array.from({ length: 700 }, (_, i) => resource(i));
  const chunks: Buffer[] = [];
  for await (const c of csvChunks(from(rows), new Slicer(), 16 * 1024)) chunks.push(c);
  assert.equal(Buffer.concat(chunks).toString('utf8'), csvHeader() + rows.map(csvRow).join(''));
  assert.ok(chunks.length >= 4, `${chunks.length} chunks`);
  for (const c of chunks.slice(0, -1)) assert.ok(c.length >= 16 * 1024, 'every chunk but the last is full');
  for (const c of chunks) assert.ok(c.toString('utf8').endsWith('\r\n'), 'a chunk ends with a whole row');

  const empty: Buffer[] = [];
  for await (const c of csvChunks(from([]))) empty.push(c);
  assert.equal(Buffer.concat(empty).toString('utf8'), csvHeader(), 'no row: the header alone');
});

/** Streams 300 rows with `slicer` beside an immediate-queue ticker; the ticker's count as each row is read. */
async function ticksAtRows(slicer: Slicer): Promise<number[]> {
  return besideTicker(async (ticks) => {
    const at: number[] = [];
    const rows = Array.from({ length: 300 }, (_, i) => resource(i));
    for await (const _ of csvChunks(
      from(rows, () => at.push(ticks())),
      slicer,
    )) {
      // consumed as a socket would
    }
    return at;
  });
}

test('the CSV stream lets the event loop run between rows once its slice is spent', async () => {
  // The control: rows in memory, never yielding, leave no turn to anything else between them.
  const unsliced = await ticksAtRows(new Slicer(Number.POSITIVE_INFINITY));
  assert.ok(
    unsliced.every((t, i) => i === 0 || t === unsliced[i - 1]),
    'without slices, no turn between rows',
  );
  // A slice of 0 ms is spent at every row: the loop turns before each next one.
  const sliced = await ticksAtRows(new Slicer(0));
  assert.ok(
    sliced.every((t, i) => i === 0 || t > sliced[i - 1]!),
    'with slices, a turn between every two rows',
  );
});
