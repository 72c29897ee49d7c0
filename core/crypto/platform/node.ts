/**
 * `#crypto-backend` on Node (package.json `imports`, condition `node`): OpenSSL's SHA-256 (every Node
 * has it; about seven times faster than noble's on a receipt) and ML-DSA from OpenSSL where the runtime
 * has it (Node ≥ 24.7, OpenSSL ≥ 3.5), else noble — Fabric's chaincode image (Node 20/22) gets noble.
 * The choice is made by probing the runtime on first use, not by any caller: both backends give the
 * same answers, so peers on different runtimes still endorse identically.
 */
import { Buffer, isUtf8 as bufferIsUtf8 } from 'node:buffer';
import * as crypto from 'node:crypto';
import type { MlDsaBackend } from '../mldsa.js';
import { nativeBackend, nativeMlDsaAvailable } from '../native.js';
import { nobleBackend } from '../noble.js';
import type { Sha256Hasher } from './types.js';

let chosen: MlDsaBackend | undefined;
const backend = (): MlDsaBackend => {
  chosen ??= nativeMlDsaAvailable() ? nativeBackend : nobleBackend;
  return chosen;
};

export const mlDsa: MlDsaBackend = {
  get name() {
    return backend().name;
  },
  publicKeyFromSeed: (alg, seed) => backend().publicKeyFromSeed(alg, seed),
  randomSeed: () => backend().randomSeed(),
  sign: (alg, seed, message, context, options) => backend().sign(alg, seed, message, context, options),
  verify: (alg, publicKey, message, signature, context) =>
    backend().verify(alg, publicKey, message, signature, context),
};

const { createHash } = crypto;
/**
 * OpenSSL's one-shot digest (`crypto.hash`, Node ≥ 20.12 / 21.7): no Hash object per call, about
 * three quarters of createHash's CPU on a log leaf or node. Probed once (it must return the bytes of
 * SHA-256("")); a runtime without it (an older chaincode image) takes createHash. Both are OpenSSL's.
 */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const oneShot = ((): typeof crypto.hash | undefined => {
  try {
    const probe = crypto.hash('sha256', new Uint8Array(0), 'buffer') as unknown;
    return Buffer.isBuffer(probe) && probe.toString('hex') === EMPTY_SHA256 ? crypto.hash : undefined;
  } catch {
    return undefined;
  }
})();

/** OpenSSL's SHA-256, as a plain Uint8Array like noble's. */
export function sha256(data: Uint8Array): Uint8Array {
  const digest = oneShot
    ? (oneShot('sha256', data, 'buffer') as Buffer)
    : createHash('sha256').update(data).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** OpenSSL's incremental SHA-256. */
export function createSha256(): Sha256Hasher {
  const h = createHash('sha256');
  const hasher: Sha256Hasher = {
    update(data) {
      if (typeof data === 'string') h.update(data, 'utf8');
      else h.update(data);
      return hasher;
    },
    digest() {
      const d = h.digest();
      return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    },
  };
  return hasher;
}

/**
 * Canonical base64 through Node's native decoder, about five times faster than the JavaScript one on a
 * signature. `Buffer.from(…, 'base64')` is lenient (it skips foreign characters, takes base64url and
 * missing padding), so the result stands only when it encodes back to exactly `text`: the canonical
 * encoding of some bytes decodes to those bytes and to nothing else. The bytes are copied out of Node's
 * shared pool, so the array owns its buffer (it may be posted to a worker).
 */
export function decodeBase64Canonical(text: string): Uint8Array | undefined {
  const decoded = Buffer.from(text, 'base64');
  if (decoded.toString('base64') !== text) return undefined;
  return new Uint8Array(decoded);
}

/**
 * `writeAscii` of `CryptoPlatform` through Node's native copies (a latin1 write is ~10× cheaper than
 * `TextEncoder` on a two-byte string). A latin1 write keeps only each unit's low byte, so the bytes stand
 * only when they are ASCII and read back as exactly `text`; the copy read back is returned.
 */
export function writeAscii(text: string, out: Uint8Array, at: number): string | undefined {
  const view = bufferOver(out);
  const end = at + view.write(text, at, 'latin1');
  if (end - at !== text.length) return undefined;
  const copy = view.toString('latin1', at, end);
  // Equal: every unit was one byte, written as is. One UTF-8 byte per unit: every unit is ASCII.
  return copy === text && Buffer.byteLength(copy, 'utf8') === copy.length ? copy : undefined;
}

/** A Buffer over the same memory as `out`, kept for the next call with the same array (a caller's scratch). */
let viewed: Uint8Array | undefined;
let view: Buffer = Buffer.alloc(0);
function bufferOver(out: Uint8Array): Buffer {
  if (out !== viewed) {
    view = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    viewed = out;
  }
  return view;
}

/** `indexOfByte` of `CryptoPlatform`: Node's `Buffer#indexOf` (memchr) on the caller's bytes, not copied. */
export function indexOfByte(bytes: Uint8Array, byte: number, from: number): number {
  return Buffer.prototype.indexOf.call(bytes, byte, from);
}

/** `isUtf8` of `CryptoPlatform`: Node's validator (simdutf), without decoding. */
export function isUtf8(bytes: Uint8Array): boolean {
  return bufferIsUtf8(bytes);
}
