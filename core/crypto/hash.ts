/**
 * SHA-256 for the hot paths of `core` (receipt digests, key ids, log hashing). Portable noble by
 * default; a Node entry point that calls `preferNativeMlDsa()` (native.ts) gets OpenSSL's, about
 * seven times faster on a receipt. Both compute the same function (FIPS 180-4), so which one runs
 * changes no result.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export type Sha256 = (data: Uint8Array) => Uint8Array;

let current: Sha256 = nobleSha256;

export function sha256(data: Uint8Array): Uint8Array {
  return current(data);
}

export function useSha256(implementation: Sha256): void {
  current = implementation;
}
