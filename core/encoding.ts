/** Byte encodings used by every format: strict (non-canonical input is an error, never repaired). */
import { base64 } from '@scure/base';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { CoreError, type CoreErrorCode } from './errors.js';

export function toBase64(bytes: Uint8Array): string {
  return base64.encode(bytes);
}

/** Standard base64 with padding (RFC 4648 §4), canonical only: attacker-controlled input. */
export function fromBase64(text: string, code: CoreErrorCode, what: string): Uint8Array {
  const fast = decodeCanonicalBase64(text);
  if (fast) return fast;
  try {
    return base64.decode(text);
  } catch (e) {
    throw new CoreError(code, `${what} is not canonical base64 (${(e as Error).message})`);
  }
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUES = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) BASE64_VALUES[BASE64_ALPHABET.charCodeAt(i)] = i;

/**
 * One-pass decoder for the common case — canonical base64, which every receipt signature and key
 * is — about ten times faster than the general one. It returns undefined for anything it does not
 * accept (bad length, letter or padding, non-zero pad bits), and `fromBase64` then leaves the
 * verdict and the error message to @scure/base, so the set of accepted inputs and every message
 * stay @scure/base's (test/core/encoding.test.ts compares the two).
 */
export function decodeCanonicalBase64(text: string): Uint8Array | undefined {
  const n = text.length;
  if (n % 4 !== 0) return undefined;
  const pad = n === 0 || text.charCodeAt(n - 1) !== 0x3d ? 0 : text.charCodeAt(n - 2) !== 0x3d ? 1 : 2;
  const out = new Uint8Array((n / 4) * 3 - pad);
  const full = pad ? n - 4 : n;
  const values = BASE64_VALUES;
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 0xff) return undefined;
    const v0 = values[c0]!;
    const v1 = values[c1]!;
    const v2 = values[c2]!;
    const v3 = values[c3]!;
    if ((v0 | v1 | v2 | v3) < 0) return undefined;
    const v = (v0 << 18) | (v1 << 12) | (v2 << 6) | v3;
    out[o] = v >> 16;
    out[o + 1] = (v >> 8) & 0xff;
    out[o + 2] = v & 0xff;
    o += 3;
  }
  if (pad) {
    const c0 = text.charCodeAt(full);
    const c1 = text.charCodeAt(full + 1);
    const c2 = text.charCodeAt(full + 2);
    if ((c0 | c1 | c2) > 0xff) return undefined;
    const v0 = values[c0]!;
    const v1 = values[c1]!;
    const v2 = pad === 2 ? 0 : values[c2]!;
    if ((v0 | v1 | v2) < 0) return undefined;
    if (pad === 2) {
      if (v1 & 0x0f) return undefined; // non-zero pad bits
      out[o] = (v0 << 2) | (v1 >> 4);
    } else {
      if (v2 & 0x03) return undefined;
      out[o] = (v0 << 2) | (v1 >> 4);
      out[o + 1] = ((v1 & 0x0f) << 4) | (v2 >> 2);
    }
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

export function fromHex(text: string, code: CoreErrorCode, what: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) throw new CoreError(code, `${what} is not lowercase hex`);
  return hexToBytes(text);
}

const encoder = new TextEncoder();
const scratch = new Uint8Array(3 * 32_768);
/**
 * UTF-8 bytes of a string (lone surrogates as U+FFFD, as `TextEncoder` does), in an array of their own.
 * Encoded into a scratch buffer and copied out: V8's `encode` takes a slow path for two-byte strings (a
 * receipt, with its "—"), about twice the cost of `encodeInto` and a copy. A string that might not fit
 * (3 bytes per UTF-16 unit at most) is encoded directly.
 */
export function utf8(text: string): Uint8Array {
  if (text.length * 3 > scratch.length) return encoder.encode(text);
  return scratch.slice(0, encoder.encodeInto(text, scratch).written);
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Decodes UTF-8, rejecting invalid sequences (a BOM is kept, so callers can reject it). */
export function fromUtf8(bytes: Uint8Array, code: CoreErrorCode, what: string): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new CoreError(code, `${what} is not valid UTF-8`);
  }
}

/** Constant-time comparison for digests (no early exit on the first differing byte). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
