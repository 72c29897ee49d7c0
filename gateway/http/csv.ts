/**
 * CSV export of receipts (RFC 4180: CRLF rows, fields quoted when needed, `"` doubled). Cells that
 * a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, TAB, CR) get a leading `'`
 * (OWASP "CSV injection"); no receipt field written by `core` starts so, but submitter ids and
 * revocation reasons come from elsewhere.
 */
import type { ReceiptSummary } from '../ledger/page.js';
import { Slicer } from '../slicer.js';

export const CSV_COLUMNS = [
  'id',
  'committedAt',
  'occurredAt',
  'source',
  'operation',
  'subject',
  'hash',
  'signerKeyIds',
  'submitterMspId',
  'submitterId',
  'txId',
  'revokedSigners',
] as const;

function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvRow(r: ReceiptSummary): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string> = {
    id: r.id,
    committedAt: r.committedAt,
    occurredAt: r.occurredAt,
    source: r.source,
    operation: r.operation,
    subject: r.subject,
    hash: r.hash,
    signerKeyIds: r.signerKeyIds.join(' '),
    submitterMspId: r.submitter.mspId,
    submitterId: r.submitter.id,
    txId: r.txId,
    revokedSigners: r.revokedSigners.map((s) => s.keyId).join(' '),
  };
  return `${CSV_COLUMNS.map((c) => cell(values[c])).join(',')}\r\n`;
}

/** Characters of rows per chunk handed to the socket: one write per chunk, not one per row. */
export const CSV_CHUNK = 64 * 1024;

/**
 * The CSV of `rows` (header first) in chunks of about `chunkChars`. It yields to the event loop every
 * SLICE_MS of work (`slicer`, gateway/slicer.ts): a page of rows is in memory, and a stream that ran
 * through it unsliced held appends behind it (docs/performance.md §12).
 */
export async function* csvChunks(
  rows: AsyncIterable<ReceiptSummary>,
  slicer = new Slicer(),
  chunkChars = CSV_CHUNK,
): AsyncGenerator<Buffer> {
  let text = csvHeader();
  for await (const r of rows) {
    text += csvRow(r);
    if (text.length >= chunkChars) {
      yield Buffer.from(text, 'utf8');
      text = '';
    }
    await slicer.pace();
  }
  if (text) yield Buffer.from(text, 'utf8');
}
