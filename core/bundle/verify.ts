/**
 * Offline bundle verification (docs/bundle-format.md §7): the orchestrator. It reads the lines
 * once, in order, and runs the named steps — header, checkpoint, keys, receipts, binding, the
 * export statement — each in its own module under steps/. Streaming: constant memory but for the
 * key entries and the duplicate sets (binding.ts says how small); receipt signatures are checked
 * by a `ReceiptChecker`, on worker threads when the caller passes a pool.
 */
import { CoreError, isCoreError } from '../errors.js';
import { platformMlDsa } from '../crypto/backend.js';
import { createSha256, type Sha256Hasher } from '../crypto/hash.js';
import type { MlDsaBackend } from '../crypto/mldsa.js';
import { toBase64 } from '../encoding.js';
import type { TrustedKey } from '../log/checkpoint.js';
import {
  asFailure,
  type Failure,
  BUNDLE_LIMITS,
  type BundleLimit,
  type BundleOutcome,
  type BundleReport,
  Findings,
  type StatementStatus,
} from './findings.js';
import {
  BUNDLE_FORMAT_V1,
  type BundleLine,
  MAX_BUNDLE_LINE_BYTES,
  parseBundleLine,
  type ReceiptHead,
  type ReceiptLine,
} from './format.js';
import {
  BATCH_BYTES,
  type CheckedFrame,
  type FrameAnswer,
  type FrameBatch,
  FrameBatcher,
  frameLines,
} from './frames.js';
import { bundleFrames, decodeBundleLine } from './lines.js';
import { type BundleCheck, keysInUse, uniqueEntries } from './steps/binding.js';
import { checkCheckpoint, describeCheckpoint, type ProvenCheckpoint } from './steps/checkpoint.js';
import { type BundleHeader, checkHeader } from './steps/header.js';
import { KeyEntries } from './steps/keys.js';
import {
  inThreadChecker,
  ReceiptBatches,
  type ReceiptCheckContext,
  type ReceiptCheckResult,
  type ReceiptChecker,
} from './steps/receipts.js';
import { checkLink, type CompletenessCheck, completeness, provesCompleteness } from './steps/completeness.js';
import { checkManifest, checkStatement } from './steps/statement.js';

export {
  BUNDLE_LIMITS,
  type BundleLimit,
  type BundleOutcome,
  type BundleReport,
  type Failure,
  type Flag,
  type StatementStatus,
} from './findings.js';
export type { BundleCheck } from './steps/binding.js';
export type { ProvenCheckpoint } from './steps/checkpoint.js';
export type { BundleHeader } from './steps/header.js';
export {
  BATCH_BYTES,
  type CheckedFrame,
  type FrameAnswer,
  type FrameBatch,
  type FrameResult,
} from './frames.js';
export { completenessText, provesCompleteness } from './steps/completeness.js';
export {
  checkReceiptLine,
  inThreadChecker,
  type ReceiptCheckContext,
  type ReceiptChecker,
  type ReceiptCheckResult,
} from './steps/receipts.js';

export interface VerifyBundleOptions {
  readonly trusted: readonly TrustedKey[];
  /**
   * The ML-DSA backend every signature is checked with (default: the platform's, `#crypto-backend`).
   * A `checker` running elsewhere (worker threads) uses its own.
   */
  readonly mlDsa?: MlDsaBackend;
  /** How many trusted signatures the checkpoint needs (default 1). */
  readonly threshold?: number;
  readonly checker?: ReceiptChecker;
  /**
   * Receipts per checker call (default 64), receipt text per call in UTF-16 units (default
   * BATCH_TEXT_UNITS), and how many calls may be in flight (default 1): together they bound memory.
   */
  readonly batchSize?: number;
  readonly batchText?: number;
  /** `verifyBundleBytes`: line bytes per batch of lines sent to the checker (default BATCH_BYTES). */
  readonly batchBytes?: number;
  readonly parallelism?: number;
  readonly onProgress?: (receiptsChecked: number) => void;
  /**
   * A bundle without receipts is "nothing to verify"; valid only when allowed. A bundle whose
   * completeness check proves its window empty (§6.4) is not: it is a result, valid without this.
   */
  readonly allowEmpty?: boolean;
  /** Refuse unsigned (v1) exports with E_BUNDLE_UNSIGNED instead of warning. */
  readonly requireSigned?: boolean;
  /**
   * A hasher the line reader keeps updated with every line before the one being handled
   * (`bundleLines`' `digest`): the export statement's digest is then taken from it instead of
   * hashing each line's text again.
   */
  readonly linesDigest?: Sha256Hasher;
  /** Further whole-bundle checks, run after the built-in ones (binding.ts). */
  readonly checks?: readonly BundleCheck[];
}

/** `verifyBundleBytes`' options: `linesDigest` does not apply (it hashes the lines it frames itself). */
export interface VerifyBundleBytesOptions extends Omit<VerifyBundleOptions, 'linesDigest'> {
  /** Hears of every chunk read, by its length (progress). */
  readonly onBytes?: (n: number) => void;
}

/** `claimed`: the completeness line was read (§6), links or receipts follow. */
type Stage = 'header' | 'checkpoint' | 'keys' | 'claimed' | 'receipts' | 'done';

/** A structural failure: the line cannot be interpreted, so neither can what follows. */
class Stop extends Error {
  constructor(readonly failure: { line: number; code: string; message: string }) {
    super(failure.message);
  }
}

/**
 * Runs `body`, which reads `source` by hand, and then ends `source` however `body` ended: a walk that
 * stops early (an invalid line, a refused checkpoint) otherwise leaves the reader suspended, and the
 * file under it open until the garbage collector closes it (Node warns of that, DEP0137).
 */
async function closing<T>(source: AsyncIterator<T>, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    // Closing a file that was only read cannot change the verdict: its error is not reported.
    await source.return?.()?.catch(() => undefined);
  }
}
/**
 * One verification run over one bundle. `run` reads the lines and `line` routes each to its step,
 * in the order of docs/bundle-format.md §1: verifyCheckpoint (after the header), verifyKey,
 * verifyReceipt (batched to the checker), then at the last line the whole-bundle checks
 * (finishChecks) and the statement or manifest (verifyLastLine); `report` says what it all found.
 */
class BundleVerification {
  private readonly findings = new Findings();
  private readonly counts = {
    lines: 0,
    keys: 0,
    validKeys: 0,
    links: 0,
    receipts: 0,
    validReceipts: 0,
    invalidReceipts: 0,
    signatures: 0,
    proofs: 0,
  };
  /** SHA-256 of the lines read so far but the manifest or statement (the reader's, or this one's). */
  private readonly digest: Sha256Hasher;
  private readonly hashLines: boolean;
  private readonly checks: BundleCheck[];
  private readonly completeness: CompletenessCheck = completeness();
  private stage: Stage = 'header';
  private header: BundleHeader | undefined;
  private rawOrigin: string | undefined;
  private checkpoint: ProvenCheckpoint | undefined;
  private keys: KeyEntries | undefined;
  private receipts: ReceiptBatches | undefined;
  private context: ReceiptCheckContext | undefined;
  /** `runBytes`: batches of lines sent to the checker, in line order, their answers not yet read. */
  private readonly inFlight: { batch: FrameBatch; answer: Promise<FrameAnswer> }[] = [];
  private statement: StatementStatus = 'not-checked';
  private statementSigners: readonly string[] | undefined;
  private stopped: { line: number; code: string; message: string } | undefined;

  private readonly mlDsa: MlDsaBackend;

  constructor(private readonly options: VerifyBundleOptions) {
    this.mlDsa = options.mlDsa ?? platformMlDsa;
    this.digest = options.linesDigest ?? createSha256();
    this.hashLines = options.linesDigest === undefined;
    this.checks = [uniqueEntries(), keysInUse(), this.completeness, ...(options.checks ?? [])];
  }

  /** Verifies a bundle read as decoded lines (`bundleLines`). */
  run(lines: AsyncIterable<string>): Promise<BundleReport> {
    const checker = this.options.checker ?? inThreadChecker(this.mlDsa);
    const iterator = lines[Symbol.asyncIterator]();
    return this.walk(checker, () =>
      closing(iterator, async () => {
        for (;;) {
          const next = await this.read(iterator);
          if (next.done) return;
          await this.handle(next.value, checker);
        }
      }),
    );
  }

  /**
   * Verifies a bundle read as bytes. Lines are framed here and read here up to the first receipt
   * line; from there, when the checker can (`checkFrames`), every line travels as bytes in
   * batches and this thread only hashes each line and runs the whole-bundle checks on what the
   * checker says of it, in line order; a line the checker declines is read here the plain way.
   */
  runBytes(chunks: AsyncIterable<Uint8Array>, onBytes?: (n: number) => void): Promise<BundleReport> {
    const checker = this.options.checker ?? inThreadChecker(this.mlDsa);
    const frames = bundleFrames(chunks, onBytes)[Symbol.asyncIterator]();
    return this.walk(checker, () =>
      closing(frames, async () => {
        for (;;) {
          const next = await this.read(frames);
          if (next.done) return;
          await this.handle(this.decode(next.value), checker, next.value);
          if (this.stage === 'receipts' && checker.checkFrames) break;
        }
        // The first receipt was checked the plain way: its result comes first.
        await this.receipts!.drain();
        await this.readFrames(frames, checker);
      }),
    );
  }

  /** Reads every line that is left in batches of bytes (runBytes). */
  private async readFrames(frames: AsyncIterator<Uint8Array>, checker: ReceiptChecker): Promise<void> {
    const o = this.options;
    const batcher = new FrameBatcher(o.batchSize ?? 64, o.batchBytes ?? BATCH_BYTES);
    const parallelism = o.parallelism ?? 1;
    const dispatch = () => {
      const batch = batcher.take();
      if (batch) this.inFlight.push({ batch, answer: checker.checkFrames!(batch, this.context!) });
    };
    const absorbAll = async (atMost: number) => {
      while (this.inFlight.length > atMost) await this.absorbFrames(this.inFlight.shift()!, batcher, checker);
    };
    let lineNo = this.counts.lines;
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await frames.next();
      } catch (e) {
        // A reader's error is about the line after every line framed: those are checked first.
        dispatch();
        await absorbAll(0);
        throw this.readerStop(e);
      }
      if (next.done) break;
      if (!batcher.fits(next.value.length)) dispatch();
      if (batcher.push(next.value, ++lineNo)) dispatch();
      await absorbAll(parallelism - 1);
    }
    dispatch();
    await absorbAll(0);
  }

  /** One batch's answer, line by line in order: a checked receipt, or a line read here. */
  private async absorbFrames(
    inFlight: { batch: FrameBatch; answer: Promise<FrameAnswer> },
    batcher: FrameBatcher,
    checker: ReceiptChecker,
  ): Promise<void> {
    const { batch } = inFlight;
    let answer: FrameAnswer;
    try {
      answer = await inFlight.answer;
    } catch (e) {
      // The batch's bytes went with it: what it held cannot be read, so the walk stops there.
      throw new Stop(asFailure(e, batch.firstLine));
    }
    const lines = frameLines(new Uint8Array(answer.buffer), batch.ends);
    for (let i = 0; i < lines.length; i++) {
      const checked = answer.results[i];
      if (checked) this.checkedReceipt(checked, lines[i]!);
      else await this.handle(this.decode(lines[i]!), checker, lines[i]);
    }
    batcher.reuse(answer.buffer);
    this.options.onProgress?.(this.counts.validReceipts + this.counts.invalidReceipts);
  }

  /** A receipt line the checker read and checked: what `line` does with a receipt line, but parse and check. */
  private checkedReceipt(r: CheckedFrame, bytes: Uint8Array): void {
    const n = ++this.counts.lines;
    try {
      this.notAfterLastLine(n);
    } catch (e) {
      throw new Stop(asFailure(e, n));
    }
    this.digest.update(bytes).update('\n');
    this.absorb(this.receiptHooks({ type: 'receipt', leafIndex: r.leafIndex, entry: r.entry }, n) ?? r.check);
  }

  /**
   * Runs `body` (the reading of every line) and then whatever it all shows; a structural failure
   * (Stop) ends the reading and is reported, with everything read before it still checked.
   */
  private async walk(checker: ReceiptChecker, body: () => Promise<void>): Promise<BundleReport> {
    try {
      await body();
      if (this.stage !== 'done') {
        throw new Stop({
          line: this.counts.lines + 1,
          code: 'E_BUNDLE_TRUNCATED',
          message: `the bundle ends after line ${this.counts.lines} without its ${this.lastLineName()} (truncated?)`,
        });
      }
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
      this.stopped = e.failure;
      // Whatever was read before the stop is still checked, so the counts add up; its failures
      // come first, in line order.
      await this.receipts?.drain().catch(() => undefined);
      this.findings.fail(e.failure);
      // Batches of lines after the stop were not read: they only finish before the checker closes.
      await Promise.allSettled(this.inFlight.map((b) => b.answer));
    } finally {
      await checker.close?.();
    }
    return this.report();
  }

  /** The next line from a reader; the reader's own errors stop the walk. */
  private async read<T>(iterator: AsyncIterator<T>): Promise<IteratorResult<T>> {
    try {
      return await iterator.next();
    } catch (e) {
      throw this.readerStop(e);
    }
  }

  /** The reader's own errors (bad UTF-8, an overlong or unterminated line) name their line. */
  private readerStop(e: unknown): Stop {
    const line =
      isCoreError(e) && typeof e.details?.['line'] === 'number' ? e.details['line'] : this.counts.lines + 1;
    return new Stop(asFailure(e, line as number));
  }

  /** The next line's text, decoded as `bundleLines` does (a reader's error if it is not UTF-8). */
  private decode(bytes: Uint8Array): string {
    try {
      return decodeBundleLine(bytes, this.counts.lines + 1);
    } catch (e) {
      throw this.readerStop(e);
    }
  }

  /** Counts the next line and routes it (`line`); `bytes` are its bytes when it was read as bytes. */
  private async handle(text: string, checker: ReceiptChecker, bytes?: Uint8Array): Promise<void> {
    const n = ++this.counts.lines;
    try {
      await this.line(text, n, checker, bytes);
    } catch (e) {
      throw e instanceof Stop ? e : new Stop(asFailure(e, n));
    }
  }

  private notAfterLastLine(n: number): void {
    if (this.stage === 'done')
      throw new CoreError('E_BUNDLE_SYNTAX', `line ${n}: data after the ${this.lastLineName()}`);
  }

  private lastLineName(): string {
    return this.header?.format === BUNDLE_FORMAT_V1 ? 'manifest' : 'export statement';
  }

  /** Routes one line to its step, enforcing the order of §1. */
  private async line(text: string, n: number, checker: ReceiptChecker, bytes?: Uint8Array): Promise<void> {
    this.notAfterLastLine(n);
    if (text.length > MAX_BUNDLE_LINE_BYTES)
      throw new CoreError('E_BUNDLE_SYNTAX', `line ${n}: longer than ${MAX_BUNDLE_LINE_BYTES} bytes`);
    const line: BundleLine = parseBundleLine(text, n);
    const expect = (ok: boolean, what: string) => {
      if (!ok) throw new CoreError('E_BUNDLE_SYNTAX', `line ${n}: ${what}`);
    };
    // The reader's digest holds every line before this one: a manifest or statement is the last
    // line (anything after it fails), so both ways hash the same bytes.
    if (this.hashLines && line.type !== 'manifest' && line.type !== 'statement')
      this.digest.update(bytes ?? text).update('\n');
    switch (line.type) {
      case 'header':
        expect(this.stage === 'header', 'a second header');
        this.rawOrigin = line.origin;
        this.header = checkHeader(line, n);
        this.stage = 'checkpoint';
        return;
      case 'checkpoint':
        expect(this.stage === 'checkpoint', 'the checkpoint must follow the header, once');
        this.verifyCheckpoint(line);
        return;
      case 'key':
        expect(this.stage === 'keys', 'key entries come after the checkpoint and before the receipts');
        this.verifyKey(line, n);
        return;
      case 'completeness':
        expect(
          this.stage === 'keys',
          'the completeness line comes once, after the keys and before the receipts and links',
        );
        for (const c of this.checks) c.completeness?.(line, n);
        this.stage = 'claimed';
        return;
      case 'receipt':
        expect(
          this.stage === 'keys' || this.stage === 'claimed' || this.stage === 'receipts',
          'receipts come after the checkpoint and keys',
        );
        if (this.stage !== 'receipts') this.startReceipts(checker);
        await this.verifyReceipt(line, n);
        return;
      case 'link':
        expect(
          this.stage === 'claimed' || this.stage === 'receipts',
          'links come after the completeness line',
        );
        this.verifyLink(line, n);
        return;
      case 'manifest':
      case 'statement': {
        expect(
          this.stage === 'keys' || this.stage === 'claimed' || this.stage === 'receipts',
          `the ${line.type} comes after the checkpoint`,
        );
        const v1 = this.header!.format === BUNDLE_FORMAT_V1;
        expect(
          v1 === (line.type === 'manifest'),
          `a ${this.header!.format} bundle ends with ${v1 ? 'a manifest' : 'an export statement'}, not a ${line.type}`,
        );
        await this.receipts?.drain();
        this.finishChecks();
        this.verifyLastLine(line, n);
        this.stage = 'done';
        return;
      }
    }
  }

  private verifyCheckpoint(line: Extract<BundleLine, { type: 'checkpoint' }>): void {
    this.checkpoint = checkCheckpoint(
      line,
      this.header!,
      this.options.trusted,
      this.options.threshold ?? 1,
      this.mlDsa,
    );
    this.keys = new KeyEntries(this.checkpoint);
    for (const c of this.checks) c.start?.(this.header!, this.checkpoint);
    this.stage = 'keys';
  }

  private verifyKey(line: Extract<BundleLine, { type: 'key' }>, n: number): void {
    this.counts.keys++;
    try {
      for (const c of this.checks) c.key?.(line, n);
      this.keys!.check(line, n);
      this.counts.validKeys++;
      this.counts.proofs++;
    } catch (e) {
      this.findings.fail(asFailure(e, n));
    }
  }

  /**
   * A link line (§6): its inclusion proof, then the whole-bundle checks. It carries no receipt, so
   * neither signatures nor the filter binding (§5) apply: boundary entries lie outside the window.
   */
  private verifyLink(line: Extract<BundleLine, { type: 'link' }>, n: number): void {
    this.counts.links++;
    try {
      checkLink(line, n, this.checkpoint!);
      this.counts.proofs++;
      for (const c of this.checks) c.link?.(line, n);
    } catch (e) {
      this.failInOrder(asFailure(e, n, line.entry.id));
    }
  }

  private startReceipts(checker: ReceiptChecker): void {
    this.stage = 'receipts';
    this.context = {
      treeSize: this.checkpoint!.size,
      rootHash: toBase64(this.checkpoint!.rootHash),
      keys: this.keys!.entries(),
      publicKeys: this.keys!.publicKeys(),
      filters: this.header!.parsedFilters,
    };
    this.receipts = new ReceiptBatches(
      checker,
      this.context,
      (r) => this.absorb(r),
      () => this.options.onProgress?.(this.counts.validReceipts + this.counts.invalidReceipts),
      this.options.batchSize ?? 64,
      this.options.parallelism ?? 1,
      this.options.batchText,
    );
  }

  private async verifyReceipt(line: ReceiptLine, n: number): Promise<void> {
    const refused = this.receiptHooks(line, n);
    if (refused) this.receipts!.after(() => this.absorb(refused));
    else await this.receipts!.add(n, line);
  }

  /**
   * Counts a receipt line and runs the whole-bundle checks on it: the receipt's failure if one
   * refused it (it is then not checked further).
   */
  private receiptHooks(line: ReceiptHead, n: number): ReceiptCheckResult | undefined {
    this.counts.receipts++;
    try {
      for (const c of this.checks) c.receipt?.(line, n);
      return undefined;
    } catch (e) {
      return {
        line: n,
        id: line.entry.id,
        failure: asFailure(e, n, line.entry.id),
        signatures: 0,
        flags: [],
      };
    }
  }

  /** Records a failure found at a line after every receipt line before it (ReceiptBatches.after). */
  private failInOrder(f: Failure): void {
    if (this.receipts) this.receipts.after(() => this.findings.fail(f));
    else this.findings.fail(f);
  }

  private absorb(r: ReceiptCheckResult): void {
    if (r.failure) {
      this.counts.invalidReceipts++;
      this.findings.fail(r.failure);
    } else {
      this.counts.validReceipts++;
      this.counts.signatures += r.signatures;
      this.counts.proofs++;
      for (const f of r.flags) this.findings.flag(f);
    }
  }

  /** Whole-bundle checks, once every key and receipt line was read and checked. */
  private finishChecks(): void {
    for (const c of this.checks) for (const f of c.finish?.() ?? []) this.findings.fail(f);
  }

  private verifyLastLine(line: Extract<BundleLine, { type: 'manifest' | 'statement' }>, n: number): void {
    const tally = { keys: this.counts.keys, receipts: this.counts.receipts, digest: this.digest.digest() };
    if (line.type === 'manifest') {
      const failures = checkManifest(line, n, tally);
      for (const f of failures) this.findings.fail(f);
      this.statement = failures.length ? 'failed' : 'unsigned';
      if (this.options.requireSigned) {
        this.findings.fail({
          line: n,
          code: 'E_BUNDLE_UNSIGNED',
          message: `an unsigned export (${BUNDLE_FORMAT_V1}) and --require-signed was given`,
        });
      }
      return;
    }
    try {
      const { signedBy, failures } = checkStatement(
        line,
        n,
        this.header!,
        this.checkpoint!,
        tally,
        this.mlDsa,
      );
      for (const f of failures) this.findings.fail(f);
      this.statementSigners = signedBy;
      this.statement = failures.length ? 'failed' : 'verified';
    } catch (e) {
      this.statement = 'failed';
      this.findings.fail(asFailure(e, n));
    }
  }

  private notChecked(): string[] {
    const out: string[] = [];
    if (!this.stopped) return out;
    out.push(`anything after line ${this.stopped.line} (not read)`);
    if (!this.checkpoint) out.push('the checkpoint, and so every inclusion proof');
    if (this.stage !== 'done') {
      out.push(
        `the ${this.lastLineName()} (${this.header?.format === BUNDLE_FORMAT_V1 ? 'digest, counts' : 'signature, digest, counts, filters'})`,
      );
      out.push('whether every key line is used by a receipt');
    }
    return out;
  }

  private report(): BundleReport {
    const f = this.findings;
    const v1 = this.header?.format === BUNDLE_FORMAT_V1;
    const unusable = this.rawOrigin === undefined;
    // A window proven empty (links only, §6.4) is a result, not "nothing to verify".
    const done = this.stage === 'done';
    const summary = done ? this.completeness.result() : undefined;
    const empty = this.counts.receipts === 0 && done && !(summary && provesCompleteness(summary));
    let outcome: BundleOutcome;
    if (unusable) outcome = 'unusable';
    else if (f.failureCount > 0) outcome = 'invalid';
    else if (empty) outcome = 'nothing-to-verify';
    else outcome = v1 ? 'valid-unsigned' : 'valid';
    if (outcome === 'nothing-to-verify' && !this.options.allowEmpty) {
      f.fail({
        line: this.counts.lines,
        code: 'E_BUNDLE_EMPTY',
        message: 'the bundle holds no receipt: nothing to verify (allow it with --allow-empty)',
      });
    }
    const warnings = v1
      ? [
          `unsigned export (${BUNDLE_FORMAT_V1}): nothing proves who produced this bundle, or that its lines are the ones exported; only each key and receipt line was checked`,
        ]
      : [];
    return {
      outcome,
      valid:
        f.failureCount === 0 &&
        (outcome === 'valid' || outcome === 'valid-unsigned' || outcome === 'nothing-to-verify'),
      unusable,
      ...(this.header
        ? { format: this.header.format, filters: this.header.filters, createdAt: this.header.createdAt }
        : {}),
      ...(this.rawOrigin !== undefined ? { origin: this.rawOrigin } : {}),
      ...(this.checkpoint ? { checkpoint: describeCheckpoint(this.checkpoint) } : {}),
      statement: {
        status: this.statement,
        ...(this.statementSigners ? { signedBy: this.statementSigners } : {}),
      },
      counts: { ...this.counts },
      checks: this.checks.flatMap((c) => {
        const summary = c.summary?.();
        return summary === undefined ? [] : [{ name: c.name, summary }];
      }),
      ...(this.stopped ? { stopped: this.stopped } : {}),
      notChecked: this.notChecked(),
      notProven: (Object.keys(BUNDLE_LIMITS) as BundleLimit[])
        .filter((limit) => !this.checks.some((c) => c.proves?.includes(limit)))
        .map((limit) => BUNDLE_LIMITS[limit]),
      warnings,
      failures: f.failures,
      failureCount: f.failureCount,
      flags: f.flags,
      ...(summary ? { completeness: summary } : {}),
    };
  }
}

/**
 * Verifies a bundle given as its bytes (a file's chunks): the same checks, findings and report as
 * `verifyBundle` over `bundleLines` of the same bytes, failures listed in line order. With a
 * checker that has `checkFrames` (the worker pools, `inThreadChecker`), receipt lines are decoded,
 * parsed and checked by the checker, and this thread frames and hashes lines only.
 */
export function verifyBundleBytes(
  chunks: AsyncIterable<Uint8Array>,
  options: VerifyBundleBytesOptions,
): Promise<BundleReport> {
  // It hashes the lines it frames itself: a reader's digest has no place here, even if given.
  const { linesDigest: _, ...own } = options as VerifyBundleOptions & VerifyBundleBytesOptions;
  return new BundleVerification(own).runBytes(chunks, options.onBytes);
}

/** Verifies a bundle given as its lines (each without LF; the reader must have decoded UTF-8 strictly). */
export function verifyBundle(
  lines: AsyncIterable<string>,
  options: VerifyBundleOptions,
): Promise<BundleReport> {
  return new BundleVerification(options).run(lines);
}
