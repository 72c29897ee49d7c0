/**
 * SHA-256 for the hot paths of `core` (receipt digests, key ids, log hashing). Which implementation
 * runs is declared, not switched at run time: package.json's `#crypto-backend` import resolves to
 * OpenSSL's under the `node` condition (platform/node.ts) and to @noble/hashes elsewhere
 * (platform/portable.ts). Both compute the same function (FIPS 180-4), so which one runs changes no result.
 */
export { createSha256, sha256 } from '#crypto-backend';
export type { Sha256, Sha256Hasher } from './platform/types.js';
