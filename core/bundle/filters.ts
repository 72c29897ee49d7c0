/**
 * A bundle's filters (docs/bundle-format.md §4): the selection the header claims, with the
 * meaning GET /v1/receipts gives it — `source`, `subject`, `operation` equal to the receipt's own
 * fields (read from its signed `.mu` text), and `from` ≤ `committedAt` < `to` on ledger time (the
 * proven log entry's `committedAt`, never the source's `occurredAt` claim).
 */
import { CoreError } from '../errors.js';
import { isTimestamp, OPERATION_PATTERN, SOURCE_PATTERN, SUBJECT_PATTERN } from '../receipt/fields.js';
import type { ReceiptFields } from '../receipt/fields.js';
import { timeNanos } from './entries.js';

/** The filters a bundle can claim; plain data (it crosses worker boundaries). */
export interface BundleFilters {
  readonly source?: string;
  readonly subject?: string;
  readonly operation?: string;
  readonly from?: string;
  readonly to?: string;
}

const PATTERNS = { source: SOURCE_PATTERN, subject: SUBJECT_PATTERN, operation: OPERATION_PATTERN } as const;
const FIELDS = ['source', 'subject', 'operation'] as const;

/** What is wrong with a set of filters (unknown name, malformed value, from not before to), if anything. */
export function filtersProblem(filters: Readonly<Record<string, string>>): string | undefined {
  for (const [name, value] of Object.entries(filters)) {
    if (name === 'from' || name === 'to') {
      if (!isTimestamp(value)) return `${name} "${value}" is not an RFC 3339 UTC time`;
    } else if (name === 'source' || name === 'subject' || name === 'operation') {
      if (!PATTERNS[name].test(value)) return `${name} "${value}" is not a valid ${name}`;
    } else {
      return `unknown filter "${name}" (known: source, subject, operation, from, to)`;
    }
  }
  const { from, to } = filters;
  if (from !== undefined && to !== undefined && timeNanos(from) >= timeNanos(to))
    return 'from must be earlier than to';
  return undefined;
}

/** Checks a header's filters (at bundle line `line`): E_BUNDLE_SYNTAX when `filtersProblem` finds one. */
export function parseFilters(filters: Readonly<Record<string, string>>, line: number): BundleFilters {
  const problem = filtersProblem(filters);
  if (problem) throw new CoreError('E_BUNDLE_SYNTAX', `line ${line}: filters: ${problem}`, { line });
  return { ...filters };
}

/** Why a receipt does not satisfy the filters, or undefined when it does. */
export function outsideFilters(
  fields: Pick<ReceiptFields, 'source' | 'subject' | 'operation'>,
  committedAt: string,
  filters: BundleFilters,
): string | undefined {
  for (const f of FIELDS) {
    const want = filters[f];
    if (want !== undefined && fields[f] !== want)
      return `its ${f} is "${fields[f]}", the bundle's filter is "${want}"`;
  }
  const t = timeNanos(committedAt);
  if (filters.from !== undefined && t < timeNanos(filters.from))
    return `committed at ${committedAt}, before the filter's from ${filters.from}`;
  if (filters.to !== undefined && t >= timeNanos(filters.to))
    return `committed at ${committedAt}, not before the filter's to ${filters.to}`;
  return undefined;
}

/** The filters as people read them: `source=icu-relay-3 from=…`, or "none". */
export function describeFilters(filters: BundleFilters): string {
  const parts = Object.entries(filters).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(' ') : 'none';
}
