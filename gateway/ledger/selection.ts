/**
 * A selection of receipts (source / subject / operation in a committedAt window) read through
 * the contract's indexes: the first given field picks the index, the others filter its rows.
 * Shared by queries, CSV and bundle exports.
 */
import { GatewayError } from '../errors.js';
import type { AuditLedger } from './audit.js';
import type { ReceiptJson } from './page.js';
import type { WalletIdentity } from './wallet.js';

export interface Selection {
  readonly source?: string | undefined;
  readonly subject?: string | undefined;
  readonly operation?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly order: 'asc' | 'desc';
}

const FIELDS = ['source', 'subject', 'operation'] as const;
/** Most contract pages one read walks when secondary filters drop rows. */
const MAX_ROUNDS = 20;
/** The contract's largest page. */
export const CONTRACT_PAGE = 100;

export function indexedField(sel: Selection): (typeof FIELDS)[number] {
  const by = FIELDS.find((f) => sel[f] !== undefined);
  if (!by) throw new GatewayError('E_BAD_REQUEST', 'give at least one of source, subject, operation');
  return by;
}

/**
 * Reads up to `want` matching rows from `bookmark` on, as the contract's bytes (`ReceiptJson`,
 * gateway/ledger/page.ts: what the API's JSON pages, the CSV and exports are written from). The
 * returned bookmark is exactly after the last row returned ('' at the end), so it can become a stable
 * cursor.
 */
export async function readSelection(
  ledger: AuditLedger,
  who: WalletIdentity,
  sel: Selection,
  bookmark: string,
  want: number,
): Promise<{ rows: ReceiptJson[]; bookmark: string }> {
  const by = indexedField(sel);
  const others = FIELDS.filter((f) => f !== by && sel[f] !== undefined);
  const rows: ReceiptJson[] = [];
  for (let round = 0; rows.length < want && round < MAX_ROUNDS; round++) {
    // With secondary filters a page may match only partly; asking for no more than still wanted
    // keeps the bookmark exactly after the last row returned.
    const page = await ledger.queryReceiptJson(who, {
      by,
      value: sel[by]!,
      ...(sel.from ? { from: sel.from } : {}),
      ...(sel.to ? { to: sel.to } : {}),
      order: sel.order,
      pageSize: Math.min(CONTRACT_PAGE, want - rows.length),
      bookmark,
    });
    rows.push(...page.receipts.filter((r) => others.every((f) => r.value(f) === sel[f])));
    bookmark = page.bookmark;
    if (!bookmark) break;
  }
  return { rows, bookmark };
}

/**
 * `.mu` bytes one ledger read of `selectAll` aims at. The contract stops a page at 2 MiB
 * (chaincode/queries.ts), but a page passes through several copies on its way here (the contract's
 * records, its JSON result, the payload, the parsed rows; in V8 a `.mu` text costs 2 bytes per
 * character, its signature lines having a non-Latin-1 character), so a stream that must stay in
 * constant memory whatever the receipts' size asks for fewer, smaller pages.
 */
export const READ_BYTES = 512 * 1024;
/** Rows of `selectAll`'s first read, before any receipt's size is known. */
const FIRST_READ = 16;

/** How many rows the next read asks for: READ_BYTES over the largest `.mu` seen so far. */
export function nextReadSize(largestMuBytes: number, readBytes = READ_BYTES): number {
  if (largestMuBytes <= 0) return FIRST_READ;
  return Math.max(1, Math.min(CONTRACT_PAGE, Math.floor(readBytes / largestMuBytes)));
}

/**
 * Every matching receipt, page by page: each read asks for about `readBytes` of `.mu` text (sized by
 * the largest receipt seen), and the next read waits until the consumer has taken every row of
 * the last one, so memory is bounded by one read, whatever the selection's size or its receipts'.
 * A row is the contract's answer cut into its members' UTF-8 bytes (`ReceiptJson`), not parsed: the
 * rows of a read stay outside the JavaScript heap (a Buffer, half the size of the `.mu` strings,
 * which V8 stores two bytes per character), and a `.mu` becomes a string only when its consumer
 * asks for it (`ReceiptJson.value`), one receipt at a time.
 */
export async function* selectAll(
  ledger: AuditLedger,
  who: WalletIdentity,
  sel: Selection,
  readBytes = READ_BYTES,
): AsyncGenerator<ReceiptJson> {
  let bookmark = '';
  let largest = 0;
  do {
    const page = await readSelection(ledger, who, sel, bookmark, nextReadSize(largest, readBytes));
    for (const r of page.rows) largest = Math.max(largest, r.jsonBytes('mu'));
    bookmark = page.bookmark;
    // Hand the rows over one by one, dropping each reference as it goes.
    const rows = page.rows;
    page.rows = [];
    while (rows.length > 0) yield rows.shift()!;
  } while (bookmark);
}

/**
 * A `selectAll` row as an export takes it (gateway/logbuilder/export.ts `ExportedReceipt`): its id,
 * its `.mu`'s size from the row's bytes, the `.mu`'s JSON literal as those bytes (what the receipt's
 * line carries), and its `.mu` decoded from them each time `mu` is read, so a batch of rows holds no
 * `.mu` string.
 */
export function exportedReceipt(r: ReceiptJson): {
  readonly id: string;
  readonly mu: string;
  readonly muBytes: number;
  readonly muJson: Uint8Array;
} {
  return {
    id: r.value('id'),
    muBytes: r.jsonBytes('mu'),
    muJson: r.json('mu'),
    get mu() {
      return r.value('mu');
    },
  };
}
