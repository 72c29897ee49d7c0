/** What `#crypto-backend` provides (package.json `imports`): node.ts on Node, portable.ts elsewhere. */
import type { MlDsaBackend } from '../mldsa.js';

/** SHA-256 (FIPS 180-4), one shot. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

/** An incremental SHA-256, for data that arrives in pieces (a bundle, line by line). */
export interface Sha256Hasher {
  /** Strings are hashed as their UTF-8 bytes. */
  update(data: Uint8Array | string): Sha256Hasher;
  digest(): Uint8Array;
}

export interface CryptoPlatform {
  /** The ML-DSA backend a caller gets when it passes none. */
  readonly mlDsa: MlDsaBackend;
  readonly sha256: Sha256;
  readonly createSha256: () => Sha256Hasher;
  /**
   * Standard base64 with padding, canonical only (RFC 4648 §4, as `decodeCanonicalBase64` in
   * core/encoding.ts): the bytes, or undefined for any text that is not the canonical encoding of
   * some bytes. Callers leave the verdict and its message to `fromBase64` when this gives undefined.
   */
  readonly decodeBase64Canonical: (text: string) => Uint8Array | undefined;
  /**
   * Writes `text` into `out` at `at`, one byte per UTF-16 unit, when every unit is ASCII (below 0x80): then
   * those bytes are its UTF-8. Returns a string equal to `text` (Node: a flat copy read back from the bytes,
   * cheaper for the native base64 decoder than a slice of a two-byte string), or undefined when a unit is not
   * ASCII (what was written is then meaningless). `out` must have room for `text.length` bytes at `at`.
   */
  readonly writeAscii: (text: string, out: Uint8Array, at: number) => string | undefined;
  /** `bytes.indexOf(byte, from)` (Node: memchr; `Uint8Array.prototype.indexOf` is a loop). */
  readonly indexOfByte: (bytes: Uint8Array, byte: number, from: number) => number;
  /** Whether `bytes` is well-formed UTF-8: exactly when a fatal `TextDecoder` decodes it (Node: `buffer.isUtf8`). */
  readonly isUtf8: (bytes: Uint8Array) => boolean;
}
