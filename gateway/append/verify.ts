/**
 * Pre-verification: the gateway parses each receipt and checks its signatures (native ML-DSA, on
 * core's worker pool when it has one) before anything reaches the ledger, so a bad receipt fails
 * fast and costs the ledger nothing. The contract verifies again and decides (key status included):
 * this is a filter, not the authority. On the embedded ledger the contract runs in this process: the
 * parse is handed over to it (core's `ReceiptHandOff`) and the signature check finds core's memo of
 * successful verifications, so each receipt is parsed and verified once per append.
 *
 * Public keys come from the ledger's key registry and are cached by key id. A key id is the hash of
 * the key, so a cached key can never be wrong; its status can change, which is why status is left
 * to the contract.
 */
import {
  CoreError,
  importPublicKey,
  type PublicKey,
  parseReceipt,
  type Receipt,
  type ReceiptHandOff,
  verifyReceiptSignaturesAsync,
} from '../../core/index.js';
import type { MlDsaBackend } from '../../core/crypto/mldsa.js';
import { coreErrorOf, receiptText, signerKeyIdHints } from '../../core/crypto/receipt-check.js';
import type { ReceiptChecker } from '../../core/crypto/verify-pool.js';
import { fromCoreError, GatewayError } from '../errors.js';
import type { AuditLedger } from '../ledger/audit.js';
import type { WalletIdentity } from '../ledger/wallet.js';

const CACHE_LIMIT = 10_000;

export class KeyDirectory {
  private readonly keys = new Map<string, PublicKey>();

  constructor(private readonly ledger: AuditLedger) {}

  /** The public key of `keyId`, or undefined when the registry has none. */
  async resolve(who: WalletIdentity, keyId: string): Promise<PublicKey | undefined> {
    const cached = this.keys.get(keyId);
    if (cached) return cached;
    let record: { publicKey: string };
    try {
      record = await this.ledger.getKey(who, keyId);
    } catch (e) {
      if (e instanceof GatewayError && e.code === 'E_NOT_FOUND') return undefined;
      throw e;
    }
    const key = importPublicKey(record.publicKey);
    if (key.keyId !== keyId) return undefined;
    if (this.keys.size >= CACHE_LIMIT) this.keys.clear();
    this.keys.set(keyId, key);
    return key;
  }
}

export interface Verified {
  readonly receipt: Receipt;
  /** The `.mu` text exactly as received (it is canonical UTF-8, or parsing would have failed). */
  readonly mu: string;
}

/** The public key of a key id, or undefined when the registry has none (KeyDirectory.resolve for one caller). */
export type KeyLookup = (keyId: string) => Promise<PublicKey | undefined>;

/**
 * Parses (attacker-controlled input) and verifies one receipt. Throws a GatewayError with core's
 * code (`E_RECEIPT_*`, `E_SIGNATURE_*`, `E_KEY_UNKNOWN`) and `details.stage = "verify"`. A receipt
 * that passes is handed over to `handOff` (the embedded contract's parse) when one is given.
 *
 * With `checkReceipt` (core's, on the verification workers), the parse runs there together with the
 * signature checks, and this thread receives the parse: same verdict, same error (receipt-check.ts),
 * and whatever that check leaves undecided is checked here as without it.
 */
export async function preVerify(
  resolveKey: KeyLookup,
  input: Uint8Array | string,
  mlDsa: MlDsaBackend,
  handOff?: ReceiptHandOff,
  checkReceipt?: ReceiptChecker,
): Promise<Verified> {
  try {
    // isWellFormed (ES2024) is false exactly when the text holds a lone surrogate; native, it costs
    // a fraction of the regular expression with look-around it replaces (a 250 KB batch body is 50 scans).
    if (typeof input === 'string' && !input.isWellFormed()) {
      throw new CoreError(
        'E_RECEIPT_ENCODING',
        'receipt text contains a lone UTF-16 surrogate (not encodable as UTF-8)',
      );
    }
    const offThread = checkReceipt ? await checkOffThread(resolveKey, input, checkReceipt) : undefined;
    const verified = offThread ?? (await checkHere(resolveKey, input, mlDsa));
    handOff?.give(verified.mu, verified.receipt);
    return verified;
  } catch (e) {
    throw fromCoreError(e) ?? e;
  }
}

/** The parse and the signature checks on this thread. */
async function checkHere(
  resolveKey: KeyLookup,
  input: Uint8Array | string,
  mlDsa: MlDsaBackend,
): Promise<Verified> {
  const receipt = parseReceipt(input);
  const resolved = new Map<string, PublicKey>();
  for (const s of receipt.signatures) {
    const key = await resolveKey(s.keyId);
    if (key) resolved.set(s.keyId, key);
  }
  await verifyReceiptSignaturesAsync(receipt, (keyId) => resolved.get(keyId), mlDsa);
  return { receipt, mu: receiptText(input) };
}

/**
 * The check on core's workers, with the keys of the key ids the signature lines seem to name; undefined
 * when it is undecided. A key whose lookup fails is not passed: if the receipt needs it, the check is
 * undecided and `checkHere` looks it up again, failing as it would have.
 */
async function checkOffThread(
  resolveKey: KeyLookup,
  input: Uint8Array | string,
  checkReceipt: ReceiptChecker,
): Promise<Verified | undefined> {
  const keys = new Map<string, PublicKey | null>();
  for (const keyId of signerKeyIdHints(input)) {
    try {
      keys.set(keyId, (await resolveKey(keyId)) ?? null);
    } catch {
      // (left to checkHere, above)
    }
  }
  const check = await checkReceipt(input, keys);
  if (check.verdict === 'invalid') throw coreErrorOf(check.error);
  return check.verdict === 'valid' ? { receipt: check.receipt, mu: check.mu } : undefined;
}
