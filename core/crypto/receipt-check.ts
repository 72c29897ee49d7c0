/**
 * Node only (a verification worker's job, verify-pool.ts). A receipt's pre-check as one job: the parse of
 * the attacker-controlled `.mu` (`parseReceipt`) and the check of its signatures (`verifyReceiptSignatures`)
 * against keys the caller looked up beforehand, so that both run on a worker thread and the caller's thread
 * receives the parse (issue 14: the parse was the embedded append's largest main-thread item).
 *
 * Why the verdict is the caller's own check's: `parseReceipt` is a pure function of the input, and the
 * signatures are checked by `verifyReceiptSignatures` with a backend of the same name, in the same order,
 * against the keys the caller would resolve for those key ids. A signature by a key id the caller did not
 * look up, or a failure that is not a CoreError (a bug), leaves the check `undecided`: the caller then checks
 * in its own thread, as it would have without the worker, and so gets the same result and the same error.
 */
import { CoreError, type CoreErrorCode } from '../errors.js';
import {
  parseReceipt,
  RECEIPT_CONTEXT,
  type Receipt,
  signedBytes,
  verifyReceiptSignatures,
} from '../receipt/receipt.js';
import { SIGNATURE_PREFIX } from '../receipt/signatures.js';
import { MAX_SIGNATURES } from '../receipt/limits.js';
import { KEY_ID_PATTERN, type PublicKey } from './keys.js';
import type { MlDsaBackend } from './mldsa.js';
import { VerificationMemo } from './verify-memo.js';

export interface ReceiptJob {
  readonly input: Uint8Array | string;
  /** The key of each key id the caller looked up; `null`: it has none (the check then fails E_KEY_UNKNOWN). */
  readonly keys: ReadonlyMap<string, PublicKey | null>;
  /** Whether to answer the memo keys (VerificationMemo.key) of the signatures accepted. */
  readonly memoKeys: boolean;
}

export type ReceiptCheck =
  | {
      readonly verdict: 'valid';
      readonly receipt: Receipt;
      /** The `.mu` text: a string input itself, or the UTF-8 decode of bytes (valid: they parsed). */
      readonly mu: string;
      readonly memoKeys: readonly string[];
    }
  | {
      readonly verdict: 'invalid';
      /** The CoreError's parts (an Error does not cross a thread as itself): `coreErrorOf` rebuilds it. */
      readonly error: {
        readonly code: CoreErrorCode;
        readonly message: string;
        readonly details: Readonly<Record<string, unknown>> | undefined;
      };
    }
  | { readonly verdict: 'undecided' };

const UNDECIDED: ReceiptCheck = { verdict: 'undecided' };

/** `parseReceipt(job.input)`, then `verifyReceiptSignatures` with `job.keys` and `mlDsa`, as a verdict. */
export function runReceiptCheck(job: ReceiptJob, mlDsa: MlDsaBackend): ReceiptCheck {
  let receipt: Receipt;
  try {
    receipt = parseReceipt(job.input);
    if (receipt.signatures.some((s) => !job.keys.has(s.keyId))) return UNDECIDED;
    verifyReceiptSignatures(receipt, (keyId) => job.keys.get(keyId) ?? undefined, mlDsa);
  } catch (e) {
    if (!(e instanceof CoreError)) return UNDECIDED;
    return { verdict: 'invalid', error: { code: e.code, message: e.message, details: e.details } };
  }
  return {
    verdict: 'valid',
    receipt,
    mu: receiptText(job.input),
    memoKeys: job.memoKeys ? memoKeysOf(receipt, job.keys) : [],
  };
}

/**
 * A check as a worker posts it: for a string input, the valid verdict without its `.mu` text, which is that
 * input (`runReceiptCheck`), so that the caller's own string is not cloned back to it (~10 KB per receipt:
 * every `.mu` holds "—", so it is a two-byte string); `unwireCheck` puts the input back in its place.
 */
export type WireCheck =
  | ReceiptCheck
  | (Omit<Extract<ReceiptCheck, { verdict: 'valid' }>, 'mu'> & { mu: null });

export function wireCheck(check: ReceiptCheck, job: ReceiptJob): WireCheck {
  return check.verdict === 'valid' && typeof job.input === 'string' ? { ...check, mu: null } : check;
}

/** The check a worker posted as `wireCheck(check, job)`: `check` again. */
export function unwireCheck(check: WireCheck, job: ReceiptJob): ReceiptCheck {
  if (check.verdict !== 'valid' || check.mu !== null) return check;
  if (typeof job.input !== 'string') return UNDECIDED; // not what a worker posts: leave it to the caller
  return { ...check, mu: job.input };
}

/** The memo key of each (accepted) signature of `receipt`, as the contract's check will look it up. */
function memoKeysOf(receipt: Receipt, keys: ReceiptJob['keys']): string[] {
  const message = signedBytes(receipt);
  return receipt.signatures.map((s) => {
    const key = keys.get(s.keyId)!;
    return VerificationMemo.key({
      alg: key.alg,
      publicKey: key.publicKey,
      message,
      signature: s.signature,
      context: RECEIPT_CONTEXT,
    });
  });
}

/** The `.mu` text of an input that parsed: a string itself, or its bytes decoded as UTF-8 (read in place). */
export function receiptText(input: Uint8Array | string): string {
  if (typeof input === 'string') return input;
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
}

export function coreErrorOf(error: Extract<ReceiptCheck, { verdict: 'invalid' }>['error']): CoreError {
  return new CoreError(error.code, error.message, error.details);
}

const LINE_START = `\n${SIGNATURE_PREFIX}`;
const LINE_START_BYTES = Buffer.from(LINE_START, 'utf8');

/**
 * The key ids a `.mu` file's signature lines seem to name ("— <64 hex>" at a line start), at most
 * MAX_SIGNATURES: only which keys to look up before the check; the parse decides what the lines are.
 */
export function signerKeyIdHints(input: Uint8Array | string): string[] {
  const ids: string[] = [];
  if (typeof input === 'string') {
    for (let at = input.indexOf(LINE_START); at >= 0 && ids.length < MAX_SIGNATURES; ) {
      const id = input.slice(at + LINE_START.length, at + LINE_START.length + 64);
      if (KEY_ID_PATTERN.test(id)) ids.push(id);
      at = input.indexOf(LINE_START, at + 1);
    }
    return ids;
  }
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  for (let at = bytes.indexOf(LINE_START_BYTES); at >= 0 && ids.length < MAX_SIGNATURES; ) {
    const from = at + LINE_START_BYTES.length;
    const id = bytes.toString('latin1', from, Math.min(from + 64, bytes.length));
    if (KEY_ID_PATTERN.test(id)) ids.push(id);
    at = bytes.indexOf(LINE_START_BYTES, at + 1);
  }
  return ids;
}
