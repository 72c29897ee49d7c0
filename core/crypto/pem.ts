/**
 * ML-DSA keys made and exchanged: key ids (SHA-256 of the DER SubjectPublicKeyInfo), PEM files
 * (SPKI / PKCS#8 seed form, as OpenSSL 3.5 and Node 24 read and write them) and raw base64 public
 * keys. All DER, written and read, goes through der.ts (the ASN.1 schema library); the DER read is
 * attacker-controlled. keys.ts holds what needs none of it (signing and verifying).
 */
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { CoreError } from '../errors.js';
import { equalBytes, fromBase64, toBase64, toHex } from '../encoding.js';
import { platformMlDsa } from './backend.js';
import { decodePkcs8, decodeSpki, encodePkcs8Seed, encodeSpki } from './der.js';
import { sha256 } from './hash.js';
import type { PrivateKey, PublicKey } from './keys.js';
import { DEFAULT_ALGORITHM, ML_DSA, ML_DSA_ALGORITHMS, type MlDsaAlgorithm } from './mldsa.js';

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

/** Parses exactly one PEM block with the given label (RFC 7468 strict-ish: LF or CRLF, no headers). */
function unpem(text: string, label: string): Uint8Array {
  const m = /^-----BEGIN ([A-Z ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n-----END \1-----\r?\n?$/.exec(
    `${text.trim()}\n`,
  );
  if (!m) throw new CoreError('E_KEY_INVALID', `not a PEM document (expected "-----BEGIN ${label}-----")`);
  if (m[1] !== label) throw new CoreError('E_KEY_INVALID', `expected a PEM "${label}", found "${m[1]}"`);
  return fromBase64(m[2]!.replace(/\r?\n/g, ''), 'E_KEY_INVALID', 'PEM body');
}

export function publicKeyFromPem(text: string): PublicKey {
  const { alg, publicKey: raw } = decodeSpki(unpem(text, 'PUBLIC KEY'));
  return publicKey(alg, raw);
}

const EXPANDED = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 } as const;

export function privateKeyFromPem(text: string): PrivateKey {
  const { alg, seed, expanded } = decodePkcs8(unpem(text, 'PRIVATE KEY'));
  if (expanded && !equalBytes(EXPANDED[alg].keygen(seed).secretKey, expanded)) {
    throw new CoreError(
      'E_KEY_INVALID',
      'private key: the expanded key does not match its seed (corrupted key file)',
    );
  }
  return privateKeyFromSeed(alg, seed);
}

/**
 * A public key as given on import: PEM (SPKI), or raw base64 of the FIPS 204 encoding, whose
 * length identifies the parameter set (1312 / 1952 / 2592 bytes).
 */
export function importPublicKey(text: string): PublicKey {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return publicKeyFromPem(trimmed);
  const raw = fromBase64(trimmed, 'E_KEY_INVALID', 'raw public key');
  const alg = ML_DSA_ALGORITHMS.find((a) => ML_DSA[a].publicKeyLength === raw.length);
  if (!alg) {
    throw new CoreError(
      'E_KEY_INVALID',
      `raw public key is ${raw.length} bytes; ML-DSA-44/65/87 keys are 1312/1952/2592 bytes`,
    );
  }
  return publicKey(alg, raw);
}
