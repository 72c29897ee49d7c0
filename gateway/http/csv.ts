/**
 * CSV export of receipts (RFC 4180: CRLF rows, fields quoted when needed, `"` doubled). Cells that
 * a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, TAB, CR) get a leading `'`
 * (OWASP "CSV injection"); no receipt field written by `core` starts so, but submitter ids and
 * revocation reasons come from elsewhere.
 */
import type { AuditLedger } from '../ledger/audit.js';
import type { ReceiptSummary } from '../ledger/page.js';
import { CONTRACT_PAGE, readSelection, type Selection } from '../ledger/selection.js';
import type { WalletIdentity } from '../ledger/wallet.js';
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

/**
 * A selection's rows from `bookmark` on, at most `max`, read a contract page at a time. Each page is cut
 * to its rows' summaries as soon as it is read: a row has no `.mu` (none is decoded), and the contract's
 * page (~5 KB a row, `.mu` included) is not held while its rows go out to the socket — held, it
 * outlived the young generation's scavenges and was promoted (docs/performance.md §12). The same reader
 * runs on the gateway's thread and on the export thread (logbuilder/export-worker.ts).
 */
export class SummaryPages {
  #sent = 0;
  private pending: ReceiptSummary[] | undefined;

  constructor(
    private readonly ledger: AuditLedger,
    private readonly who: WalletIdentity,
    private readonly selection: Selection,
    private bookmark: string,
    private readonly max: number,
  ) {}

  /** Rows handed out so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Reads the first page now: a selection the ledger refuses fails here, before any byte is sent. */
  async prefetch(): Promise<void> {
    this.pending ??= await this.read();
  }

  async *rows(): AsyncGenerator<ReceiptSummary> {
    let batch = this.pending ?? (await this.read());
    this.pending = undefined;
    for (;;) {
      for (const r of batch) {
        if (this.#sent >= this.max) return;
        this.#sent++;
        yield r;
      }
      if (!this.bookmark || this.#sent >= this.max) return;
      batch = await this.read();
    }
  }

  private async read(): Promise<ReceiptSummary[]> {
    const want = Math.min(CONTRACT_PAGE, this.max - this.#sent);
    const page = await readSelection(this.ledger, this.who, this.selection, this.bookmark, want);
    this.bookmark = page.bookmark;
    return page.rows.map((r) => r.summary());
  }
}
