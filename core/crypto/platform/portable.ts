/**
 * `#crypto-backend` outside Node (browsers: the console, the offline verifier page): @noble/post-quantum
 * ML-DSA and @noble/hashes SHA-256, pure JavaScript.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { nobleBackend } from '../noble.js';
import { decodeCanonicalBase64 } from '../../encoding.js';
import type { Sha256Hasher } from './types.js';

export const mlDsa = nobleBackend;

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

const encoder = new TextEncoder();

export function createSha256(): Sha256Hasher {
  const h = nobleSha256.create();
  const hasher: Sha256Hasher = {
    update(data) {
      h.update(typeof data === 'string' ? encoder.encode(data) : data);
      return hasher;
    },
    digest: () => h.digest(),
  };
  return hasher;
}

/** Canonical base64 in JavaScript (the one-pass decoder of core/encoding.ts). */
export const decodeBase64Canonical: (text: string) => Uint8Array | undefined = decodeCanonicalBase64;

/** `writeAscii` of `CryptoPlatform`, in JavaScript. */
export function writeAscii(text: string, out: Uint8Array, at: number): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0x7f) return undefined;
    out[at + i] = unit;
  }
  return text;
}

export function indexOfByte(bytes: Uint8Array, byte: number, from: number): number {
  return bytes.indexOf(byte, from);
}

const fatal = new TextDecoder('utf-8', { fatal: true });

/** `isUtf8` of `CryptoPlatform`: a fatal decode, its text dropped. */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
