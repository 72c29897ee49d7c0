/**
 * Receipt lines checked from their bytes (docs/bundle-format.md §7 step 4): the main thread only
 * frames lines (bundleFrames), hashes them and keeps their order; a batch of whole lines travels
 * to a checker as one ArrayBuffer (transferred to a worker, not cloned, and given back with the
 * results), and the checker decodes, parses and checks each line. What comes back per line is what
 * the main thread's own checks need: whether the line was a receipt line, its leaf index and log
 * entry (duplicates, keys in use, completeness) and the receipt's check result. A line that is not
 * a well-formed receipt line is declined, and the main thread reads it the plain way, so every
 * error about it is the plain one by construction.
 */
import type { MlDsaBackend } from '../crypto/mldsa.js';
import type { ReceiptEntry } from './entries.js';
import { type BundleLine, MAX_BUNDLE_LINE_BYTES, parseBundleLine } from './format.js';
import { decodeBundleLine } from './lines.js';
import { checkReceiptLine, type ReceiptCheckContext, type ReceiptCheckResult } from './steps/receipts.js';

/** Whole lines, in order: line `firstLine + i` is `bytes[ends[i − 1] ?? 0, ends[i])` of `buffer`, without its LF. */
export interface FrameBatch {
  readonly firstLine: number;
  readonly buffer: ArrayBuffer;
  readonly ends: readonly number[];
}

/** A receipt line as checked: what the whole-bundle checks (BundleCheck.receipt) see of it, and its result. */
export interface CheckedFrame {
  readonly leafIndex: number;
  readonly entry: ReceiptEntry;
  readonly check: ReceiptCheckResult;
}

/** Per line: 0 when declined (not a well-formed receipt line: the main thread reads it), else the checked receipt. */
export type FrameResult = 0 | CheckedFrame;

/** A checker's answer to a batch: a result per line, and the batch's buffer given back. */
export interface FrameAnswer {
  readonly results: readonly FrameResult[];
  readonly buffer: ArrayBuffer;
}

/** The lines of a batch as views of its buffer. */
export function frameLines(bytes: Uint8Array, ends: readonly number[]): Uint8Array[] {
  let start = 0;
  return ends.map((end) => {
    const line = bytes.subarray(start, end);
    start = end;
    return line;
  });
}

/**
 * One line's bytes decoded and parsed as the verifier's plain steps do, then checked if it is a
 * receipt line (checkReceiptLine); anything else, or anything those steps refuse, is declined.
 */
export function checkReceiptFrame(
  bytes: Uint8Array,
  lineNo: number,
  context: ReceiptCheckContext,
  mlDsa?: MlDsaBackend,
): FrameResult {
  let line: BundleLine;
  try {
    const text = decodeBundleLine(bytes, lineNo);
    if (text.length > MAX_BUNDLE_LINE_BYTES) return 0;
    line = parseBundleLine(text, lineNo);
  } catch {
    return 0;
  }
  if (line.type !== 'receipt') return 0;
  return {
    leafIndex: line.leafIndex,
    entry: line.entry,
    check: checkReceiptLine(lineNo, line, context, mlDsa),
  };
}

/** Checks every line of a batch, in order (the worker side of `ReceiptChecker.checkFrames`). */
export function checkFrameBatch(
  batch: FrameBatch,
  context: ReceiptCheckContext,
  mlDsa?: MlDsaBackend,
): FrameResult[] {
  return frameLines(new Uint8Array(batch.buffer), batch.ends).map((bytes, i) =>
    checkReceiptFrame(bytes, batch.firstLine + i, context, mlDsa),
  );
}

/** Line bytes per batch (default): 64 of the bench's ~6 KB receipt lines fit; a longer line is a batch alone. */
export const BATCH_BYTES = 512 * 1024;

/**
 * Collects whole lines into batches of at most `maxLines` lines and `maxBytes` bytes (a single
 * longer line is a batch of its own), copying each line into the batch's buffer. Buffers that
 * come back (`reuse`) are used again, so a run allocates only the buffers in flight.
 */
export class FrameBatcher {
  private buffer: Uint8Array | undefined;
  private ends: number[] = [];
  private used = 0;
  private firstLine = 0;
  private readonly spare: ArrayBuffer[] = [];

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  get lines(): number {
    return this.ends.length;
  }

  /** Whether line bytes of this length join the batch being built (else `take` it first). */
  fits(length: number): boolean {
    return this.ends.length === 0 || this.used + length <= this.buffer!.length;
  }

  /** Adds line `lineNo`; true when the batch is full. */
  push(line: Uint8Array, lineNo: number): boolean {
    if (this.ends.length === 0) {
      this.buffer = this.allocate(Math.max(this.maxBytes, line.length));
      this.firstLine = lineNo;
    }
    this.buffer!.set(line, this.used);
    this.used += line.length;
    this.ends.push(this.used);
    return this.ends.length >= this.maxLines || this.used >= this.maxBytes;
  }

  /** The batch built so far (undefined if empty); the next line starts a new one. */
  take(): FrameBatch | undefined {
    if (this.ends.length === 0) return undefined;
    const batch = { firstLine: this.firstLine, buffer: this.buffer!.buffer as ArrayBuffer, ends: this.ends };
    this.buffer = undefined;
    this.ends = [];
    this.used = 0;
    return batch;
  }

  /** A buffer given back with a batch's answer. */
  reuse(buffer: ArrayBuffer): void {
    if (buffer.byteLength === this.maxBytes && this.spare.length < 8) this.spare.push(buffer);
  }

  private allocate(length: number): Uint8Array {
    if (length === this.maxBytes && this.spare.length > 0) return new Uint8Array(this.spare.pop()!);
    return new Uint8Array(length);
  }
}
