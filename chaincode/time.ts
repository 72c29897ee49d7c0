/**
 * Ledger time. The only clock the contract reads is the transaction timestamp
 * (`ctx.stub.getTxTimestamp()`): it is in the signed proposal, so every endorsing peer sees the same
 * value. It is written as RFC 3339 UTC with exactly nine fraction digits
 * (`2026-11-25T13:07:48.123456789Z`): fixed width, so text order is time order, which the index
 * keys rely on.
 */
import type { Context } from 'fabric-contract-api';
import { isTimestamp } from '../core/index.js';
import { ContractError } from './errors.js';

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range a four-digit year can write. */
const MIN_SECONDS = -62135596800;
const MAX_SECONDS = 253402300799;

/** The transaction's timestamp as fixed-width RFC 3339 (the record's `committedAt`). */
export function txTime(ctx: Context): string {
  const ts = ctx.stub.getTxTimestamp();
  // `seconds` is a Long on a peer; String() reads Long, number and bigint alike.
  const seconds = Number(String(ts.seconds));
  const nanos = ts.nanos;
  if (!Number.isSafeInteger(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    throw new ContractError('BAD_REQUEST', `transaction timestamp ${String(ts.seconds)} s is out of range`);
  }
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw new ContractError('BAD_REQUEST', `transaction timestamp nanos ${nanos} is out of range`);
  }
  return formatTime(seconds, nanos);
}

export function formatTime(seconds: number, nanos: number): string {
  // Date with an argument is deterministic; only the seconds go through it.
  const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
  return `${whole}.${String(nanos).padStart(9, '0')}Z`;
}

/**
 * A caller's RFC 3339 time (a query's `from`/`to`) in the fixed-width form, so it compares with
 * `committedAt` as text. Accepts the receipt format's syntax (1–9 fraction digits, UTC `Z`).
 */
export function normalizeTime(value: string, what: string): string {
  if (!isTimestamp(value)) {
    throw new ContractError('BAD_REQUEST', `${what} must be an RFC 3339 UTC time like 2026-11-25T13:07:48Z`);
  }
  const dot = value.indexOf('.');
  const whole = value.slice(0, 19);
  const fraction = dot < 0 ? '' : value.slice(dot + 1, -1);
  return `${whole}.${fraction.padEnd(9, '0')}Z`;
}

/**
 * Reverses the text order of fixed-width times: every digit d becomes 9 − d, punctuation stays.
 * Two times of the same layout first differ at a digit, and complementing that digit flips the
 * comparison, so an ascending scan over inverted times visits the newest first.
 */
export function invertTime(time: string): string {
  return time.replace(/[0-9]/g, (d) => String(9 - Number(d)));
}
