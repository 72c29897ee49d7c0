/**
 * Log entries: what the transparency log commits to (docs/bundle-format.md §2). One leaf per
 * committed receipt and per key-registry change; leaf = RFC 9162 hashLeaf(canonical JSON).
 */
import { CoreError } from '../errors.js';
import { utf8 } from '../encoding.js';
import { hashLeaf } from '../log/merkle.js';
import { canonicalJson } from '../json.js';

export { canonicalJson };

export type Identity = {
  readonly mspId: string;
  readonly id: string;
};

export type ReceiptEntry = {
  readonly kind: 'receipt';
  readonly id: string;
  readonly digest: string;
  readonly signers: readonly string[];
  readonly submitter: Identity;
  readonly txId: string;
  readonly block: number;
  readonly committedAt: string;
  /**
   * Chained entries (log entry format 2, docs/bundle-format.md §6) carry the receipt's source and
   * subject, and the builder-assigned leaf index of the previous receipt entry with the same source
   * and the same subject (null for the first). Entries logged before chains have none of the four.
   */
  readonly source?: string;
  readonly subject?: string;
  readonly prevSource?: number | null;
  readonly prevSubject?: number | null;
};

export type KeyEvent = 'registered' | 'retired' | 'revoked';

export type KeyEntry = {
  readonly kind: 'key';
  readonly event: KeyEvent;
  readonly keyId: string;
  readonly alg: string;
  /** Base64 of the FIPS 204 public key. */
  readonly publicKey: string;
  readonly owner: Identity;
  readonly validFrom: string;
  readonly retiredAt: string | null;
  readonly revokedAt: string | null;
  readonly revocationReason: string | null;
  readonly txId: string;
  readonly block: number;
  readonly committedAt: string;
  /** Chained key entries: the leaf index of the previous entry of this key id (null for the first). */
  readonly prevKey?: number | null;
};

export type LogEntry = ReceiptEntry | KeyEntry;

/** A receipt entry of log entry format 2: it is on its source's and its subject's chain. */
export function isChainedReceipt(e: ReceiptEntry): e is ReceiptEntry & {
  source: string;
  subject: string;
  prevSource: number | null;
  prevSubject: number | null;
} {
  return e.source !== undefined && e.prevSource !== undefined && e.prevSubject !== undefined;
}

export function entryLeafHash(entry: LogEntry): Uint8Array {
  return hashLeaf(utf8(canonicalJson(entry)));
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** Nanoseconds since the epoch of an RFC 3339 UTC time (any fraction length), for exact ordering. */
export function timeNanos(text: string): bigint {
  const m = TIME.exec(text);
  if (!m) throw new CoreError('E_BUNDLE_SYNTAX', `"${text}" is not an RFC 3339 UTC time`);
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

/** Why a key (as its newest entry states) was not valid at `time`, or undefined if it was. */
export function keyInvalidAt(entry: KeyEntry, time: string): string | undefined {
  return keyValidity(entry)(time);
}

/**
 * `keyInvalidAt` of one key entry, each of its times read once, when first needed (so the same times
 * are read in the same order, and a malformed one fails the same call): for checking many receipts
 * against the same key (a bundle's receipt checks), where parsing them for each one showed in the profile.
 */
export function keyValidity(entry: KeyEntry): (time: string) => string | undefined {
  let validFrom: bigint | undefined;
  let revokedAt: bigint | undefined;
  let retiredAt: bigint | undefined;
  return (time) => {
    const t = timeNanos(time);
    validFrom ??= timeNanos(entry.validFrom);
    if (t < validFrom)
      return `key ${entry.keyId} was not yet valid at ${time} (valid from ${entry.validFrom})`;
    if (entry.revokedAt !== null) {
      revokedAt ??= timeNanos(entry.revokedAt);
      if (revokedAt <= t) return `key ${entry.keyId} was revoked at ${entry.revokedAt}, before ${time}`;
    }
    if (entry.retiredAt !== null) {
      retiredAt ??= timeNanos(entry.retiredAt);
      if (retiredAt <= t) return `key ${entry.keyId} was retired at ${entry.retiredAt}, before ${time}`;
    }
    return undefined;
  };
}
