/**
 * Query cursors: the contract's bookmark (the next index key to read) wrapped with a fingerprint of
 * the query it belongs to, base64url. Stable — a cursor read later resumes exactly after the last
 * row returned — and bound to its query, so it cannot be replayed against other filters.
 */
import { createHash } from 'node:crypto';
import type { Selection } from '../ledger/selection.js';
import { GatewayError } from '../errors.js';

/** What a cursor is bound to: the selection it pages through. */
export type QueryShape = Selection;

function fingerprint(q: QueryShape): string {
  const parts = [q.source, q.subject, q.operation, q.from, q.to, q.order].map((v) => v ?? '');
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export function encodeCursor(q: QueryShape, bookmark: string): string {
  return Buffer.from(JSON.stringify({ v: 1, q: fingerprint(q), b: bookmark })).toString('base64url');
}

export function decodeCursor(q: QueryShape, cursor: string): string {
  let parsed: { v?: unknown; q?: unknown; b?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    throw new GatewayError('E_CURSOR_INVALID', 'the cursor is not one this gateway returned');
  }
  if (parsed?.v !== 1 || typeof parsed.b !== 'string' || parsed.b === '' || typeof parsed.q !== 'string') {
    throw new GatewayError('E_CURSOR_INVALID', 'the cursor is not one this gateway returned');
  }
  if (parsed.q !== fingerprint(q)) {
    throw new GatewayError('E_CURSOR_INVALID', 'the cursor belongs to a query with other filters or order');
  }
  return parsed.b;
}
