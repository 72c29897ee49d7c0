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
import { indexOfByte, isUtf8 } from '../crypto/bytes.js';
import type { MlDsaBackend } from '../crypto/mldsa.js';
import type { ReceiptEntry } from './entries.js';
import { type BundleLine, MAX_BUNDLE_LINE_BYTES, parseBundleLine, type ReceiptLine } from './format.js';
import { decodeBundleLine } from './lines.js';
import {
  checkReceipt,
  checkReceiptLine,
  type ReceiptCheckContext,
  type ReceiptCheckResult,
} from './steps/receipts.js';

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

/** A receipt line read from its bytes: the line without its `mu`, and the `.mu` file's UTF-8. */
export interface ReceiptFrame {
  readonly line: Omit<ReceiptLine, 'mu'>;
  readonly mu: Uint8Array;
}

/** `,"mu":"`: where the exporter's receipt line has its last member, the `.mu` file as a JSON string. */
const MU_MEMBER = Uint8Array.from(',"mu":"', (c) => c.charCodeAt(0));
const utf8Prefix = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A receipt line as the exporter writes it — `{…,"mu":"<V>"}`, V a JSON string whose only escapes are
 * `\n`, `\"` and `\\` — read without building the `.mu` file as a string: or undefined whenever that
 * does not hold (then `checkReceiptFrame` reads the line the plain way). Why what it returns is the plain
 * reading's (`parseBundleLine(decodeBundleLine(bytes))`, its `mu` encoded as UTF-8) for a line that is
 * JSON: the line is valid UTF-8 (`isUtf8`), so decoding its prefix A (up to and with `"mu":`, an ASCII
 * boundary) and V apart gives the line's text; V is one string token (no raw `"` inside, escapes as above;
 * raw control characters: `readMuString`) that ends right before the line's final `}`. JSON's grammar
 * reads A the same whatever value follows it, so the line parses exactly when A + `""}` does, to the same
 * object but for that member's value; A + `""}` parsing at all means its last `}` closed the top-level
 * object, so V is a top-level member's value, and its key is "mu" (A ends with `"mu":`; a key that only
 * ends with those bytes, such as `"x\"mu"`, is another field, refused by the shape check, and JSON.parse
 * keeps the last of repeated keys, V). V unescaped is then the UTF-8 of the line's `mu` string. Test:
 * test/core/bundle/frames.test.ts.
 */
export function readReceiptFrame(bytes: Uint8Array, lineNo: number): ReceiptFrame | undefined {
  const n = bytes.length;
  if (n > MAX_BUNDLE_LINE_BYTES || bytes[n - 1] !== 0x7d || bytes[n - 2] !== 0x22) return undefined;
  const at = memberAt(bytes);
  if (at < 0 || !isUtf8(bytes)) return undefined;
  const valueStart = at + MU_MEMBER.length;
  const mu = readMuString(bytes, valueStart, n - 2);
  if (!mu) return undefined;
  let line: BundleLine;
  try {
    line = parseBundleLine(`${utf8Prefix.decode(bytes.subarray(0, valueStart - 1))}""}`, lineNo);
  } catch {
    return undefined;
  }
  if (line.type !== 'receipt' || line.mu !== '') return undefined;
  const { mu: _, ...head } = line;
  return { line: head, mu };
}

/** Where `,"mu":"` first occurs in `bytes`, or −1. */
function memberAt(bytes: Uint8Array): number {
  for (let i = indexOfByte(bytes, 0x6d, 0); i >= 0; i = indexOfByte(bytes, 0x6d, i + 1)) {
    const start = i - 2;
    if (start >= 0 && matchesAt(bytes, MU_MEMBER, start)) return start;
  }
  return -1;
}

function matchesAt(bytes: Uint8Array, pattern: Uint8Array, at: number): boolean {
  for (let k = 0; k < pattern.length; k++) if (bytes[at + k] !== pattern[k]) return false;
  return true;
}

/**
 * Where `readMuString` writes before copying out: a line is at most MAX_BUNDLE_LINE_BYTES. Made at the
 * first read, so a process (or a browser page) that imports this module and never reads a frame does not
 * hold the 1 MiB.
 */
let muScratch: Uint8Array | undefined;

/**
 * The bytes of a JSON string's content `bytes[from, end)` (`bytes[end]` must be a `"`) with each escape
 * written as its byte, when its only escapes are `\n`, `\"` and `\\` and no raw `"` is inside (else
 * undefined); an array of its own. Found with the platform's byte search (a JavaScript loop over the
 * ~4.4 KB of a signature line costs ~15 µs): raw control characters are not looked for — they make the
 * line not JSON, and give bytes that `parseReceipt` refuses (a canonical `.mu` file holds none but LF,
 * and a line holds no LF), so such a line is read the plain way (`checkReceiptFrame`).
 */
export function readMuString(bytes: Uint8Array, from: number, end: number): Uint8Array | undefined {
  muScratch ??= new Uint8Array(MAX_BUNDLE_LINE_BYTES);
  const out = muScratch;
  let w = 0;
  let i = from;
  let quote = indexOfByte(bytes, 0x22, from);
  for (;;) {
    let backslash = indexOfByte(bytes, 0x5c, i);
    if (backslash < 0 || backslash > end) backslash = end;
    if (quote < backslash) return undefined;
    out.set(bytes.subarray(i, backslash), w);
    w += backslash - i;
    if (backslash === end) return out.slice(0, w);
    let b = bytes[backslash + 1]!;
    if (backslash + 1 >= end) return undefined;
    if (b === 0x6e) b = 0x0a;
    else if (b !== 0x22 && b !== 0x5c) return undefined;
    out[w++] = b;
    i = backslash + 2;
    if (quote < i) quote = indexOfByte(bytes, 0x22, i);
  }
}

/**
 * One line's bytes decoded and parsed as the verifier's plain steps do, then checked if it is a
 * receipt line (checkReceiptLine); anything else, or anything those steps refuse, is declined. A
 * line `readReceiptFrame` reads is checked from its `.mu` bytes (`parseReceipt` gives the same
 * receipt for a string and its UTF-8); if that check fails, the line is checked again the plain
 * way, so every failure, its code and message, is the plain one by construction.
 */
export function checkReceiptFrame(
  bytes: Uint8Array,
  lineNo: number,
  context: ReceiptCheckContext,
  mlDsa?: MlDsaBackend,
): FrameResult {
  const frame = readReceiptFrame(bytes, lineNo);
  if (frame) {
    const check = checkReceipt(lineNo, frame.line, frame.mu, context, mlDsa);
    if (!check.failure) return { leafIndex: frame.line.leafIndex, entry: frame.line.entry, check };
  }
  return checkReceiptFramePlain(bytes, lineNo, context, mlDsa);
}

/** `checkReceiptFrame` with every step as the plain reading does it: the definition it is tested against. */
export function checkReceiptFramePlain(
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
