/** Step 1, the header (docs/bundle-format.md §7 step 1): the format, the log, and what the bundle claims to hold. */
import { CoreError } from '../../errors.js';
import { isTimestamp } from '../../receipt/fields.js';
import { type BundleFilters, parseFilters } from '../filters.js';
import type { BundleFormat, HeaderLine } from '../format.js';

export interface BundleHeader {
  readonly format: BundleFormat;
  readonly origin: string;
  readonly createdAt: string;
  /** As written in the header (what the statement signs). */
  readonly filters: Readonly<Record<string, string>>;
  readonly parsedFilters: BundleFilters;
}

export function checkHeader(line: HeaderLine, n: number): BundleHeader {
  if (!isTimestamp(line.createdAt)) {
    throw new CoreError(
      'E_BUNDLE_SYNTAX',
      `line ${n}: createdAt "${line.createdAt}" is not an RFC 3339 UTC time`,
      {
        line: n,
      },
    );
  }
  return {
    format: line.format,
    origin: line.origin,
    createdAt: line.createdAt,
    filters: line.filters,
    parsedFilters: parseFilters(line.filters, n),
  };
}
