/** Front-matter fields of a receipt source document (docs/receipt-format.md §3.1). */
import { CoreError } from '../errors.js';
import { MAX_PAYLOAD_DIGESTS, MAX_REFS } from './limits.js';

export const FORMAT_V1 = 'torgo.receipt/1';

export interface ReceiptFields {
  readonly format: typeof FORMAT_V1;
  readonly id: string;
  readonly source: string;
  readonly operation: string;
  readonly subject: string;
  /** RFC 3339 UTC, as written (the text is what is signed; never re-formatted). */
  readonly occurredAt: string;
  readonly payloadDigests: readonly string[];
  readonly refs?: readonly string[];
}

/** Field names in document order, with whether each is a list and required. */
export const FIELD_ORDER = [
  { name: 'format', list: false, required: true },
  { name: 'id', list: false, required: true },
  { name: 'source', list: false, required: true },
  { name: 'operation', list: false, required: true },
  { name: 'subject', list: false, required: true },
  { name: 'occurred_at', list: false, required: true },
  { name: 'payload_digests', list: true, required: true },
  { name: 'refs', list: true, required: false },
] as const;
export type FieldName = (typeof FIELD_ORDER)[number]['name'];

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const SOURCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
export const OPERATION_PATTERN = /^[a-z][a-z0-9._-]{0,63}$/;
export const SUBJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#@+=~-]{0,255}$/;
const OCCURRED_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
  'sha3-256': 64,
  'sha3-512': 128,
};

function invalid(field: string, message: string): CoreError {
  return new CoreError('E_RECEIPT_FIELD_INVALID', `${field}: ${message}`, { field });
}

export function isReceiptId(value: string): boolean {
  return ULID.test(value) || UUID.test(value);
}

export function checkReceiptId(field: string, value: string): void {
  if (!isReceiptId(value)) throw invalid(field, `"${value}" is neither a ULID nor a lower-case UUID`);
}

/** True when the text is an RFC 3339 UTC timestamp in the receipt's syntax and a real instant. */
export function isTimestamp(value: string): boolean {
  const m = OCCURRED_AT.exec(value);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return false;
  return Number(m[4]) <= 23 && Number(m[5]) <= 59 && Number(m[6]) <= 59;
}

/**
 * Days in month `mo` (1–12) of year `y` in the proleptic Gregorian calendar, ECMAScript's (what a `Date`
 * rolling over a day past the month's end said before; arithmetic is a fraction of a `Date`'s cost).
 */
function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

export function checkPayloadDigest(value: string): void {
  const sep = value.indexOf(':');
  const alg = value.slice(0, sep);
  const hex = value.slice(sep + 1);
  const expected = DIGEST_HEX_LENGTH[alg];
  if (sep < 0 || expected === undefined) {
    throw invalid(
      'payload_digests',
      `"${value}" must be ALG:HEX with ALG one of ${Object.keys(DIGEST_HEX_LENGTH).join(', ')}`,
    );
  }
  if (hex.length !== expected || !/^[0-9a-f]+$/.test(hex)) {
    throw invalid('payload_digests', `${alg} digest must be ${expected} lower-case hex characters`);
  }
}

function checkList(field: string, values: readonly string[], max: number, check: (v: string) => void): void {
  if (values.length === 0) throw invalid(field, 'an empty list must be left out (at least one item)');
  if (values.length > max) throw invalid(field, `at most ${max} items`);
  if (new Set(values).size !== values.length) throw invalid(field, 'items must be distinct');
  for (const v of values) check(v);
}

/** Checks every field's value syntax (§3.1). */
export function checkFields(f: ReceiptFields): void {
  if (f.format !== FORMAT_V1)
    throw invalid('format', `unsupported format "${f.format}" (this reader implements ${FORMAT_V1})`);
  checkReceiptId('id', f.id);
  if (!SOURCE_PATTERN.test(f.source))
    throw invalid('source', `"${f.source}" does not match ${SOURCE_PATTERN.source}`);
  if (!OPERATION_PATTERN.test(f.operation)) {
    throw invalid('operation', `"${f.operation}" does not match ${OPERATION_PATTERN.source}`);
  }
  if (!SUBJECT_PATTERN.test(f.subject))
    throw invalid('subject', `"${f.subject}" does not match ${SUBJECT_PATTERN.source}`);
  if (!isTimestamp(f.occurredAt)) {
    throw invalid(
      'occurred_at',
      `"${f.occurredAt}" is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SS[.fff]Z)`,
    );
  }
  checkList('payload_digests', f.payloadDigests, MAX_PAYLOAD_DIGESTS, checkPayloadDigest);
  if (f.refs !== undefined) {
    checkList('refs', f.refs, MAX_REFS, (r) => {
      checkReceiptId('refs', r);
      if (r === f.id) throw invalid('refs', 'a receipt cannot refer to itself');
    });
  }
}
