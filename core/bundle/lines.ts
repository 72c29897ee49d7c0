/**
 * Splits a byte stream into a bundle's LF-terminated lines, decoding UTF-8 strictly and bounding
 * line length (docs/bundle-format.md §1). Isomorphic: the CLI feeds it file chunks, the browser
 * verifier a `File`'s stream, so both read a bundle byte for byte the same way.
 */
import { createSha256, type Sha256Hasher } from '../crypto/hash.js';
import { CoreError } from '../errors.js';
import { MAX_BUNDLE_LINE_BYTES } from './format.js';

const LF = Uint8Array.of(10);

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The SHA-256 that `bundleLines` (its `digest`) and `verifyBundle` (its `linesDigest`) share. Once the
 * verifier has taken the digest (at the export statement), lines that still arrive are not hashed: a
 * line after the statement fails the bundle as such (E_BUNDLE_SYNTAX), not as a hash used twice.
 */
export function linesDigest(): Sha256Hasher {
  const hash = createSha256();
  let taken = false;
  const hasher: Sha256Hasher = {
    update(data) {
      if (!taken) hash.update(data);
      return hasher;
    },
    digest() {
      taken = true;
      return hash.digest();
    },
  };
  return hasher;
}

/** Strict UTF-8 (a BOM is kept as U+FEFF and refused by JSON.parse, never silently dropped from a hashed line). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Line `lineNo`'s bytes (without its LF) as text; E_BUNDLE_SYNTAX with `details.line` if not valid UTF-8. */
export function decodeBundleLine(bytes: Uint8Array, lineNo: number): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new CoreError('E_BUNDLE_SYNTAX', `line ${lineNo}: not valid UTF-8`, { line: lineNo });
  }
}

/**
 * Frames a byte stream into its LF-terminated lines, as bytes: yields each line without its LF,
 * the n-th being physical line n of the file. A yielded array may be a view of a chunk: it is
 * valid until the next line is asked for. `onBytes` hears of every chunk read (for progress).
 * Throws E_BUNDLE_SYNTAX for a line longer than MAX_BUNDLE_LINE_BYTES and E_BUNDLE_TRUNCATED for
 * a stream that does not end with LF, each with its line in `details.line`.
 */
export async function* bundleFrames(
  chunks: AsyncIterable<Uint8Array>,
  onBytes?: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingLength = 0;
  let lineNo = 0;
  for await (const chunk of chunks) {
    onBytes?.(chunk.length);
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, nl);
      const line = pendingLength > 0 ? concat([...pending, part], pendingLength + part.length) : part;
      pending = [];
      pendingLength = 0;
      lineNo++;
      yield line;
      start = nl + 1;
    }
    if (start < chunk.length) {
      // The source may reuse its chunk's memory for the next one: a copy (a Buffer's `slice` is a view).
      pending.push(new Uint8Array(chunk.subarray(start)));
      pendingLength += chunk.length - start;
      if (pendingLength > MAX_BUNDLE_LINE_BYTES) {
        throw new CoreError(
          'E_BUNDLE_SYNTAX',
          `line ${lineNo + 1}: longer than ${MAX_BUNDLE_LINE_BYTES} bytes`,
          {
            line: lineNo + 1,
          },
        );
      }
    }
  }
  if (pendingLength)
    throw new CoreError(
      'E_BUNDLE_TRUNCATED',
      `line ${lineNo + 1}: the bundle does not end with a line feed (truncated?)`,
      { line: lineNo + 1 },
    );
}

/**
 * `bundleFrames` decoded: yields each line without its LF as text (strict UTF-8); the n-th line
 * yielded is physical line n of the file, the number every error and report uses. Errors carry it
 * in `details.line`. `digest`, when given, is updated with each line's bytes and its LF just
 * before the next line is yielded: while line n is being handled it holds lines 1 to n − 1, and
 * the last line is never in it — the bytes an export statement signs (give it to `verifyBundle`
 * as `linesDigest`, made by `linesDigest()`; hashing the bytes read spares encoding each line's
 * text again).
 */
export async function* bundleLines(
  chunks: AsyncIterable<Uint8Array>,
  onBytes?: (n: number) => void,
  digest?: Sha256Hasher,
): AsyncGenerator<string> {
  let lineNo = 0;
  /** The last line yielded and its LF, hashed into `digest` only when another line follows it. */
  let unhashed: Uint8Array | undefined;
  for await (const line of bundleFrames(chunks, onBytes)) {
    if (unhashed) digest!.update(unhashed);
    yield decodeBundleLine(line, ++lineNo);
    if (digest) unhashed = concat([line, LF], line.length + 1);
  }
}
