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
 * A lone surrogate is the exception: JSON.stringify writes `\udxxx`, UTF-8 encoding writes U+FFFD;
 * such text takes the definition.
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

/** U+FFFD in UTF-8: what encoding writes for a lone surrogate (and for U+FFFD itself). */
const REPLACEMENT_0 = 0xef;
const REPLACEMENT_1 = 0xbf;
const REPLACEMENT_2 = 0xbd;

/** What one pass over the bytes finds: where JSON escapes a byte, and whether U+FFFD occurs. */
interface Scan {
  /** Offsets of the bytes JSON escapes (U+0000–U+001F, `"`, `\`), ascending. */
  readonly at: number[];
  readonly replacement: boolean;
}

/**
 * One pass, four bytes at a time: a word holds a byte < 0x20 exactly when
 * `(w - 0x20202020) & ~w & 0x80808080` is non-zero, and a byte equal to c exactly when the same test
 * for "< 1" holds for `w ^ c·0x01010101` (the "has less" and "has zero" tests of Bit Twiddling Hacks:
 * exact as a yes/no for the word), so only words that answer yes are looked at byte by byte. Byte
 * order inside the word does not matter. Bytes before the first 4-byte boundary and after the last
 * are looked at one by one.
 */
function scan(bytes: Uint8Array): Scan {
  const at: number[] = [];
  let replacement = false;
  const n = bytes.length;
  const look = (m: number): void => {
    const b = bytes[m]!;
    if (needsEscape(b)) at.push(m);
    else if (b === REPLACEMENT_0 && bytes[m + 1] === REPLACEMENT_1 && bytes[m + 2] === REPLACEMENT_2)
      replacement = true;
  };
  const lead = Math.min(n, (4 - (bytes.byteOffset & 3)) & 3);
  let k = 0;
  for (; k < lead; k++) look(k);
  const words = (n - k) >>> 2;
  if (words > 0) {
    const w32 = new Uint32Array(bytes.buffer, bytes.byteOffset + k, words);
    for (let j = 0; j < words; j++) {
      const w = w32[j]!;
      const q = w ^ 0x22222222;
      const s = w ^ 0x5c5c5c5c;
      const e = w ^ 0xefefefef;
      const hit = ((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s);
      if ((hit | ((e - 0x01010101) & ~e)) & 0x80808080) {
        const base = k + (j << 2);
        for (let m = base; m < base + 4; m++) look(m);
      }
    }
    k += words << 2;
  }
  for (; k < n; k++) look(k);
  return { at, replacement };
}

/** A lone surrogate: with the `u` flag, paired surrogates are one (astral) code point, never Cs. */
const LONE_SURROGATE = /\p{Cs}/u;
const encoder = new TextEncoder();

/**
 * `utf8(JSON.stringify(text))` without its quotes, from `bytes` = `utf8(text)`: escaped byte-wise,
 * or, for a text with a lone surrogate (its bytes then hold U+FFFD; only then is the two-byte string
 * scanned, by a regex — String#isWellFormed would do, but the chaincode bundle targets the Node 18 of
 * Fabric's stock image), by the definition. Returns `bytes` itself when nothing needs escaping.
 */
export function jsonEscapedUtf8(text: string, bytes: Uint8Array): Uint8Array {
  const { at, replacement } = scan(bytes);
  if (replacement && LONE_SURROGATE.test(text)) return encoder.encode(JSON.stringify(text).slice(1, -1));
  if (at.length === 0) return bytes;
  let size = bytes.length;
  for (const p of at) size += SHORT_ESCAPES[bytes[p]!] === undefined ? 5 : 1;
  const out = new Uint8Array(size);
  const src = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  let o = 0;
  let from = 0;
  for (const p of at) {
    out.set(src.subarray(from, p), o);
    o += p - from;
    const b = src[p]!;
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
  out.set(src.subarray(from), o);
  return out;
}
