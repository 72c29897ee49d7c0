/**
 * Step 4, receipts (docs/bundle-format.md §7 step 4). `checkReceiptLine` is pure — the same result in
 * any thread — so a caller can fan receipts out to workers through a `ReceiptChecker`
 * (core/bundle/pool.ts); `ReceiptBatches` feeds a checker in bounded batches, so memory stays
 * constant however many receipts stream past.
 */
import { CoreError } from '../../errors.js';
import { fromBase64, utf8 } from '../../encoding.js';
import { platformMlDsa } from '../../crypto/backend.js';
import type { PublicKey } from '../../crypto/keys.js';
import type { MlDsaBackend } from '../../crypto/mldsa.js';
import { InclusionVerifier } from '../../log/proof.js';
import { parseReceipt, type Receipt, receiptDigest, verifyReceiptSignatures } from '../../receipt/receipt.js';
import { entryLeafHash, type KeyEntry, keyValidity, type ReceiptEntry } from '../entries.js';
import { type BundleFilters, outsideFilters } from '../filters.js';
import { asFailure, type Failure, type Flag } from '../findings.js';
import { checkFrameBatch, type FrameAnswer, type FrameBatch } from '../frames.js';
import { ProofDecoder, type ReceiptLine } from '../format.js';

/** What every receipt check needs; plain data, so it crosses worker boundaries. */
export interface ReceiptCheckContext {
  readonly treeSize: number;
  /** Base64 root hash. */
  readonly rootHash: string;
  /** Newest proven entry per key id. */
  readonly keys: readonly KeyEntry[];
  /**
   * Each of those entries' public key as step 3 read it (importPublicKey, its key id and algorithm
   * checked against the entry): a checker uses these, so it need not read keys again, nor load the
   * PEM and DER readers (pem.ts) to do so.
   */
  readonly publicKeys: readonly PublicKey[];
  /** The header's filters: every receipt must satisfy them. */
  readonly filters: BundleFilters;
}

export interface ReceiptCheckResult {
  readonly line: number;
  readonly id?: string;
  readonly failure?: Failure;
  readonly signatures: number;
  readonly flags: readonly Flag[];
}

export interface ReceiptChecker {
  check(
    jobs: readonly { line: number; receipt: ReceiptLine }[],
    context: ReceiptCheckContext,
  ): Promise<ReceiptCheckResult[]>;
  /**
   * Checks a batch of whole lines given as bytes (frames.ts): what `verifyBundleBytes` uses when the
   * checker has it. The answer gives the batch's buffer back (a worker receives it transferred).
   */
  checkFrames?(batch: FrameBatch, context: ReceiptCheckContext): Promise<FrameAnswer>;
  close?(): Promise<void>;
}

/**
 * What the checks of one context keep between receipts: keys from proven entries by key id, the
 * root, and the proof memos (neighbouring receipts share most of their audit paths, InclusionVerifier).
 */
class ContextState {
  private readonly publicKeys: Map<string, PublicKey>;
  private readonly validity = new Map<string, (time: string) => string | undefined>();
  readonly entries: Map<string, KeyEntry>;
  readonly proofs = new ProofDecoder();
  readonly inclusion: InclusionVerifier;
  constructor(context: ReceiptCheckContext) {
    this.entries = new Map(context.keys.map((e) => [e.keyId, e]));
    this.publicKeys = new Map(context.publicKeys.map((k) => [k.keyId, k]));
    this.inclusion = new InclusionVerifier(
      context.treeSize,
      fromBase64(context.rootHash, 'E_BUNDLE_SYNTAX', 'root hash'),
    );
  }
  publicKey(keyId: string): PublicKey | undefined {
    return this.publicKeys.get(keyId);
  }
  /** `keyInvalidAt` of a proven key's entry, that entry's times parsed once. */
  keyInvalidAt(keyId: string, time: string): string | undefined {
    let valid = this.validity.get(keyId);
    if (!valid) {
      valid = keyValidity(this.entries.get(keyId)!);
      this.validity.set(keyId, valid);
    }
    return valid(time);
  }
}

const states = new WeakMap<ReceiptCheckContext, ContextState>();

function digestMismatch(id: string): CoreError {
  return new CoreError(
    'E_BUNDLE_DIGEST_MISMATCH',
    `receipt ${id}: its text does not hash to the committed digest`,
  );
}

/**
 * The receipt of a line, its text hashing to the committed digest. The digest is checked first,
 * as if before parsing: parsing computes it anyway, so it is compared after a parse that succeeds
 * and computed on its own only when the parse fails (a text that is not the committed one fails
 * with E_BUNDLE_DIGEST_MISMATCH, whatever else is wrong with it).
 */
function committedReceipt(entry: ReceiptEntry, mu: string | Uint8Array): Receipt {
  let receipt: Receipt;
  try {
    receipt = parseReceipt(mu);
  } catch (e) {
    if (receiptDigest(typeof mu === 'string' ? utf8(mu) : mu) !== entry.digest)
      throw digestMismatch(entry.id);
    throw e;
  }
  if (receipt.digest !== entry.digest) throw digestMismatch(entry.id);
  return receipt;
}

/**
 * Checks one receipt line: inclusion proof, digest of its text, the receipt itself (canonical
 * form, mirror, every signature against a proven key), its id and signers as committed, each
 * signer key valid at commit time, and the bundle's filters.
 */
export function checkReceiptLine(
  line: number,
  r: ReceiptLine,
  context: ReceiptCheckContext,
  mlDsa: MlDsaBackend = platformMlDsa,
): ReceiptCheckResult {
  return checkReceipt(line, r, r.mu, context, mlDsa);
}

/**
 * `checkReceiptLine` of a line whose `.mu` file is given apart, as its text or its UTF-8 (`parseReceipt`
 * reads both the same): what a checker that read the line from its bytes uses (frames.ts).
 */
export function checkReceipt(
  line: number,
  r: Omit<ReceiptLine, 'mu'>,
  mu: string | Uint8Array,
  context: ReceiptCheckContext,
  mlDsa: MlDsaBackend = platformMlDsa,
): ReceiptCheckResult {
  const id = r.entry.id;
  let state = states.get(context);
  try {
    if (!state) {
      state = new ContextState(context);
      states.set(context, state);
    }
    state.inclusion.verify(r.leafIndex, entryLeafHash(r.entry), state.proofs.decode(r.proof, line));
    const receipt = committedReceipt(r.entry, mu);
    const t = state;
    const signers = verifyReceiptSignatures(receipt, (keyId) => t.publicKey(keyId), mlDsa);
    const fields = receipt.document.fields;
    if (fields.id !== id) throw new CoreError('E_BUNDLE_SYNTAX', `receipt ${fields.id} is recorded as ${id}`);
    const signed = signers.map((s) => s.keyId).sort();
    const recorded = [...r.entry.signers].sort();
    if (signed.join() !== recorded.join()) {
      throw new CoreError(
        'E_BUNDLE_SYNTAX',
        `receipt ${id}: its signers differ from the committed signer list`,
      );
    }
    const flags: Flag[] = [];
    for (const keyId of signed) {
      const entry = t.entries.get(keyId)!;
      const why = t.keyInvalidAt(keyId, r.entry.committedAt);
      if (why) throw new CoreError('E_BUNDLE_KEY_NOT_VALID', `receipt ${id}: ${why}`);
      if (entry.revokedAt !== null) {
        flags.push({
          id,
          keyId,
          note: `signer key revoked later, at ${entry.revokedAt} (${entry.revocationReason ?? 'no reason given'})`,
        });
      }
    }
    const outside = outsideFilters(fields, r.entry.committedAt, context.filters);
    if (outside) throw new CoreError('E_BUNDLE_OUTSIDE_FILTER', `receipt ${id}: ${outside}`);
    return { line, id, signatures: signers.length, flags };
  } catch (e) {
    return { line, id, failure: asFailure(e, line, id), signatures: 0, flags: [] };
  }
}

/** Checks receipts on the calling thread with `mlDsa` (default: the platform's, `#crypto-backend`). */
export function inThreadChecker(mlDsa: MlDsaBackend = platformMlDsa): ReceiptChecker {
  return {
    async check(jobs, context) {
      return jobs.map((j) => checkReceiptLine(j.line, j.receipt, context, mlDsa));
    },
    async checkFrames(batch, context) {
      return { results: checkFrameBatch(batch, context, mlDsa), buffer: batch.buffer };
    },
  };
}

/**
 * Receipt text per batch, in UTF-16 code units, before it is sent whatever its count: 64 receipts
 * of ~4.8 KB are ~310 Ki, but a receipt may be 96 KiB, so counting receipts alone would let 64 of
 * those (6 MiB a batch) be in flight per slot.
 */
export const BATCH_TEXT_UNITS = 512 * 1024;

type Entry = { line: number; receipt: ReceiptLine } | { then: () => void };

/**
 * Feeds receipt lines to a checker in batches of `batchSize` receipts or `batchText` UTF-16 units
 * of receipt text, whichever comes first, at most `parallelism` batches in flight: the reader,
 * which awaits `add`, is held at (parallelism + 1) × (batchText + one receipt) of text ahead of
 * the results. Results go to `absorb` in the order their receipts were added, whatever order the
 * batches come back in, and `after` keeps anything else in that order too: so what a report lists
 * is in line order, however many workers check.
 */
export class ReceiptBatches {
  private batch: Entry[] = [];
  private batchJobs = 0;
  private batchUnits = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** The last batch's absorption: each batch's results are absorbed after the one before. */
  private absorbed: Promise<void> = Promise.resolve();

  constructor(
    private readonly checker: ReceiptChecker,
    private readonly context: ReceiptCheckContext,
    /** Hears each result, in the order of the receipts. */
    private readonly absorb: (result: ReceiptCheckResult) => void,
    /** Hears of each batch of receipts absorbed (progress). */
    private readonly absorbedBatch: () => void,
    private readonly batchSize: number,
    private readonly parallelism: number,
    private readonly batchText = BATCH_TEXT_UNITS,
  ) {}

  async add(line: number, receipt: ReceiptLine): Promise<void> {
    this.batch.push({ line, receipt });
    this.batchJobs++;
    this.batchUnits += receipt.mu.length;
    if (this.batchJobs >= this.batchSize || this.batchUnits >= this.batchText) await this.flush();
  }

  /** Runs `then` once every receipt added before it was absorbed: now, if none is pending. */
  after(then: () => void): void {
    if (this.batch.length === 0 && this.inFlight.size === 0) then();
    else this.batch.push({ then });
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const entries = this.batch;
    const jobs = entries.filter((e): e is Extract<Entry, { line: number }> => 'receipt' in e);
    this.batch = [];
    this.batchJobs = 0;
    this.batchUnits = 0;
    const checked: Promise<readonly ReceiptCheckResult[]> =
      jobs.length === 0
        ? Promise.resolve([])
        : this.checker.check(jobs, this.context).catch((e: unknown) =>
            // A checker that fails (a worker died) fails each of its receipts, by line: none is lost.
            jobs.map((j) => ({
              line: j.line,
              id: j.receipt.entry.id,
              failure: asFailure(e, j.line, j.receipt.entry.id),
              signatures: 0,
              flags: [],
            })),
          );
    const p = Promise.all([checked, this.absorbed]).then(([results]) => {
      let k = 0;
      for (const e of entries) {
        if ('then' in e) e.then();
        else this.absorb(results[k++]!);
      }
      if (jobs.length > 0) this.absorbedBatch();
    });
    this.absorbed = p;
    const tracked = p.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    while (this.inFlight.size >= this.parallelism) await Promise.race(this.inFlight);
  }

  /** Checks what is still batched and waits for every result. */
  async drain(): Promise<void> {
    await this.flush();
    await Promise.all(this.inFlight);
  }
}
