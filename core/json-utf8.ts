/**
 * JSON strings escaped byte-wise on their UTF-8 bytes: `utf8(JSON.stringify(text))` from `utf8(text)`,
 * without building the escaped text as a string. A `.mu` receipt holds a non-ASCII character (its
 * signature line's "—"), so V8 holds its text as a two-byte string, and escaping it with
 * JSON.stringify and then encoding the result as UTF-8 costs two passes over a second two-byte string
 * (~25 µs per 4.8 KB receipt here, docs/performance.md §4). The contract's receipt records and the
 * engine's args hash start from bytes they already have.
 *
 * Why it is the same bytes: for a well-formed string (no lone surrogate), JSON.stringify (ES2019+)
 * escapes exactly `"`, `\` and U+0000–U+001F — all ASCII, and an ASCII byte never occurs inside a
 * multi-byte UTF-8 sequence — and writes every other code point as itself, so escaping the UTF-8
 * bytes one byte at a time, as JSON.stringify escapes those characters, gives its UTF-8 encoding.
 * A lone surrogate is the exception: JSON.stringify writes `\udxxx`, UTF-8 encoding writes U+FFFD.
 * `isWellFormedUtf16` tells the two apart; callers fall back to the definition for such text.
 *
 * Portable (Uint8Array only): core runs in the browser too. test/core/json-utf8.test.ts and
 * test/engine/fast-paths.test.ts hold it to the definition.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** JSON.stringify's short escapes (ECMA-262 QuoteJSONString, table 73); other controls are `\u00xx`. */
const SHORT_ESCAPES: Readonly<Record<number, number>> = {
  8: 0x62 /* b */,
  9: 0x74 /* t */,
  10: 0x6e /* n */,
  12: 0x66 /* f */,
  13: 0x72 /* r */,
  [QUOTE]: QUOTE,
  [BACKSLASH]: BACKSLASH,
};
const HEX = '0123456789abcdef';

const needsEscape = (b: number): boolean => b < 0x20 || b === QUOTE || b === BACKSLASH;

/**
 * Offsets of the bytes JSON escapes (U+0000–U+001F, `"`, `\`), ascending. Four bytes at a time: a
 * word holds a byte < 0x20 exactly when `(w - 0x20202020) & ~w & 0x80808080` is non-zero, and a
 * byte equal to c exactly when the same test for "< 1" holds for `w ^ c·0x01010101` (the
 * "has less" and "has zero" tests of Bit Twiddling Hacks; exact as a yes/no for the word, so only
 * words that answer yes are looked at byte by byte). Byte order inside the word does not matter.
 */
function escapeOffsets(bytes: Uint8Array): number[] {
  const at: number[] = [];
  const n = bytes.length;
  const lead = Math.min(n, (4 - (bytes.byteOffset & 3)) & 3);
  let k = 0;
  for (; k < lead; k++) if (needsEscape(bytes[k]!)) at.push(k);
  const words = (n - k) >>> 2;
  if (words > 0) {
    const w32 = new Uint32Array(bytes.buffer, bytes.byteOffset + k, words);
    for (let j = 0; j < words; j++) {
      const w = w32[j]!;
      const q = w ^ 0x22222222;
      const s = w ^ 0x5c5c5c5c;
      if ((((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) {
        const base = k + (j << 2);
        for (let m = base; m < base + 4; m++) if (needsEscape(bytes[m]!)) at.push(m);
      }
    }
    k += words << 2;
  }
  for (; k < n; k++) if (needsEscape(bytes[k]!)) at.push(k);
  return at;
}

/**
 * `utf8(JSON.stringify(text))` without its quotes, from `bytes` = `utf8(text)` of a well-formed
 * `text` (see `isWellFormedUtf16`). Returns `bytes` itself when nothing needs escaping.
 */
export function escapeJsonUtf8(bytes: Uint8Array): Uint8Array {
  const at = escapeOffsets(bytes);
  if (at.length === 0) return bytes;
  let size = bytes.length;
  for (const p of at) size += SHORT_ESCAPES[bytes[p]!] === undefined ? 5 : 1;
  const out = new Uint8Array(size);
  let o = 0;
  let from = 0;
  for (const p of at) {
    out.set(bytes.subarray(from, p), o);
    o += p - from;
    const b = bytes[p]!;
    out[o++] = BACKSLASH;
    const short = SHORT_ESCAPES[b];
    if (short !== undefined) out[o++] = short;
    else {
      out[o++] = 0x75; /* u */
      out[o++] = 0x30;
      out[o++] = 0x30;
      out[o++] = HEX.charCodeAt(b >> 4);
      out[o++] = HEX.charCodeAt(b & 15);
    }
    from = p + 1;
  }
  out.set(bytes.subarray(from), o);
  return out;
}

/** U+FFFD in UTF-8: what encoding writes for a lone surrogate (and for U+FFFD itself). */
const REPLACEMENT = [0xef, 0xbf, 0xbd] as const;

function hasReplacement(bytes: Uint8Array): boolean {
  for (let p = bytes.indexOf(REPLACEMENT[0]); p >= 0; p = bytes.indexOf(REPLACEMENT[0], p + 1)) {
    if (bytes[p + 1] === REPLACEMENT[1] && bytes[p + 2] === REPLACEMENT[2]) return true;
  }
  return false;
}

/** A lone surrogate: with the `u` flag, paired surrogates are one (astral) code point, never Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * True when `text` has no lone surrogate, given `bytes` = `utf8(text)`. A lone surrogate encodes as
 * U+FFFD, so bytes without one prove the text well-formed without scanning the two-byte string; only
 * bytes with one pay the regex (String#isWellFormed would do, but the chaincode bundle targets the
 * Node 18 of Fabric's stock image, which lacks it).
 */
export function isWellFormedUtf16(text: string, bytes: Uint8Array): boolean {
  return !hasReplacement(bytes) || !LONE_SURROGATE.test(text);
}
