/** Byte encodings used by every format: strict (non-canonical input is an error, never repaired). */
import { base64 } from '@scure/base';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { CoreError, type CoreErrorCode } from './errors.js';

export function toBase64(bytes: Uint8Array): string {
  return base64.encode(bytes);
}

/** Standard base64 with padding (RFC 4648 §4), canonical only: attacker-controlled input. */
export function fromBase64(text: string, code: CoreErrorCode, what: string): Uint8Array {
  try {
    return base64.decode(text);
  } catch (e) {
    throw new CoreError(code, `${what} is not canonical base64 (${(e as Error).message})`);
  }
}

export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

export function fromHex(text: string, code: CoreErrorCode, what: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) throw new CoreError(code, `${what} is not lowercase hex`);
  return hexToBytes(text);
}

const encoder = new TextEncoder();
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
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
