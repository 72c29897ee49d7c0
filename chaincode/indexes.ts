/**
 * Receipt index keys: plain (simple) state keys whose text order is the query order, so a query
 * is one range scan. Fabric refuses range scans over composite keys (`createCompositeKey` puts
 * them in a separate namespace starting with U+0000), and LevelDB has no secondary indexes or
 * reverse iterators, so each indexed field gets two indexes:
 *
 *   idx!<by>!asc!<value>!<committedAt>!<receipt id>
 *   idx!<by>!desc!<value>!<inverted committedAt>!<inverted receipt id>
 *
 * `<by>` is source, subject or operation; the state value is the receipt id. `committedAt` is
 * fixed-width RFC 3339 (time.ts), so text order is time order; the desc index complements every
 * digit of it (and maps each id character c to U+009F − c), so its ascending scan is exactly the
 * asc index's order reversed — newest first, ties (one batch shares a tx time) by id descending.
 *
 * The separator `!` (U+0021) is outside every indexed value's alphabet (core's SOURCE_PATTERN,
 * SUBJECT_PATTERN, OPERATION_PATTERN; query values are checked against the same patterns) and
 * below all of them, so `<value>!` never prefixes another value's keys and the range
 * [`…<value>!`, `…<value>"`) holds exactly one value's entries.
 *
 * Each receipt writes its own six index keys and nothing shared: appends in one block never
 * conflict (no counter, no head key).
 */
import { OPERATION_PATTERN, SOURCE_PATTERN, SUBJECT_PATTERN } from '../core/index.js';
import { invertTime } from './time.js';

export const INDEXED_FIELDS = ['source', 'subject', 'operation'] as const;
export type IndexedField = (typeof INDEXED_FIELDS)[number];
export type Order = 'asc' | 'desc';

export const VALUE_PATTERNS: Readonly<Record<IndexedField, RegExp>> = {
  source: SOURCE_PATTERN,
  subject: SUBJECT_PATTERN,
  operation: OPERATION_PATTERN,
};

const SEP = '!';
/** The character after SEP: the exclusive end of a `…!` prefix. */
const SEP_END = '"';

export const INDEX_PREFIX = `idx${SEP}`;

/** Reverses the order of receipt ids (ULID or UUID characters, all in U+0021–U+007E). */
export function invertId(id: string): string {
  let out = '';
  for (let i = 0; i < id.length; i++) out += String.fromCharCode(0x9f - id.charCodeAt(i));
  return out;
}

function prefix(by: IndexedField, order: Order, value: string): string {
  return `${INDEX_PREFIX}${by}${SEP}${order}${SEP}${value}${SEP}`;
}

/** The index keys of one receipt: two per indexed field. */
export function indexKeys(
  fields: Readonly<Record<IndexedField, string>>,
  committedAt: string,
  id: string,
): string[] {
  const keys: string[] = [];
  // The same for every field (and, for time, for every receipt of the transaction): built once.
  const ascTail = `${committedAt}${SEP}${id}`;
  const descTail = `${invertTime(committedAt)}${SEP}${invertId(id)}`;
  for (const by of INDEXED_FIELDS) {
    keys.push(`${prefix(by, 'asc', fields[by])}${ascTail}`);
    keys.push(`${prefix(by, 'desc', fields[by])}${descTail}`);
  }
  return keys;
}

export interface KeyRange {
  /** Inclusive. */
  readonly start: string;
  /** Exclusive. */
  readonly end: string;
}

/**
 * The keys of receipts with `by` = `value` and from ≤ committedAt < to (both fixed-width times,
 * both optional), in the requested order.
 */
export function indexRange(
  by: IndexedField,
  value: string,
  order: Order,
  from?: string,
  to?: string,
): KeyRange {
  const p = prefix(by, order, value);
  const all: KeyRange = { start: p, end: `${p.slice(0, -1)}${SEP_END}` };
  if (order === 'asc') {
    return { start: from ? p + from : all.start, end: to ? p + to : all.end };
  }
  // Inverted times run backwards: `to` bounds the start, `from` the end. A key continues with
  // `!` after its time, so `time"` sorts after every key of that exact time.
  return {
    start: to ? `${p}${invertTime(to)}${SEP_END}` : all.start,
    end: from ? `${p}${invertTime(from)}${SEP_END}` : all.end,
  };
}
