/** The auditor's current query: lives in the route fragment (shareable, never holds the token). */
import type { Params } from './api.js';

export interface Query {
  source?: string;
  subject?: string;
  operation?: string;
  /** RFC 3339 UTC, committedAt ≥ from. */
  from?: string;
  /** RFC 3339 UTC, committedAt < to. */
  to?: string;
  order: 'asc' | 'desc';
  limit: number;
}

export const FILTERS = ['source', 'subject', 'operation'] as const;
export const PAGE_SIZES = [10, 25, 50, 100] as const;

export function readQuery(p: URLSearchParams): Query {
  const text = (k: string) => p.get(k)?.trim() || undefined;
  const limit = Number(p.get('limit'));
  const q: Query = {
    order: p.get('order') === 'desc' ? 'desc' : 'asc',
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : 25,
  };
  for (const k of [...FILTERS, 'from', 'to'] as const) {
    const v = text(k);
    if (v) q[k] = v;
  }
  return q;
}

export function hasFilter(q: Query): boolean {
  return FILTERS.some((f) => q[f] !== undefined);
}

/** The filters alone (what an export or a chart selects). */
export function filterParams(q: Query): Params {
  return { source: q.source, subject: q.subject, operation: q.operation, from: q.from, to: q.to };
}

export function routeParams(q: Query, extra: Params = {}): string {
  const p = new URLSearchParams();
  const all: Params = { ...filterParams(q), order: q.order, limit: q.limit, ...extra };
  for (const [k, v] of Object.entries(all)) {
    if (v !== undefined && v !== '') p.set(k, String(v));
  }
  return p.toString();
}

/** `datetime-local` values are read as UTC: the ledger's times are UTC and so is every time shown. */
export function inputToUtc(value: string): string | undefined {
  if (!value) return undefined;
  return `${value.length === 16 ? `${value}:00` : value}Z`;
}

export function utcToInput(iso: string | undefined): string {
  return iso ? iso.replace(/Z$/, '').slice(0, 19) : '';
}

/** A ledger time for tables: date and time to the second, UTC. */
export function shortTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}
