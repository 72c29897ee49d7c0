/**
 * A selection of receipts (source / subject / operation in a committedAt window) read through
 * the contract's indexes: the first given field picks the index, the others filter its rows.
 * Shared by queries, CSV and bundle exports.
 */
import { GatewayError } from '../errors.js';
import type { AuditLedger, ReceiptView } from './audit.js';
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
 * Reads up to `want` matching rows from `bookmark` on. The returned bookmark is exactly after the
 * last row returned ('' at the end), so it can become a stable cursor.
 */
export async function readSelection(
  ledger: AuditLedger,
  who: WalletIdentity,
  sel: Selection,
  bookmark: string,
  want: number,
): Promise<{ rows: ReceiptView[]; bookmark: string }> {
  const by = indexedField(sel);
  const others = FIELDS.filter((f) => f !== by && sel[f] !== undefined);
  const rows: ReceiptView[] = [];
  for (let round = 0; rows.length < want && round < MAX_ROUNDS; round++) {
    // With secondary filters a page may match only partly; asking for no more than still wanted
    // keeps the bookmark exactly after the last row returned.
    const page = await ledger.queryReceipts(who, {
      by,
      value: sel[by]!,
      ...(sel.from ? { from: sel.from } : {}),
      ...(sel.to ? { to: sel.to } : {}),
      order: sel.order,
      pageSize: Math.min(CONTRACT_PAGE, want - rows.length),
      bookmark,
    });
    rows.push(...page.receipts.filter((v) => others.every((f) => v[f] === sel[f])));
    bookmark = page.bookmark;
    if (!bookmark) break;
  }
  return { rows, bookmark };
}

/** Every matching receipt, page by page (constant memory). */
export async function* selectAll(
  ledger: AuditLedger,
  who: WalletIdentity,
  sel: Selection,
): AsyncGenerator<ReceiptView> {
  let bookmark = '';
  do {
    const page = await readSelection(ledger, who, sel, bookmark, CONTRACT_PAGE);
    yield* page.rows;
    bookmark = page.bookmark;
  } while (bookmark);
}
