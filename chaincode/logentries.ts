/**
 * The transparency log's entries (docs/bundle-format.md §2), carried in full in every writing
 * transaction's event so any organisation's log builder computes the same leaves from the same
 * blocks without reading state later (when a key may have changed). The builder adds `block`.
 */
import { importPublicKey, type KeyEntry, type KeyEvent, type ReceiptEntry, toBase64 } from '../core/index.js';
import { party } from './identity.js';
import type { KeyRecord, TxInfo } from './keys.js';
import type { AppendResult } from './receipts.js';

/**
 * Log entry format of the entries in this contract's events. 2 (docs/bundle-format.md §6): receipt
 * entries carry `source` and `subject`, and the builder adds chain back-pointers to every entry of
 * the event. Events without `logFormat` (format 1, older blocks) are logged as they are.
 */
export const LOG_ENTRY_FORMAT = 2;

export type UnplacedEntry = Omit<KeyEntry, 'block'> | Omit<ReceiptEntry, 'block'>;

export function keyLogEntry(record: KeyRecord, event: KeyEvent, tx: TxInfo): Omit<KeyEntry, 'block'> {
  const key = importPublicKey(record.publicKey);
  return {
    kind: 'key',
    event,
    keyId: record.keyId,
    alg: key.alg,
    publicKey: toBase64(key.publicKey),
    owner: party(record.owner),
    validFrom: record.registeredAt,
    retiredAt: record.retiredAt ?? null,
    revokedAt: record.revokedAt ?? null,
    revocationReason: record.revocationReason ?? null,
    txId: tx.txId,
    committedAt: tx.time,
  };
}

/** Entries of newly appended receipts only: an idempotent repeat commits nothing new. */
export function receiptLogEntries(results: readonly AppendResult[]): Omit<ReceiptEntry, 'block'>[] {
  return results
    .filter((r) => r.status === 'appended')
    .map((r) => ({
      kind: 'receipt',
      id: r.id,
      digest: r.digest,
      source: r.source,
      subject: r.subject,
      signers: [...r.signerKeyIds],
      submitter: party(r.submitter),
      txId: r.txId,
      committedAt: r.committedAt,
    }));
}
