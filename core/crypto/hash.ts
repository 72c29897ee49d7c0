/**
 * SHA-256 for the hot paths of `core` (receipt digests, key ids, log hashing). Portable noble by
 * default; a Node entry point that calls `preferNativeMlDsa()` (native.ts) gets OpenSSL's, about
 * seven times faster on a receipt. Both compute the same function (FIPS 180-4), so which one runs
 * changes no result.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export type Sha256 = (data: Uint8Array) => Uint8Array;

/** An incremental SHA-256, for data that arrives in pieces (a bundle, line by line). */
export interface Sha256Hasher {
  /** Strings are hashed as their UTF-8 bytes. */
  update(data: Uint8Array | string): Sha256Hasher;
  digest(): Uint8Array;
}

let current: Sha256 = nobleSha256;
const encoder = new TextEncoder();
function nobleHasher(): Sha256Hasher {
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

let currentHasher: () => Sha256Hasher = nobleHasher;

export function sha256(data: Uint8Array): Uint8Array {
  return current(data);
}

export function createSha256(): Sha256Hasher {
  return currentHasher();
}

export function useSha256(implementation: Sha256, hasher?: () => Sha256Hasher): void {
  current = implementation;
  if (hasher) currentHasher = hasher;
}
