/**
 * Receipt queries, on world state only (LevelDB: no rich queries): by id, and by source, subject
 * or operation within a committedAt window, oldest-first or newest-first, in pages.
 *
 * Time windows filter on `committedAt`, the transaction timestamp the ledger recorded, never on
 * `occurredAt`, which is the source's own claim inside the receipt.
 *
 * Bookmarks are the contract's own: the next index key to read, base64url-encoded. They are
 * opaque to callers, checked to lie inside the query's range (a bookmark cannot read another
 * index), and stable: a page read later starts exactly where the last one stopped, receipts
 * appended meanwhile included if they fall after it.
 */
import { isUtf8 } from 'node:buffer';
import type { Context } from 'fabric-contract-api';
import { ByteParts } from './bytes.js';
import { ContractError } from './errors.js';
import { type Caller, requireRole } from './identity.js';
import { INDEXED_FIELDS, type IndexedField, indexRange, type Order, VALUE_PATTERNS } from './indexes.js';
import { canonicalJson, stateText } from './json.js';
import {
  checkReceiptId,
  type Flags,
  flagsOf,
  KeyCache,
  type ReceiptRecord,
  receiptStateKey,
} from './receipts.js';
import { readRange } from './state.js';
import { normalizeTime } from './time.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
/**
 * A page stops early once its receipts' stored records reach this many bytes (at least one receipt is
 * always returned), so an answer stays far below gRPC's default 4 MiB message limit on the client side.
 */
export const MAX_PAGE_BYTES = 2 * 1024 * 1024;

export type ReceiptView = ReceiptRecord & Flags;

export interface ReceiptQuery {
  readonly by: IndexedField;
  readonly value: string;
  readonly from?: string;
  readonly to?: string;
  readonly order: Order;
  readonly pageSize: number;
  readonly bookmark: string;
}

const QUERY_FIELDS = new Set(['by', 'value', 'from', 'to', 'order', 'pageSize', 'bookmark']);

function bad(message: string): ContractError {
  return new ContractError('BAD_REQUEST', message);
}

/** Parses and checks queryReceipts' JSON argument. */
export function parseQuery(json: string): ReceiptQuery {
  let q: unknown;
  try {
    q = JSON.parse(json);
  } catch {
    throw bad('the query must be a JSON object');
  }
  if (typeof q !== 'object' || q === null || Array.isArray(q)) throw bad('the query must be a JSON object');
  const o = q as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!QUERY_FIELDS.has(k)) throw bad(`unknown query field "${k}"`);
  const by = INDEXED_FIELDS.find((f) => f === o['by']);
  if (!by) throw bad(`query "by" must be one of ${INDEXED_FIELDS.join(', ')}`);
  const value = o['value'];
  if (typeof value !== 'string' || !VALUE_PATTERNS[by].test(value)) {
    throw bad(`query "value" is not a valid ${by} (${VALUE_PATTERNS[by].source})`);
  }
  const time = (name: 'from' | 'to'): string | undefined => {
    const v = o[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw bad(`query "${name}" must be an RFC 3339 UTC time`);
    return normalizeTime(v, `query "${name}"`);
  };
  const from = time('from');
  const to = time('to');
  if (from && to && from >= to)
    throw bad('query "from" must be earlier than "to" (the window is [from, to))');
  const order = o['order'] ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw bad('query "order" must be "asc" or "desc"');
  const pageSize = o['pageSize'] ?? DEFAULT_PAGE_SIZE;
  if (
    typeof pageSize !== 'number' ||
    !Number.isInteger(pageSize) ||
    pageSize < 1 ||
    pageSize > MAX_PAGE_SIZE
  ) {
    throw bad(`query "pageSize" must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  const bookmark = o['bookmark'] ?? '';
  if (typeof bookmark !== 'string') throw bad('query "bookmark" must be a string');
  return { by, value, order, pageSize, bookmark, ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

export function encodeBookmark(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function decodeBookmark(bookmark: string): string {
  const key = /^[A-Za-z0-9_-]+$/.test(bookmark) ? Buffer.from(bookmark, 'base64url').toString('utf8') : '';
  if (!key || encodeBookmark(key) !== bookmark) throw bad('the bookmark is not one this contract returned');
  return key;
}

/**
 * A page of receipts: the UTF-8 bytes of `canonicalJson({ receipts: ReceiptView[], bookmark })`, built
 * from the records' stored bytes without decoding, parsing or re-serialising them (`receiptViewBytes`).
 * Returned as bytes, not a string: the serializer puts them on the wire as they are (serializer.ts).
 * In parts (bytes.ts): the page's head (`{"bookmark":…,"receipts":[`), each receipt's view in the
 * pieces `receiptViewBytes` gives (split at member boundaries), a `,` part between two views, and `]}`
 * — what the embedded gateway cuts without concatenating (gateway/ledger/page.ts `receiptPageOfParts`).
 */
export async function queryReceipts(ctx: Context, caller: Caller, queryJson: string): Promise<ByteParts> {
  requireRole(caller, 'query receipts', 'auditor', 'admin');
  const q = parseQuery(queryJson);
  const range = indexRange(q.by, q.value, q.order, q.from, q.to);
  let start = range.start;
  if (q.bookmark) {
    start = decodeBookmark(q.bookmark);
    if (start < range.start || start >= range.end) throw bad('the bookmark belongs to another query');
  }
  // One entry more than the page: its key is the next page's bookmark.
  const entries = await readRange(ctx, start, range.end, q.pageSize + 1);
  const keys = new KeyCache(ctx);
  const parts: Uint8Array[] = [];
  let bookmark = '';
  let bytes = 0;
  for (const [i, entry] of entries.entries()) {
    if (i === q.pageSize || (parts.length > 0 && bytes >= MAX_PAGE_BYTES)) {
      bookmark = encodeBookmark(entry.key);
      break;
    }
    const id = new TextDecoder().decode(entry.value);
    const stored = await ctx.stub.getState(receiptStateKey(id));
    if (!stored || stored.length === 0)
      throw new ContractError('INTERNAL', `index key ${entry.key} points to missing receipt ${id}`);
    if (parts.length > 0) parts.push(COMMA);
    parts.push(...(await receiptViewBytes(stored, (ids) => flagsOf(keys, ids))));
    bytes += stored.length;
  }
  return new ByteParts([
    Buffer.from(`{"bookmark":${JSON.stringify(bookmark)},"receipts":[`),
    ...parts,
    PAGE_END,
  ]);
}

/** One receipt: the UTF-8 bytes of `canonicalJson(ReceiptView)`. */
export async function getReceipt(ctx: Context, caller: Caller, id: string): Promise<Uint8Array> {
  requireRole(caller, 'read receipts', 'auditor', 'admin');
  const bytes = await ctx.stub.getState(receiptStateKey(checkReceiptId(id)));
  if (!bytes || bytes.length === 0)
    throw new ContractError('NOT_FOUND', `receipt ${id} is not on the ledger`);
  const keys = new KeyCache(ctx);
  return Buffer.concat(await receiptViewBytes(bytes, (ids) => flagsOf(keys, ids)));
}

const COMMA = Buffer.from(',');
const PAGE_END = Buffer.from(']}');
const SIGNERS_MEMBER = ',"signerKeyIds":';
const NEXT_MEMBER = ',"source":';
const REVOKED_MEMBER = ',"revokedSigners":';

/**
 * The UTF-8 bytes of `canonicalJson({ ...record, ...flagsOf(record.signerKeyIds) })`, in pieces, from
 * `stored`, the record's stored `canonicalJson(record)` (UTF-8): the view's keys sort as the record's
 * with `revokedSigners` between `operation` and `signerKeyIds`, so the view is the stored bytes with
 * that one member spliced in, and the `.mu` inside is copied once, never decoded, parsed or escaped
 * again. The stored bytes must be UTF-8 (a state value this contract wrote always is; checked, as
 * decoding them was). Held to that definition by test/chaincode/queries.test.ts.
 */
export async function receiptViewBytes(
  stored: Uint8Array,
  flagsFor: (signerKeyIds: readonly string[]) => Promise<Flags>,
): Promise<Uint8Array[]> {
  const record = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  if (!isUtf8(record)) throw new ContractError('INTERNAL', 'a stored receipt record is not UTF-8');
  const at = signersAt(record);
  if (!at) {
    const parsed = JSON.parse(stateText(record)) as ReceiptRecord;
    return [Buffer.from(canonicalJson({ ...parsed, ...(await flagsFor(parsed.signerKeyIds)) }))];
  }
  const { revokedSigners } = await flagsFor(at.signerKeyIds);
  return [
    record.subarray(0, at.index),
    Buffer.from(`${REVOKED_MEMBER}${canonicalJson(revokedSigners)}`),
    record.subarray(at.index),
  ];
}

/**
 * Where the top-level `signerKeyIds` member starts in a stored record, and its value. In JSON text a
 * `"` inside a string is always escaped (`\"`), so `,"` never occurs inside a string: the first
 * `,"signerKeyIds":` is a member name, and the record's only nested object (`submitter`) sorts after
 * it. Anything else (not a record of this layout) answers undefined and takes the parsing path.
 */
function signersAt(record: Buffer): { index: number; signerKeyIds: string[] } | undefined {
  const index = record.indexOf(SIGNERS_MEMBER);
  if (index < 0) return undefined;
  const end = record.indexOf(NEXT_MEMBER, index);
  if (end < 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(stateText(record.subarray(index + SIGNERS_MEMBER.length, end)));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return undefined;
  return { index, signerKeyIds: value };
}
