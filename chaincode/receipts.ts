/**
 * Appending receipts: parse strictly with core, check every signer key is registered and active,
 * verify every signature, store the record and its index keys. Idempotent by receipt id: the same
 * bytes again return the stored record and write nothing; other bytes under a stored id are a
 * conflict. A batch is one transaction: any invalid item fails all of it.
 */
import type { Context } from 'fabric-contract-api';
import {
  importPublicKey,
  isReceiptId,
  type PublicKey,
  parseReceipt,
  type Receipt,
  verifyReceiptSignaturesAsync,
} from '../core/index.js';
import type { MlDsaBackend } from '../core/crypto/mldsa.js';
import type { ReceiptHandOff } from '../core/receipt/handoff.js';
import { ContractError, fromCoreError } from './errors.js';
import { type Party, party, requireRole } from './identity.js';
import { indexKeys } from './indexes.js';
import { checkUsable, findKey, type KeyRecord, type TxInfo } from './keys.js';
import { jsonBytesWithUtf8 } from './json.js';
import { getJson } from './state.js';

export const RECEIPT_PREFIX = 'receipt!';
/** Most receipts in one appendReceipts transaction. */
export const MAX_BATCH_ITEMS = 100;
/** Most bytes of receipts (sum of UTF-8 lengths) in one appendReceipts transaction. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

export const receiptStateKey = (id: string): string => `${RECEIPT_PREFIX}${id}`;

/** What the ledger stores per receipt (state key `receipt!<id>`). */
export type ReceiptRecord = {
  readonly id: string;
  /** The whole `.mu` file as appended: receipt text and signature block. */
  readonly mu: string;
  /** `sha256:<hex>` of `mu`'s bytes (docs/receipt-format.md §5). */
  readonly digest: string;
  readonly source: string;
  readonly operation: string;
  readonly subject: string;
  /** The source's claim (from the receipt), as written. */
  readonly occurredAt: string;
  /** Key ids of every signature, in signature-block order (sorted). */
  readonly signerKeyIds: readonly string[];
  /** The Fabric identity that submitted the transaction (may be a relay, not the signer's owner). */
  readonly submitter: Party;
  readonly txId: string;
  /** The transaction's timestamp (fixed-width RFC 3339): ledger time, what queries filter on. */
  readonly committedAt: string;
};

/** A record without its `.mu` text: what append answers (the caller has the text). */
export type ReceiptEntry = Omit<ReceiptRecord, 'mu'>;

export type RevokedSigner = { readonly keyId: string; readonly revokedAt: string; readonly reason: string };

/** Flags added to records in answers: signer keys revoked since the receipt was appended. */
export type Flags = { readonly revokedSigners: readonly RevokedSigner[] };

export type AppendStatus = 'appended' | 'existing' | 'duplicate';
export type AppendResult = ReceiptEntry & Flags & { readonly status: AppendStatus };

export function entryOf(record: ReceiptRecord): ReceiptEntry {
  const { mu: _mu, ...entry } = record;
  return entry;
}

/** Per-transaction cache of key records: a batch signed by one key reads it once. */
export class KeyCache {
  private readonly records = new Map<string, KeyRecord | null>();
  constructor(private readonly ctx: Context) {}
  async get(keyId: string): Promise<KeyRecord | undefined> {
    let r = this.records.get(keyId);
    if (r === undefined) {
      r = (await findKey(this.ctx, keyId)) ?? null;
      this.records.set(keyId, r);
    }
    return r ?? undefined;
  }
}

export async function flagsOf(keys: KeyCache, signerKeyIds: readonly string[]): Promise<Flags> {
  const revokedSigners: RevokedSigner[] = [];
  for (const keyId of signerKeyIds) {
    const k = await keys.get(keyId);
    if (k?.status === 'revoked') {
      revokedSigners.push({ keyId, revokedAt: k.revokedAt ?? '', reason: k.revocationReason ?? '' });
    }
  }
  return { revokedSigners };
}

function parse(mu: string, handOff: ReceiptHandOff | undefined): Receipt {
  try {
    return handOff ? handOff.parse(mu) : parseReceipt(mu);
  } catch (e) {
    throw fromCoreError('RECEIPT_INVALID', e);
  }
}

/** Public keys as stored in the registry, imported once per process (a pure function of the text). */
const importedKeys = new Map<string, PublicKey>();
const IMPORTED_KEYS_LIMIT = 1024;

function importStoredKey(text: string): PublicKey {
  let key = importedKeys.get(text);
  if (!key) {
    key = importPublicKey(text);
    if (importedKeys.size >= IMPORTED_KEYS_LIMIT) importedKeys.clear();
    importedKeys.set(text, key);
  }
  return key;
}

/**
 * A receipt's signature check in flight: settles with undefined when every signature verifies, or
 * with what the check threw. It never rejects, so a check nobody waits for (an earlier item already
 * failed the batch) cannot become an unhandled rejection.
 */
type SignatureCheck = Promise<{ readonly failure: unknown } | undefined>;

/**
 * Every signer key registered and active now (in ledger order) — checked before this returns —
 * then every signature valid: started here, settled later (`SignatureCheck`). The signature
 * arithmetic runs off the main thread when core's backend can (`verifyReceiptSignaturesAsync`).
 */
async function checkSigners(
  receipt: Receipt,
  keys: KeyCache,
  mlDsa: MlDsaBackend,
): Promise<{ signatures: SignatureCheck }> {
  if (receipt.signatures.length === 0) {
    throw new ContractError('RECEIPT_INVALID', 'E_SIGNATURE_MISSING: receipt is not signed');
  }
  const resolved = new Map<string, PublicKey>();
  for (const { keyId } of receipt.signatures) {
    const record = await keys.get(keyId);
    if (!record) throw new ContractError('KEY_UNKNOWN', `signer key ${keyId} is not registered`);
    checkUsable(record);
    resolved.set(keyId, importStoredKey(record.publicKey));
  }
  // Wrapped in an object: an async function returning a promise would wait for it.
  const signatures = verifyReceiptSignaturesAsync(receipt, (keyId) => resolved.get(keyId), mlDsa).then(
    () => undefined,
    (e: unknown) => {
      try {
        return { failure: fromCoreError('RECEIPT_INVALID', e) };
      } catch (bug) {
        return { failure: bug };
      }
    },
  );
  return { signatures };
}

/**
 * Appends receipts in one transaction; returns one result per input, in input order.
 * `batch` says whether to name the failing item in error messages.
 *
 * The result is that of checking the items one by one, in order, and stopping at the first that
 * fails; only the signature arithmetic is overlapped: each item's check starts as the item is
 * reached and is collected at the end — or, when a later item fails first, the earlier items'
 * checks are collected before that failure is reported, so an earlier bad signature still wins.
 */
export async function appendReceipts(
  ctx: Context,
  tx: TxInfo,
  texts: readonly string[],
  batch: boolean,
  mlDsa: MlDsaBackend,
  handOff?: ReceiptHandOff,
): Promise<AppendResult[]> {
  requireRole(tx.caller, 'append receipts', 'appender');
  const keys = new KeyCache(ctx);
  const inThisTx = new Map<string, ReceiptRecord>();
  const results: AppendResult[] = [];
  const checks: SignatureCheck[] = [];
  const name = (e: unknown, i: number): unknown =>
    batch && e instanceof ContractError ? new ContractError(e.code, `${detailOf(e)} (batch item ${i})`) : e;
  const firstFailure = async (): Promise<unknown> => {
    for (const [i, check] of checks.entries()) {
      const settled = await check;
      if (settled) return name(settled.failure, i);
    }
    return undefined;
  };
  for (let i = 0; i < texts.length; i++) {
    try {
      const { result, signatures } = await appendOne(ctx, tx, texts[i]!, keys, inThisTx, mlDsa, handOff);
      results.push(result);
      checks.push(signatures);
    } catch (e) {
      throw (await firstFailure()) ?? name(e, i);
    }
  }
  const failure = await firstFailure();
  if (failure) throw failure;
  return results;
}

function detailOf(e: ContractError): string {
  return e.message.slice(e.code.length + 2);
}

const NO_CHECK: SignatureCheck = Promise.resolve(undefined);
const utf8Encoder = new TextEncoder();

async function appendOne(
  ctx: Context,
  tx: TxInfo,
  mu: string,
  keys: KeyCache,
  inThisTx: Map<string, ReceiptRecord>,
  mlDsa: MlDsaBackend,
  handOff: ReceiptHandOff | undefined,
): Promise<{ result: AppendResult; signatures: SignatureCheck }> {
  const receipt = parse(mu, handOff);
  const f = receipt.document.fields;
  // Fabric reads do not see the transaction's own writes: earlier items of this batch are here.
  const earlier = inThisTx.get(f.id);
  const stored = earlier ?? (await getJson<ReceiptRecord>(ctx, receiptStateKey(f.id)));
  if (stored) {
    if (stored.digest !== receipt.digest) {
      throw new ContractError(
        'RECEIPT_CONFLICT',
        `receipt ${f.id} is already on the ledger with digest ${stored.digest}; this one has digest ${receipt.digest}`,
      );
    }
    const status: AppendStatus = earlier ? 'duplicate' : 'existing';
    return {
      result: { ...entryOf(stored), ...(await flagsOf(keys, stored.signerKeyIds)), status },
      signatures: NO_CHECK,
    };
  }
  const { signatures } = await checkSigners(receipt, keys, mlDsa);
  const record = recordOf(mu, receipt, tx);
  await ctx.stub.putState(receiptStateKey(f.id), recordBytes(record, receipt.bytes));
  const idBytes = utf8Encoder.encode(f.id);
  for (const key of indexKeys(f, tx.time, f.id)) await ctx.stub.putState(key, idBytes);
  inThisTx.set(f.id, record);
  return { result: { ...entryOf(record), revokedSigners: [], status: 'appended' }, signatures };
}

/** What the ledger stores for `receipt` (parsed from `mu`), appended in `tx`. */
export function recordOf(mu: string, receipt: Receipt, tx: TxInfo): ReceiptRecord {
  const f = receipt.document.fields;
  return {
    id: f.id,
    mu,
    digest: receipt.digest,
    source: f.source,
    operation: f.operation,
    subject: f.subject,
    occurredAt: f.occurredAt,
    signerKeyIds: receipt.signatures.map((s) => s.keyId),
    submitter: party(tx.caller),
    txId: tx.txId,
    committedAt: tx.time,
  };
}

/**
 * A record's state value, `jsonBytes(record)`, with the `.mu` escaped from `muUtf8`, its UTF-8 bytes
 * (a parse's `receipt.bytes`): the largest value the contract writes, and a two-byte string in V8
 * (every `.mu` holds "—"), so escaping it as text and encoding that was the contract's largest cost.
 */
export function recordBytes(record: ReceiptRecord, muUtf8: Uint8Array): Uint8Array {
  return jsonBytesWithUtf8(record, 'mu', muUtf8);
}

/** Splits appendReceipts' argument: a JSON array of `.mu` texts, bounded in count and bytes. */
export function parseBatch(json: string): string[] {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: a text short enough is within bounds uncounted.
  if (json.length * 3 > MAX_BATCH_BYTES * 2 && Buffer.byteLength(json, 'utf8') > MAX_BATCH_BYTES * 2) {
    throw new ContractError(
      'BATCH_TOO_LARGE',
      `the batch argument is larger than ${MAX_BATCH_BYTES * 2} bytes`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ContractError('BAD_REQUEST', 'the batch must be a JSON array of .mu receipt texts');
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new ContractError('BAD_REQUEST', 'the batch must be a JSON array of .mu receipt texts');
  }
  if (value.length === 0) throw new ContractError('BAD_REQUEST', 'the batch is empty');
  if (value.length > MAX_BATCH_ITEMS) {
    throw new ContractError(
      'BATCH_TOO_LARGE',
      `${value.length} receipts; at most ${MAX_BATCH_ITEMS} per transaction`,
    );
  }
  const units = value.reduce((n: number, v: string) => n + v.length, 0);
  const bytes =
    units * 3 > MAX_BATCH_BYTES
      ? value.reduce((n: number, v: string) => n + Buffer.byteLength(v, 'utf8'), 0)
      : 0;
  if (bytes > MAX_BATCH_BYTES) {
    throw new ContractError(
      'BATCH_TOO_LARGE',
      `${bytes} bytes of receipts; at most ${MAX_BATCH_BYTES} per transaction`,
    );
  }
  return value as string[];
}

export function checkReceiptId(id: string): string {
  if (!isReceiptId(id)) throw new ContractError('BAD_REQUEST', 'a receipt id is a ULID or a lower-case UUID');
  return id;
}
