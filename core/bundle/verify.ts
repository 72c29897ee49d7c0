/**
 * Offline bundle verification (docs/bundle-format.md §3). Streams: lines in, constant memory
 * apart from the key entries. Receipt checks are pure (`checkReceiptLine`) so a Node caller can
 * fan them out to worker threads through a `ReceiptChecker`; the default runs them in-thread.
 */
import { CoreError, isCoreError } from '../errors.js';
import { equalBytes, fromBase64, toBase64, toHex, utf8 } from '../encoding.js';
import { createSha256 } from '../crypto/hash.js';
import { importPublicKey, type PublicKey } from '../crypto/keys.js';
import { parseAlgorithm } from '../crypto/mldsa.js';
import { type CheckpointPolicy, type TrustedKey, verifyCheckpoint } from '../log/checkpoint.js';
import { verifyInclusion } from '../log/proof.js';
import { receiptDigest, verifyReceipt } from '../receipt/receipt.js';
import { CompletenessChecker, type CompletenessSummary } from './completeness.js';
import { entryLeafHash, type KeyEntry, keyInvalidAt } from './entries.js';
import {
  type BundleLine,
  decodeProof,
  type KeyLine,
  type LinkLine,
  MAX_BUNDLE_LINE_BYTES,
  parseBundleLine,
  type ReceiptLine,
} from './format.js';

export interface Failure {
  readonly line: number;
  readonly id?: string;
  readonly code: string;
  readonly message: string;
}

export interface Flag {
  readonly id: string;
  readonly keyId: string;
  readonly note: string;
}

export interface ReceiptCheckContext {
  readonly treeSize: number;
  /** Base64 root hash (plain data, so it crosses worker boundaries). */
  readonly rootHash: string;
  /** Newest proven entry per key id. */
  readonly keys: readonly KeyEntry[];
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
  close?(): Promise<void>;
}

export interface BundleReport {
  readonly valid: boolean;
  /** Not a bundle at all (no readable header): exit status 2 rather than 1. */
  readonly unusable: boolean;
  readonly origin?: string;
  readonly checkpoint?: {
    readonly size: number;
    readonly rootHash: string;
    readonly signedBy: readonly string[];
  };
  readonly counts: {
    keys: number;
    receipts: number;
    validReceipts: number;
    signatures: number;
    proofs: number;
  };
  readonly manifest: 'ok' | 'mismatch' | 'missing';
  readonly failures: readonly Failure[];
  /** Failures beyond the first `MAX_REPORTED` are counted, not listed. */
  readonly failureCount: number;
  readonly flags: readonly Flag[];
  /** What the bundle shows about its completeness (§5); absent when the walk ended early. */
  readonly completeness?: CompletenessSummary;
}

const MAX_REPORTED = 1000;

function asFailure(e: unknown, line: number, id?: string): Failure {
  if (isCoreError(e)) return { line, ...(id ? { id } : {}), code: e.code, message: e.message };
  return {
    line,
    ...(id ? { id } : {}),
    code: 'E_BUNDLE_SYNTAX',
    message: String((e as Error)?.message ?? e),
  };
}

/** Keys from proven entries, with a lookup memo (parsing a public key is not free). */
class KeyTable {
  private readonly publicKeys = new Map<string, PublicKey>();
  readonly entries: Map<string, KeyEntry>;
  constructor(entries: readonly KeyEntry[]) {
    this.entries = new Map(entries.map((e) => [e.keyId, e]));
  }
  publicKey(keyId: string): PublicKey | undefined {
    let k = this.publicKeys.get(keyId);
    const e = this.entries.get(keyId);
    if (!k && e) {
      k = importPublicKey(e.publicKey);
      this.publicKeys.set(keyId, k);
    }
    return k;
  }
}

const tables = new WeakMap<ReceiptCheckContext, KeyTable>();

/** Checks one receipt line (§3 steps 4–6). Pure: same result in any thread. */
export function checkReceiptLine(
  line: number,
  r: ReceiptLine,
  context: ReceiptCheckContext,
): ReceiptCheckResult {
  const id = r.entry.id;
  let table = tables.get(context);
  if (!table) {
    table = new KeyTable(context.keys);
    tables.set(context, table);
  }
  try {
    verifyInclusion(
      r.leafIndex,
      context.treeSize,
      entryLeafHash(r.entry),
      decodeProof(r.proof, line),
      fromBase64(context.rootHash, 'E_BUNDLE_SYNTAX', 'root hash'),
    );
    const bytes = utf8(r.mu);
    if (receiptDigest(bytes) !== r.entry.digest) {
      throw new CoreError(
        'E_BUNDLE_DIGEST_MISMATCH',
        `receipt ${id}: its text does not hash to the committed digest`,
      );
    }
    const t = table;
    const { receipt, signers } = verifyReceipt(bytes, (keyId) => t.publicKey(keyId));
    if (receipt.document.fields.id !== id) {
      throw new CoreError('E_BUNDLE_SYNTAX', `receipt ${receipt.document.fields.id} is recorded as ${id}`);
    }
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
      const why = keyInvalidAt(entry, r.entry.committedAt);
      if (why) throw new CoreError('E_BUNDLE_KEY_NOT_VALID', `receipt ${id}: ${why}`);
      if (entry.revokedAt !== null) {
        flags.push({
          id,
          keyId,
          note: `signer key revoked later, at ${entry.revokedAt} (${entry.revocationReason ?? 'no reason given'})`,
        });
      }
    }
    return { line, id, signatures: signers.length, flags };
  } catch (e) {
    return { line, id, failure: asFailure(e, line, id), signatures: 0, flags: [] };
  }
}

export const inThreadChecker: ReceiptChecker = {
  async check(jobs, context) {
    return jobs.map((j) => checkReceiptLine(j.line, j.receipt, context));
  },
};

export interface VerifyBundleOptions {
  readonly trusted: readonly TrustedKey[];
  /** How many trusted signatures the checkpoint needs (default 1). */
  readonly threshold?: number;
  readonly checker?: ReceiptChecker;
  /** Receipts per checker call, and how many calls may be in flight (bounds memory). */
  readonly batchSize?: number;
  readonly parallelism?: number;
  readonly onProgress?: (receiptsChecked: number) => void;
}

/** Verifies a bundle given as its lines (each without LF; the reader must have decoded UTF-8 strictly). */
export async function verifyBundle(
  lines: AsyncIterable<string>,
  options: VerifyBundleOptions,
): Promise<BundleReport> {
  const checker = options.checker ?? inThreadChecker;
  const batchSize = options.batchSize ?? 64;
  const parallelism = options.parallelism ?? 1;
  const failures: Failure[] = [];
  const flags: Flag[] = [];
  let failureCount = 0;
  const fail = (f: Failure) => {
    failureCount++;
    if (failures.length < MAX_REPORTED) failures.push(f);
  };
  const counts = { keys: 0, receipts: 0, validReceipts: 0, signatures: 0, proofs: 0 };
  const digest = createSha256();
  let lineNo = 0;
  let stage: 'header' | 'checkpoint' | 'keys' | 'claimed' | 'receipts' | 'done' = 'header';
  let chains: CompletenessChecker | undefined;
  let completeness: CompletenessSummary | undefined;
  let origin: string | undefined;
  let checkpoint: BundleReport['checkpoint'];
  let manifest: BundleReport['manifest'] = 'missing';
  let rootHash: Uint8Array | undefined;
  const keyEntries = new Map<string, { entry: KeyEntry; leafIndex: number }>();
  let context: ReceiptCheckContext | undefined;
  let batch: { line: number; receipt: ReceiptLine }[] = [];
  const inFlight = new Set<Promise<void>>();

  const absorb = (results: ReceiptCheckResult[]) => {
    for (const r of results) {
      if (r.failure) fail(r.failure);
      else {
        counts.validReceipts++;
        counts.signatures += r.signatures;
        counts.proofs++;
        for (const f of r.flags) if (flags.length < MAX_REPORTED) flags.push(f);
      }
    }
    options.onProgress?.(counts.receipts);
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const jobs = batch;
    batch = [];
    const p: Promise<void> = checker.check(jobs, context!).then(absorb, (e) => {
      for (const j of jobs) fail(asFailure(e, j.line, j.receipt.entry.id));
    });
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    while (inFlight.size >= parallelism) await Promise.race(inFlight);
  };

  const checkKeyLine = (k: KeyLine, n: number) => {
    try {
      verifyInclusion(
        k.leafIndex,
        checkpoint!.size,
        entryLeafHash(k.entry),
        decodeProof(k.proof, n),
        rootHash!,
      );
      const pk = importPublicKey(k.entry.publicKey);
      if (pk.alg !== parseAlgorithm(k.entry.alg) || pk.keyId !== k.entry.keyId) {
        throw new CoreError(
          'E_BUNDLE_SYNTAX',
          `key entry ${k.entry.keyId}: the public key does not have this id or algorithm`,
        );
      }
      counts.proofs++;
      const prev = keyEntries.get(k.entry.keyId);
      if (!prev || prev.leafIndex < k.leafIndex)
        keyEntries.set(k.entry.keyId, { entry: k.entry, leafIndex: k.leafIndex });
    } catch (e) {
      fail(asFailure(e, n));
    }
  };

  const checkLinkLine = (l: LinkLine, n: number) => {
    try {
      verifyInclusion(
        l.leafIndex,
        checkpoint!.size,
        entryLeafHash(l.entry),
        decodeProof(l.proof, n),
        rootHash!,
      );
      counts.proofs++;
    } catch (e) {
      fail(asFailure(e, n, l.entry.id));
    }
  };

  try {
    for await (const text of lines) {
      lineNo++;
      if (stage === 'done') throw new CoreError('E_BUNDLE_SYNTAX', `line ${lineNo}: data after the manifest`);
      if (text.length > MAX_BUNDLE_LINE_BYTES)
        throw new CoreError('E_BUNDLE_SYNTAX', `line ${lineNo}: longer than ${MAX_BUNDLE_LINE_BYTES} bytes`);
      const line: BundleLine = parseBundleLine(text, lineNo);
      if (line.type !== 'manifest') digest.update(text).update('\n');
      const expect = (ok: boolean, what: string) => {
        if (!ok) throw new CoreError('E_BUNDLE_SYNTAX', `line ${lineNo}: ${what}`);
      };
      switch (line.type) {
        case 'header':
          expect(stage === 'header', 'a second header');
          origin = line.origin;
          chains = new CompletenessChecker(line.filters, fail);
          stage = 'checkpoint';
          break;
        case 'checkpoint': {
          expect(stage === 'checkpoint', 'the checkpoint must follow the header, once');
          const policy: CheckpointPolicy = {
            origin: origin!,
            trusted: options.trusted,
            threshold: options.threshold ?? 1,
          };
          const v = verifyCheckpoint(line.note, policy);
          rootHash = v.checkpoint.rootHash;
          checkpoint = { size: v.checkpoint.size, rootHash: toHex(rootHash), signedBy: v.signedBy };
          chains!.checkpoint(v.checkpoint, lineNo);
          stage = 'keys';
          break;
        }
        case 'key':
          expect(stage === 'keys', 'key entries come after the checkpoint and before the receipts');
          counts.keys++;
          checkKeyLine(line, lineNo);
          chains!.key(line, lineNo);
          break;
        case 'receipt':
          expect(
            stage === 'keys' || stage === 'claimed' || stage === 'receipts',
            'receipts come after the checkpoint and keys',
          );
          if (stage !== 'receipts') {
            stage = 'receipts';
            context = {
              treeSize: checkpoint!.size,
              rootHash: toBase64(rootHash!),
              keys: [...keyEntries.values()].map((k) => k.entry),
            };
          }
          counts.receipts++;
          chains!.entry(line, lineNo);
          batch.push({ line: lineNo, receipt: line });
          if (batch.length >= batchSize) await flush();
          break;
        case 'link':
          expect(stage === 'claimed' || stage === 'receipts', 'links come after the completeness line');
          checkLinkLine(line, lineNo);
          chains!.entry(line, lineNo);
          break;
        case 'completeness':
          expect(
            stage === 'keys',
            'the completeness line comes once, after the keys and before the receipts',
          );
          chains!.statement(line, lineNo);
          stage = 'claimed';
          break;
        case 'manifest': {
          expect(stage !== 'header' && stage !== 'checkpoint', 'manifest before the checkpoint');
          await flush();
          await Promise.all(inFlight);
          const ok =
            equalBytes(utf8(line.digest), utf8(`sha256:${toHex(digest.digest())}`)) &&
            line.counts.keys === counts.keys &&
            line.counts.receipts === counts.receipts;
          manifest = ok ? 'ok' : 'mismatch';
          if (!ok) {
            fail({
              line: lineNo,
              code: 'E_BUNDLE_DIGEST_MISMATCH',
              message: 'the manifest digest or counts do not match the bundle',
            });
          }
          stage = 'done';
          completeness = chains!.finish(lineNo);
          break;
        }
      }
    }
    await flush();
    await Promise.all(inFlight);
    if (stage !== 'done')
      fail({
        line: lineNo,
        code: 'E_BUNDLE_SYNTAX',
        message: 'the bundle ends without a manifest (truncated?)',
      });
  } catch (e) {
    // A structural failure ends the walk: what follows cannot be interpreted.
    await Promise.allSettled(inFlight);
    fail(asFailure(e, lineNo));
  } finally {
    await checker.close?.();
  }
  return {
    valid: failureCount === 0 && manifest === 'ok',
    unusable: origin === undefined,
    ...(origin !== undefined ? { origin } : {}),
    ...(checkpoint ? { checkpoint } : {}),
    counts,
    manifest,
    failures,
    failureCount,
    flags,
    ...(completeness ? { completeness } : {}),
  };
}
