/**
 * Reading, writing, signing and verifying `.mu` receipts: the orchestration of
 * docs/receipt-format.md (§4.3 reading order, §6 signatures).
 */
import { sha384, sha512 } from '@noble/hashes/sha2.js';
import { sha3_256, sha3_512 } from '@noble/hashes/sha3.js';
import { CoreError } from '../errors.js';
import { equalBytes, fromUtf8, toHex, utf8 } from '../encoding.js';
import { sha256 } from '../crypto/hash.js';
import { indexOfByte, writeAscii } from '../crypto/bytes.js';
import { ML_DSA } from '../crypto/mldsa.js';
import { platformMlDsa } from '../crypto/backend.js';
import { type PrivateKey, type PublicKey, signBytes, verifyBytes, verifyBytesAsync } from '../crypto/keys.js';
import type { MlDsaBackend } from '../crypto/mldsa.js';
import { checkCanonical, checkLineLengths, decodeCanonical, hasSurrogate, isCanonical } from './canonical.js';
import { parseDocument, type ReceiptDocument, serializeDocument } from './document.js';
import { checkFields } from './fields.js';
import { MAX_FILE_BYTES, MAX_RECEIPT_TEXT_BYTES } from './limits.js';
import { mirrorWithSelfCheck } from './mirror.js';
import {
  formatSignatureLine,
  parseSignatureLines,
  type ReceiptSignature,
  readWellFormedSignatures,
  SIGNATURE_PREFIX,
} from './signatures.js';

/** ML-DSA context string of receipt signatures (§6). */
export const RECEIPT_CONTEXT = utf8('torgo/receipt/v1');

export interface Receipt {
  /** The whole `.mu` file. */
  readonly bytes: Uint8Array;
  /** The receipt text (the mirrored document): exactly the signed bytes, as a string. */
  readonly text: string;
  /** The un-mirrored source document text. */
  readonly sourceText: string;
  readonly document: ReceiptDocument;
  readonly signatures: readonly ReceiptSignature[];
  /** `sha256:<hex>` over `bytes` (§5). */
  readonly digest: string;
}

export function receiptDigest(bytes: Uint8Array): string {
  return `sha256:${toHex(sha256(bytes))}`;
}

/** Splits a canonical `.mu` text into receipt text and signature lines (§6). */
function splitSignatureBlock(file: string): { text: string; signatureLines: string[]; firstLine: number } {
  const lines = file.split('\n');
  lines.pop();
  const first = lines.findIndex((l) => l.startsWith(SIGNATURE_PREFIX));
  if (first < 0) return { text: file, signatureLines: [], firstLine: 0 };
  if (first < 2 || lines[first - 1] !== '') {
    throw new CoreError(
      'E_RECEIPT_SYNTAX',
      `line ${first + 1}: a line starting with "— " must be in the signature block, after one empty line`,
      {
        line: first + 1,
      },
    );
  }
  return {
    text: `${lines.slice(0, first - 1).join('\n')}\n`,
    signatureLines: lines.slice(first),
    firstLine: first + 1,
  };
}

/** What the first steps of reading a `.mu` file give (§4.3 step 1, §6): the receipt text and the signatures. */
interface ReceiptHead {
  readonly text: string;
  readonly signatures: ReceiptSignature[];
}

/**
 * The first steps of reading a `.mu` file, as specified: size, strict UTF-8, canonical form of the whole
 * file, the signature block split off, the receipt text's size, the signature lines parsed. Throws the
 * first coded error.
 */
export function readHead(input: Uint8Array | string, bytes: Uint8Array): ReceiptHead {
  if (bytes.length > MAX_FILE_BYTES) {
    throw new CoreError('E_RECEIPT_TOO_LARGE', `receipt is ${bytes.length} bytes; at most ${MAX_FILE_BYTES}`);
  }
  const file = decodeCanonical(bytes, 'receipt', typeof input === 'string' ? input : undefined);
  const { text, signatureLines, firstLine } = splitSignatureBlock(file);
  if (textTooLarge(text)) {
    throw new CoreError('E_RECEIPT_TOO_LARGE', `receipt text is larger than ${MAX_RECEIPT_TEXT_BYTES} bytes`);
  }
  return { text, signatures: parseSignatureLines(signatureLines, firstLine) };
}

function textTooLarge(text: string): boolean {
  // At most 3 UTF-8 bytes per UTF-16 unit: only long texts need encoding to be measured.
  return text.length * 3 > MAX_RECEIPT_TEXT_BYTES && utf8(text).length > MAX_RECEIPT_TEXT_BYTES;
}

/** The LF ending the signature block's empty line, then the first signature line's "— " (§6). */
const SIGNATURE_BLOCK_START = `\n${SIGNATURE_PREFIX}`;
const PREFIX_BYTES = utf8(SIGNATURE_PREFIX);

/** A `.mu` file cut where its signature block would start: the receipt text, and each signature line after its "— ". */
interface FastSplit {
  readonly text: string;
  readonly rests: readonly string[];
}

/**
 * What the fast path gives: `readHead`'s result, the file's bytes (a string's UTF-8, made on the way), and
 * for a signed string the receipt text's UTF-8 (a copy of its own), the signed message. (Bytes input keeps
 * none: copying it out and keeping it on the receipt measured no cheaper than encoding the short text again
 * at verification.)
 */
export interface WellFormedFile {
  readonly head: ReceiptHead;
  readonly bytes: Uint8Array;
  readonly textBytes: Uint8Array | undefined;
}

/**
 * `readHead`'s result, found without scanning the signature lines' ~4.4 KB of base64 with the canonical-form
 * regexes, decoding them as UTF-8 or, for a string, encoding them with `TextEncoder` — or undefined whenever
 * that cannot be shown, and then `readHead` runs and gives the verdict. Why it is `readHead`'s result when it
 * returns one: the file is the receipt text, an empty line and signature lines "— <64 hex> <canonical
 * base64>", in order, at most MAX_SIGNATURES (`readWellFormedSignatures`). Those lines hold only "—" (U+2014:
 * NFC, combining class 0, composes with nothing), space, hex and base64 letters, and none ends in white
 * space, so the whole file is valid UTF-8, free of surrogates, and canonical exactly when the receipt text is
 * (an LF is a normalisation boundary, and the text comes first, so a fault's line number is the same); the
 * split is `splitSignatureBlock`'s, since the block starts at the first "— " line, which follows an empty
 * line; and the signatures are `parseSignatureLines'`. A string's UTF-8 is then its text's UTF-8, an LF, and
 * per line "— "'s three bytes and a space, the line's ASCII and an LF (`encodeWellFormed`). Test:
 * test/core/receipt/fast-parse.test.ts.
 */
export function readWellFormedFile(input: Uint8Array | string): WellFormedFile | undefined {
  if (typeof input === 'string') return readWellFormedString(input);
  if (input.length > MAX_FILE_BYTES) return undefined;
  const split = splitBytes(input);
  if (!split || textTooLarge(split.text) || !isCanonical(split.text)) return undefined;
  const signatures = readWellFormedSignatures(split.rests);
  if (!signatures) return undefined;
  const head = { text: split.text, signatures };
  return { head, bytes: input, textBytes: undefined };
}

function readWellFormedString(file: string): WellFormedFile | undefined {
  const split = splitText(file);
  if (!split) return undefined;
  const encoded = encodeWellFormed(split);
  if (!encoded || encoded.textBytes.length > MAX_RECEIPT_TEXT_BYTES || !isCanonical(split.text))
    return undefined;
  const signatures = readWellFormedSignatures(encoded.rests);
  if (!signatures) return undefined;
  const head = { text: split.text, signatures };
  return { head, bytes: encoded.bytes, textBytes: signatures.length ? encoded.textBytes : undefined };
}

const encoder = new TextEncoder();
/** Where `encodeWellFormed` assembles a file: the largest one, which is also 3 bytes per unit of the longest text. */
const FILE_SCRATCH = new Uint8Array(Math.max(MAX_FILE_BYTES, 3 * MAX_RECEIPT_TEXT_BYTES));

/**
 * The UTF-8 of a split string file of at most MAX_FILE_BYTES (else undefined): its text's (`TextEncoder`,
 * a short string), then the signature lines written as ASCII (`writeAscii`) — undefined if one is not
 * ASCII. Assembled in one scratch array, then copied out: the file's bytes and the text's, each an array of
 * its own. `rests` are the lines as read back from the bytes: equal strings, flat, for the base64 decoder.
 */
function encodeWellFormed({
  text,
  rests,
}: FastSplit): { bytes: Uint8Array; textBytes: Uint8Array; rests: string[] } | undefined {
  // A text longer than this in UTF-16 units is longer in UTF-8 bytes too: too large (`readHead` says so).
  if (text.length > MAX_RECEIPT_TEXT_BYTES) return undefined;
  const scratch = FILE_SCRATCH;
  const n = encoder.encodeInto(text, scratch).written;
  let length = n + 1;
  for (const rest of rests) length += PREFIX_BYTES.length + rest.length + 1;
  if (rests.length === 0) length = n;
  if (length > MAX_FILE_BYTES) return undefined;
  let at = n;
  if (rests.length) scratch[at++] = 0x0a;
  const flat: string[] = [];
  for (const rest of rests) {
    scratch.set(PREFIX_BYTES, at);
    at += PREFIX_BYTES.length;
    const copy = writeAscii(rest, scratch, at);
    if (copy === undefined) return undefined;
    flat.push(copy);
    at += rest.length;
    scratch[at++] = 0x0a;
  }
  const bytes = scratch.slice(0, length);
  return { bytes, textBytes: rests.length ? scratch.slice(0, n) : bytes, rests: flat };
}

function splitText(file: string): FastSplit | undefined {
  if (file.startsWith(SIGNATURE_PREFIX) || !file.endsWith('\n')) return undefined;
  const at = file.indexOf(SIGNATURE_BLOCK_START);
  const text = at < 0 ? file : file.slice(0, at);
  if (hasSurrogate(text)) return undefined;
  if (at < 0) return { text, rests: [] };
  if (file.charCodeAt(at - 1) !== 0x0a) return undefined;
  const rests: string[] = [];
  for (let start = at + 1; start < file.length; ) {
    if (!file.startsWith(SIGNATURE_PREFIX, start)) return undefined;
    const end = file.indexOf('\n', start);
    rests.push(file.slice(start + SIGNATURE_PREFIX.length, end));
    start = end + 1;
  }
  return { text, rests };
}

/** Where the receipt text of well-formed bytes ends: at the LF before the first "— " line, or at the end. */
function textEnd(bytes: Uint8Array): number {
  let at = indexOfByte(bytes, 0x0a, 0);
  while (at >= 0 && !prefixAt(bytes, at + 1)) at = indexOfByte(bytes, 0x0a, at + 1);
  return at < 0 ? bytes.length : at;
}

function splitBytes(bytes: Uint8Array): FastSplit | undefined {
  const n = bytes.length;
  if (n === 0 || bytes[n - 1] !== 0x0a || prefixAt(bytes, 0)) return undefined;
  const at = textEnd(bytes);
  const text = strictUtf8(bytes.subarray(0, at));
  if (text === undefined) return undefined;
  if (at === n) return { text, rests: [] };
  if (bytes[at - 1] !== 0x0a) return undefined;
  const rests: string[] = [];
  for (let start = at + 1; start < n; ) {
    if (!prefixAt(bytes, start)) return undefined;
    const end = indexOfByte(bytes, 0x0a, start);
    const rest = strictUtf8(bytes.subarray(start + PREFIX_BYTES.length, end));
    if (rest === undefined) return undefined;
    rests.push(rest);
    start = end + 1;
  }
  return { text, rests };
}

/** True when a line starting with "— " starts at `i`. */
function prefixAt(bytes: Uint8Array, i: number): boolean {
  for (let k = 0; k < PREFIX_BYTES.length; k++) if (bytes[i + k] !== PREFIX_BYTES[k]) return false;
  return true;
}

function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return fromUtf8(bytes, 'E_RECEIPT_ENCODING', 'receipt');
  } catch {
    return undefined;
  }
}

/** Un-mirrors and self-checks a receipt text; returns the source document text (§4.3 steps 2–3). */
function readReceiptText(text: string): string {
  checkLineLengths(text, 'receipt');
  const { mirrored: source, unstableLine: line } = mirrorWithSelfCheck(text);
  checkCanonical(source, 'un-mirrored document');
  if (line) {
    throw new CoreError(
      'E_RECEIPT_MIRROR_MISMATCH',
      `line ${line}: the mirror of the un-mirrored line differs from the receipt`,
      {
        line,
      },
    );
  }
  return source;
}

/**
 * Parses a `.mu` receipt (attacker-controlled): size, encoding, canonical form, mirror, document, signature
 * syntax. Same receipt, same error as `parseReceiptPlain`; faster where the file is well formed.
 */
export function parseReceipt(input: Uint8Array | string): Receipt {
  const fast = readWellFormedFile(input);
  if (!fast) return parseReceiptPlain(input);
  const receipt = readReceipt(fast.bytes, fast.head);
  if (fast.textBytes) {
    Object.defineProperty(receipt, SIGNED_TEXT, { value: { text: receipt.text, bytes: fast.textBytes } });
  }
  return receipt;
}

/**
 * The UTF-8 of a receipt's text, kept by `parseReceipt` where it has it for free (a copy: `bytes` is the
 * caller's), as a non-enumerable property of the receipt: a spread or a structured clone drops it, and
 * `deepStrictEqual` ignores it. Not a WeakMap: V8's scavenger treats the values of a WeakMap that lives in
 * the old generation as strong, so every receipt's entry (its bytes, and its text, a slice that holds the
 * whole `.mu` string) survived the scavenges of its lifetime and was promoted. In `torgo verify`'s workers
 * that grew each young generation to 128 MiB and peak RSS by ~200 MiB (docs/performance.md §13).
 */
const SIGNED_TEXT = Symbol('signedText');
interface KeptText {
  readonly [SIGNED_TEXT]?: { readonly text: string; readonly bytes: Uint8Array };
}

/**
 * `utf8(receipt.text)`, the signed message (§6): kept from parsing while `text` is still the parsed one.
 * The array may be the one later verifications of this receipt use: read it, never write to it.
 */
export function signedBytes(receipt: Receipt): Uint8Array {
  const known = (receipt as KeptText)[SIGNED_TEXT];
  return known && known.text === receipt.text ? known.bytes : utf8(receipt.text);
}

/**
 * `signedBytes(receipt)`, kept on the receipt as `parseReceipt` keeps it, for a receipt that has none: a parse
 * that crossed a structured clone (a verification worker's) lost it, and its later verifications (the
 * contract's) would encode the text again. The same bytes `signedBytes` gives: read them, never write to them.
 */
export function keepSignedBytes(receipt: Receipt): Uint8Array {
  const bytes = signedBytes(receipt);
  if (!Object.hasOwn(receipt, SIGNED_TEXT) && Object.isExtensible(receipt)) {
    Object.defineProperty(receipt, SIGNED_TEXT, { value: { text: receipt.text, bytes } });
  }
  return bytes;
}

/** `parseReceipt` with every step as specified (`readHead`): the definition its fast path is tested against. */
export function parseReceiptPlain(input: Uint8Array | string): Receipt {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  return readReceipt(bytes, readHead(input, bytes));
}

/** The rest of the reading (§4.3 steps 2–4): un-mirror, self-check, the document. */
function readReceipt(bytes: Uint8Array, { text, signatures }: ReceiptHead): Receipt {
  const sourceText = readReceiptText(text);
  const document = parseDocument(sourceText);
  return { bytes, text, sourceText, document, signatures, digest: receiptDigest(bytes) };
}

/** Writes the unsigned `.mu` receipt text of a document, refusing documents that are not mirror-stable. */
export function createReceiptText(doc: ReceiptDocument): string {
  checkFields(doc.fields);
  const sourceText = serializeDocument(doc);
  checkCanonical(sourceText, 'document');
  parseDocument(sourceText);
  checkLineLengths(sourceText, 'document');
  const { mirrored: text, unstableLine: line } = mirrorWithSelfCheck(sourceText);
  checkCanonical(text, 'mirror');
  if (line) {
    throw new CoreError(
      'E_RECEIPT_MIRROR_MISMATCH',
      `document line ${line} is not mirror-stable ("${sourceText.split('\n')[line - 1]}"): its reversal reads back differently; reword the line end`,
      { line },
    );
  }
  if (text.split('\n').some((l) => l.startsWith(SIGNATURE_PREFIX))) {
    throw new CoreError(
      'E_RECEIPT_SYNTAX',
      'a mirrored line starts with "— ", which is reserved for signatures; reword the line end',
    );
  }
  if (utf8(text).length > MAX_RECEIPT_TEXT_BYTES) {
    throw new CoreError('E_RECEIPT_TOO_LARGE', `receipt text is larger than ${MAX_RECEIPT_TEXT_BYTES} bytes`);
  }
  return text;
}

/** The `.mu` file for a receipt text and a set of signatures (sorted by key id, §6). */
export function assembleReceipt(text: string, signatures: readonly ReceiptSignature[]): string {
  if (signatures.length === 0) return text;
  const sorted = [...signatures].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
  return `${text}\n${sorted.map(formatSignatureLine).join('\n')}\n`;
}

/** Adds (or replaces) the signature of `key` on a receipt; returns the new `.mu` file text. */
export function signReceipt(
  receipt: Receipt,
  key: PrivateKey,
  options?: { deterministic?: boolean },
): string {
  const signature = signBytes(key, signedBytes(receipt), RECEIPT_CONTEXT, options);
  const others = receipt.signatures.filter((s) => s.keyId !== key.keyId);
  return assembleReceipt(receipt.text, [...others, { keyId: key.keyId, signature }]);
}

export interface VerifiedSignature {
  readonly keyId: string;
  readonly alg: PublicKey['alg'];
}

/**
 * Verifies every signature of a receipt against keys found by `resolveKey`. All must verify:
 * a receipt carrying one bad signature is not valid, whoever else signed it.
 */
export function verifyReceiptSignatures(
  receipt: Receipt,
  resolveKey: (keyId: string) => PublicKey | undefined,
  mlDsa: MlDsaBackend = platformMlDsa,
): VerifiedSignature[] {
  if (receipt.signatures.length === 0) throw new CoreError('E_SIGNATURE_MISSING', 'receipt is not signed');
  const message = signedBytes(receipt);
  return receipt.signatures.map((s) => {
    const key = signerKey(s, resolveKey);
    if (!verifyBytes(key, message, s.signature, RECEIPT_CONTEXT, mlDsa)) throw signatureInvalid(s);
    return { keyId: s.keyId, alg: key.alg };
  });
}

/**
 * `verifyReceiptSignatures` with the signature arithmetic on another thread when the backend can
 * (`verifyBytesAsync`): the same checks in the same order, so the same result and the same error.
 */
export async function verifyReceiptSignaturesAsync(
  receipt: Receipt,
  resolveKey: (keyId: string) => PublicKey | undefined,
  mlDsa: MlDsaBackend = platformMlDsa,
): Promise<VerifiedSignature[]> {
  if (receipt.signatures.length === 0) throw new CoreError('E_SIGNATURE_MISSING', 'receipt is not signed');
  const message = signedBytes(receipt);
  const verified: VerifiedSignature[] = [];
  for (const s of receipt.signatures) {
    const key = signerKey(s, resolveKey);
    if (!(await verifyBytesAsync(key, message, s.signature, RECEIPT_CONTEXT, mlDsa)))
      throw signatureInvalid(s);
    verified.push({ keyId: s.keyId, alg: key.alg });
  }
  return verified;
}

/** The key a signature claims, checked to be that key and of the signature's parameter set. */
function signerKey(s: ReceiptSignature, resolveKey: (keyId: string) => PublicKey | undefined): PublicKey {
  const key = resolveKey(s.keyId);
  if (!key) throw new CoreError('E_KEY_UNKNOWN', `no public key for key id ${s.keyId}`, { keyId: s.keyId });
  if (key.keyId !== s.keyId)
    throw new CoreError('E_KEY_UNKNOWN', `resolved key does not have id ${s.keyId}`, { keyId: s.keyId });
  if (ML_DSA[key.alg].signatureLength !== s.signature.length) {
    throw new CoreError('E_KEY_ALGORITHM', `signature by ${s.keyId} is not an ${key.alg} signature`, {
      keyId: s.keyId,
    });
  }
  return key;
}

function signatureInvalid(s: ReceiptSignature): CoreError {
  return new CoreError('E_SIGNATURE_INVALID', `signature by ${s.keyId} does not verify`, { keyId: s.keyId });
}

const PAYLOAD_HASHES = { sha256, sha384, sha512, 'sha3-256': sha3_256, 'sha3-512': sha3_512 } as const;

/** Checks a payload against the receipt's `payload_digests`: it must match one of them. */
export function verifyPayload(receipt: Receipt, payload: Uint8Array): string {
  for (const d of receipt.document.fields.payloadDigests) {
    const [alg, hex] = d.split(':') as [keyof typeof PAYLOAD_HASHES, string];
    if (equalBytes(utf8(toHex(PAYLOAD_HASHES[alg](payload))), utf8(hex))) return d;
  }
  throw new CoreError(
    'E_RECEIPT_DIGEST_MISMATCH',
    "the payload matches none of the receipt's payload_digests",
  );
}

/** Parses and verifies a `.mu` receipt in one step (what `torgo receipt verify` does). */
export function verifyReceipt(
  input: Uint8Array | string,
  resolveKey: (keyId: string) => PublicKey | undefined,
  mlDsa: MlDsaBackend = platformMlDsa,
): { receipt: Receipt; signers: VerifiedSignature[] } {
  const receipt = parseReceipt(input);
  return { receipt, signers: verifyReceiptSignatures(receipt, resolveKey, mlDsa) };
}
