/**
 * ML-DSA keys as people handle them: raw public keys, key ids derived from the public key, PEM
 * written (SPKI / PKCS#8 seed form, as OpenSSL 3.5 and Node 24 read them). Reading PEM and raw base64
 * keys (attacker-controlled DER, through the ASN.1 schema library) is pem.ts's: modules that only
 * use keys already read — a `torgo verify` worker thread — do not load the library.
 */
import { toBase64, toHex } from '../encoding.js';
import { platformMlDsa } from './backend.js';
import { sha256 } from './hash.js';
import { encodePkcs8Seed, encodeSpki } from './spki.js';
import { DEFAULT_ALGORITHM, type MlDsaAlgorithm, type MlDsaBackend } from './mldsa.js';

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

export function keyIdOf(alg: MlDsaAlgorithm, publicKey: Uint8Array): string {
  return toHex(sha256(encodeSpki(alg, publicKey)));
}

export function publicKey(alg: MlDsaAlgorithm, raw: Uint8Array): PublicKey {
  return { alg, publicKey: raw, keyId: keyIdOf(alg, raw) };
}

export function privateKeyFromSeed(alg: MlDsaAlgorithm, seed: Uint8Array): PrivateKey {
  const raw = platformMlDsa.publicKeyFromSeed(alg, seed);
  return { alg, seed, publicKey: raw, keyId: keyIdOf(alg, raw) };
}

export function generatePrivateKey(alg: MlDsaAlgorithm = DEFAULT_ALGORITHM): PrivateKey {
  return privateKeyFromSeed(alg, platformMlDsa.randomSeed());
}

function pem(label: string, der: Uint8Array): string {
  const b64 = toBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function publicKeyToPem(key: PublicKey): string {
  return pem('PUBLIC KEY', encodeSpki(key.alg, key.publicKey));
}

export function privateKeyToPem(key: PrivateKey): string {
  return pem('PRIVATE KEY', encodePkcs8Seed(key.alg, key.seed));
}

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
