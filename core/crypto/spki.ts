/**
 * The two DER encodings of our own keys that are needed at every start — SubjectPublicKeyInfo of an
 * ML-DSA public key (RFC 9881 §4, RFC 5280 §4.1.2.7) and PKCS#8 of a seed (RFC 9881 §6, RFC 5958) —
 * written without the ASN.1 schema library (der.ts): for keys of fixed lengths both are a fixed
 * layout, and loading @peculiar/asn1-* is ~0.1 s of CPU, which every `torgo verify` worker thread paid
 * before its first receipt (docs/performance.md §13). Parsing (attacker-controlled DER) stays in
 * der.ts. test/core/crypto-spki.test.ts holds both to der.ts's schema encodings.
 */
import { CoreError } from '../errors.js';
import { ML_DSA, type MlDsaAlgorithm, SEED_LENGTH } from './mldsa.js';

/** A DER TLV (X.690 §8.1): `tag`, the definite length (short form below 128, else long form), `content`. */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const length = content.reduce((n, c) => n + c.length, 0);
  const lengthBytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes.unshift(n % 256);
  const head = length < 0x80 ? [tag, length] : [tag, 0x80 | lengthBytes.length, ...lengthBytes];
  const out = new Uint8Array(head.length + length);
  out.set(head);
  let at = head.length;
  for (const c of content) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** An OBJECT IDENTIFIER's content (X.690 §8.19): the first two arcs as 40·a + b, each arc base 128. */
function oidContent(oid: string): Uint8Array {
  const arcs = oid.split('.').map(Number);
  const out: number[] = [];
  for (const arc of [40 * arcs[0]! + arcs[1]!, ...arcs.slice(2)]) {
    const digits = [arc % 128];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) digits.unshift(0x80 | (n % 128));
    out.push(...digits);
  }
  return Uint8Array.from(out);
}

/** AlgorithmIdentifier of an ML-DSA parameter set: the OID, parameters absent (RFC 9881 §2). */
function algorithmIdentifier(alg: MlDsaAlgorithm): Uint8Array {
  return tlv(0x30, tlv(0x06, oidContent(ML_DSA[alg].oid)));
}

export function encodeSpki(alg: MlDsaAlgorithm, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== ML_DSA[alg].publicKeyLength) {
    throw new CoreError('E_KEY_INVALID', `${alg} public key must be ${ML_DSA[alg].publicKeyLength} bytes`);
  }
  // subjectPublicKey BIT STRING: no unused bits, then the key.
  return tlv(0x30, algorithmIdentifier(alg), tlv(0x03, Uint8Array.of(0), publicKey));
}

/** PKCS#8 v1 with the `seed [0] IMPLICIT OCTET STRING (SIZE (32))` private key choice. */
export function encodePkcs8Seed(alg: MlDsaAlgorithm, seed: Uint8Array): Uint8Array {
  if (seed.length !== SEED_LENGTH) throw new CoreError('E_KEY_INVALID', 'ML-DSA seed must be 32 bytes');
  const version = tlv(0x02, Uint8Array.of(0));
  return tlv(0x30, version, algorithmIdentifier(alg), tlv(0x04, tlv(0x80, seed)));
}
