/**
 * Reading ML-DSA keys as people hand them over: PEM files (SPKI / PKCS#8 seed form, as OpenSSL 3.5
 * and Node 24 write them) and raw base64 public keys. The DER inside is attacker-controlled and is
 * parsed by der.ts (the ASN.1 schema library); keys.ts holds what needs no parsing.
 */
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { CoreError } from '../errors.js';
import { equalBytes, fromBase64 } from '../encoding.js';
import { decodePkcs8, decodeSpki } from './der.js';
import { type PrivateKey, type PublicKey, privateKeyFromSeed, publicKey } from './keys.js';
import { ML_DSA, ML_DSA_ALGORITHMS } from './mldsa.js';

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
