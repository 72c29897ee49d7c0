/**
 * World-state access: JSON values in sorted-key form, range pages over simple keys, key history.
 * Every iterator is closed in a `finally`, on success and on error: an open iterator holds a peer's
 * query context until the transaction ends.
 */
import type { Context } from 'fabric-contract-api';
import { jsonBytes, type Json, parseStateJson } from './json.js';
import { formatTime } from './time.js';

export async function getJson<T>(ctx: Context, key: string): Promise<T | undefined> {
  const bytes = await ctx.stub.getState(key);
  if (!bytes || bytes.length === 0) return undefined;
  return parseStateJson<T>(bytes);
}

export async function putJson(ctx: Context, key: string, value: Json): Promise<void> {
  await ctx.stub.putState(key, jsonBytes(value));
}

export interface RangeEntry {
  readonly key: string;
  readonly value: Uint8Array;
}

/**
 * Up to `limit` entries of [startKey, endKey), in key order. Uses the paginated range query (the
 * only kind Fabric allows a page size on; evaluate-only, which is where queries run), always from
 * an explicit start key: the contract's bookmarks are its own (the next key to read), so paging
 * works the same on every engine.
 */
export async function readRange(
  ctx: Context,
  startKey: string,
  endKey: string,
  limit: number,
): Promise<RangeEntry[]> {
  const { iterator } = await ctx.stub.getStateByRangeWithPagination(startKey, endKey, limit, '');
  const out: RangeEntry[] = [];
  try {
    for (;;) {
      const r = await iterator.next();
      if (r.value) out.push({ key: r.value.key, value: r.value.value });
      if (r.done) break;
    }
  } finally {
    await iterator.close();
  }
  return out;
}

export type HistoryEntry = {
  readonly txId: string;
  readonly timestamp: string;
  readonly isDelete: boolean;
  readonly value: Json;
};

/** Every committed version of a key, in the order the peer's history database returns them. */
export async function readHistory(ctx: Context, key: string): Promise<HistoryEntry[]> {
  const iterator = await ctx.stub.getHistoryForKey(key);
  const out: HistoryEntry[] = [];
  try {
    for (;;) {
      const r = await iterator.next();
      const m = r.value;
      if (m) {
        const value = !m.isDelete && m.value && m.value.length > 0 ? parseStateJson<Json>(m.value) : null;
        const seconds = Number(String(m.timestamp.seconds));
        out.push({
          txId: m.txId,
          timestamp: formatTime(seconds, m.timestamp.nanos),
          isDelete: m.isDelete,
          value,
        });
      }
      if (r.done) break;
    }
  } finally {
    await iterator.close();
  }
  return out;
}
