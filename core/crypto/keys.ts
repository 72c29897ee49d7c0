/**
 * ML-DSA keys once made: their shape, and signing and verifying with them. Making them — key ids
 * (over the DER SubjectPublicKeyInfo), PEM written and read, raw base64 keys — is pem.ts's, through
 * the ASN.1 schema library (der.ts): modules that only use keys already made — a `torgo verify`
 * worker thread — do not load it (docs/performance.md §13).
 */
import { platformMlDsa } from './backend.js';
import type { MlDsaAlgorithm, MlDsaBackend } from './mldsa.js';

export interface PublicKey {
  readonly alg: MlDsaAlgorithm;
  readonly publicKey: Uint8Array;
  /** Lowercase hex SHA-256 of the key's DER SubjectPublicKeyInfo (binds algorithm and key). */
  readonly keyId: string;
}

export interface PrivateKey extends PublicKey {
  readonly seed: Uint8Array;
}

export const KEY_ID_PATTERN = /^[0-9a-f]{64}$/;

/** Signs with the platform's backend (`#crypto-backend`). */
export function signBytes(
  key: PrivateKey,
  message: Uint8Array,
  context: Uint8Array,
  options?: { deterministic?: boolean },
): Uint8Array {
  return platformMlDsa.sign(key.alg, key.seed, message, context, options);
}

export function verifyBytes(
  key: PublicKey,
  message: Uint8Array,
  signature: Uint8Array,
  context: Uint8Array,
  mlDsa: MlDsaBackend = platformMlDsa,
): boolean {
  return mlDsa.verify(key.alg, key.publicKey, message, signature, context);
}

/** `verifyBytes`, on another thread when the backend can (`verifyAsync`); the same answer either way. */
export function verifyBytesAsync(
  key: PublicKey,
  message: Uint8Array,
  signature: Uint8Array,
  context: Uint8Array,
  mlDsa: MlDsaBackend = platformMlDsa,
): Promise<boolean> {
  if (mlDsa.verifyAsync) return mlDsa.verifyAsync(key.alg, key.publicKey, message, signature, context);
  return Promise.resolve(mlDsa.verify(key.alg, key.publicKey, message, signature, context));
}
