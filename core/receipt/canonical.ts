/** Canonical bytes (docs/receipt-format.md §2): checked, never repaired. */
import { CoreError } from '../errors.js';
import { fromUtf8, utf8 } from '../encoding.js';
import { MAX_LINE_BYTES } from './limits.js';

// C0 except LF, DEL, C1, bidi controls, LINE/PARAGRAPH SEPARATOR, BOM.
const FORBIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are exactly the ones refused.
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]/u;

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function notCanonical(what: string, text: string, index: number, role: string): CoreError {
  const line = lineOf(text, index);
  return new CoreError('E_RECEIPT_NOT_CANONICAL', `${role}: ${what} (line ${line})`, { line });
}

const SURROGATE = /[\ud800-\udfff]/;

/** True when `text` holds a UTF-16 surrogate (paired or not): only then can its UTF-8 round trip differ. */
export function hasSurrogate(text: string): boolean {
  return SURROGATE.test(text);
}

/**
 * Decodes and checks canonical form. `role` names the text in messages ("receipt", "mirror"…).
 * `source`, when given, is the string `bytes` was encoded from: without surrogates it is exactly
 * what strict decoding would return (a UTF-8 round trip only alters lone surrogates), so decoding
 * is skipped.
 */
export function decodeCanonical(bytes: Uint8Array, role: string, source?: string): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new CoreError('E_RECEIPT_NOT_CANONICAL', `${role}: starts with a byte order mark`, { line: 1 });
  }
  const text =
    source !== undefined && !hasSurrogate(source) ? source : fromUtf8(bytes, 'E_RECEIPT_ENCODING', role);
  checkCanonical(text, role);
  return text;
}

export function checkCanonical(text: string, role: string): void {
  if (text.length === 0) throw new CoreError('E_RECEIPT_SYNTAX', `${role}: empty`);
  const bad = FORBIDDEN.exec(text);
  if (bad) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    const what = bad[0] === '\r' ? 'carriage return (CRLF line endings?)' : `forbidden character U+${cp}`;
    throw notCanonical(what, text, bad.index, role);
  }
  if (!text.endsWith('\n')) throw notCanonical('does not end with a line feed', text, text.length, role);
  if (text.endsWith('\n\n')) throw notCanonical('ends with an empty line', text, text.length - 1, role);
  const trailing = /[^\S\n]\n/u.exec(text);
  if (trailing) throw notCanonical('line ends with white space', text, trailing.index, role);
  if (text.normalize('NFC') !== text) {
    const lines = text.split('\n');
    const i = lines.findIndex((l) => l.normalize('NFC') !== l);
    throw new CoreError('E_RECEIPT_NOT_CANONICAL', `${role}: not in Unicode NFC (line ${i + 1})`, {
      line: i + 1,
    });
  }
}

/** `checkCanonical` as a predicate. */
export function isCanonical(text: string): boolean {
  try {
    checkCanonical(text, 'text');
    return true;
  } catch {
    return false;
  }
}

/** Line length limit of receipt texts (signature lines are longer and bounded by their count). */
export function checkLineLengths(text: string, role: string): void {
  let start = 0;
  let line = 1;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    // At most 3 UTF-8 bytes per UTF-16 unit: only long lines need encoding to be measured.
    if ((end - start) * 3 > MAX_LINE_BYTES && utf8(text.slice(start, end)).length > MAX_LINE_BYTES) {
      throw new CoreError(
        'E_RECEIPT_TOO_LARGE',
        `${role}: line ${line} is longer than ${MAX_LINE_BYTES} bytes`,
        {
          line,
        },
      );
    }
    start = end + 1;
    line++;
  }
}
