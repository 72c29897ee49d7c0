/**
 * The two DER structures ML-DSA keys travel in (IETF LAMPS ML-DSA in X.509, RFC 9881):
 * SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) and PKCS#8 OneAsymmetricKey (RFC 5958), through the
 * ASN.1 schemas of @peculiar/asn1-schema / asn1-x509 / asn1-pkcs8 (pure JavaScript, so the console
 * and the offline verifier page run this file too). Key bytes are attacker-controlled where they
 * enter (an imported public key, a key file): the parser is a BER parser, so `parseDer` accepts only
 * input that re-encodes to exactly the same bytes — DER's one encoding (X.690 §10) — and refuses
 * non-minimal or indefinite lengths, trailing bytes and unknown fields.
 */
import {
  AsnParser,
  AsnProp,
  AsnPropTypes,
  AsnSerializer,
  AsnType,
  AsnTypeTypes,
  OctetString,
} from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { equalBytes } from '../encoding.js';
import { CoreError } from '../errors.js';
import { ML_DSA, ML_DSA_ALGORITHMS, type MlDsaAlgorithm, SEED_LENGTH } from './mldsa.js';

/** RFC 9881 §6: `both SEQUENCE { seed OCTET STRING (SIZE (32)), expandedKey OCTET STRING }`. */
@AsnType({ type: AsnTypeTypes.Sequence })
class MlDsaSeedAndExpanded {
  @AsnProp({ type: AsnPropTypes.OctetString })
  seed = new ArrayBuffer(0);
  @AsnProp({ type: AsnPropTypes.OctetString })
  expandedKey = new ArrayBuffer(0);
}

/**
 * RFC 9881 §6 `ML-DSA-PrivateKey ::= CHOICE { seed [0] IMPLICIT OCTET STRING (SIZE (32)),
 * expandedKey OCTET STRING, both SEQUENCE {…} }`: the content of PKCS#8's privateKey OCTET STRING.
 */
@AsnType({ type: AsnTypeTypes.Choice })
class MlDsaPrivateKey {
  @AsnProp({ type: AsnPropTypes.OctetString, context: 0, implicit: true })
  seed?: ArrayBuffer;
  @AsnProp({ type: AsnPropTypes.OctetString })
  expandedKey?: ArrayBuffer;
  @AsnProp({ type: MlDsaSeedAndExpanded })
  both?: MlDsaSeedAndExpanded;
  constructor(fields: Partial<MlDsaPrivateKey> = {}) {
    Object.assign(this, fields);
  }
}

/** Parses `der` as `type` and refuses any encoding other than the DER one. */
export function parseDer<T>(der: Uint8Array, type: new () => T): T {
  let value: T;
  try {
    value = AsnParser.parse(der, type);
  } catch (e) {
    throw new Error(`malformed ASN.1: ${(e as Error).message}`);
  }
  if (!equalBytes(new Uint8Array(AsnSerializer.serialize(value)), der)) {
    throw new Error('not DER (non-minimal or indefinite length, trailing bytes, or unknown fields)');
  }
  return value;
}

function algorithmIdentifier(alg: MlDsaAlgorithm): AlgorithmIdentifier {
  // RFC 9881 §2: parameters MUST be absent.
  return new AlgorithmIdentifier({ algorithm: ML_DSA[alg].oid });
}

function algorithmOf(id: AlgorithmIdentifier): MlDsaAlgorithm {
  const alg = ML_DSA_ALGORITHMS.find((a) => ML_DSA[a].oid === id.algorithm);
  if (!alg || id.parameters !== undefined) {
    throw new CoreError(
      'E_KEY_ALGORITHM',
      'key is not an ML-DSA key (unknown algorithm identifier or parameters present)',
    );
  }
  return alg;
}

export function encodeSpki(alg: MlDsaAlgorithm, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== ML_DSA[alg].publicKeyLength) {
    throw new CoreError('E_KEY_INVALID', `${alg} public key must be ${ML_DSA[alg].publicKeyLength} bytes`);
  }
  const spki = new SubjectPublicKeyInfo({
    algorithm: algorithmIdentifier(alg),
    subjectPublicKey: copy(publicKey),
  });
  return new Uint8Array(AsnSerializer.serialize(spki));
}

/** PKCS#8 with the `seed [0] OCTET STRING (SIZE 32)` private key choice. */
export function encodePkcs8Seed(alg: MlDsaAlgorithm, seed: Uint8Array): Uint8Array {
  if (seed.length !== SEED_LENGTH) throw new CoreError('E_KEY_INVALID', 'ML-DSA seed must be 32 bytes');
  const privateKey = AsnSerializer.serialize(new MlDsaPrivateKey({ seed: copy(seed) }));
  const info = new PrivateKeyInfo({
    version: 0,
    privateKeyAlgorithm: algorithmIdentifier(alg),
    privateKey: new OctetString(privateKey),
  });
  return new Uint8Array(AsnSerializer.serialize(info));
}

export function decodeSpki(der: Uint8Array): { alg: MlDsaAlgorithm; publicKey: Uint8Array } {
  try {
    const spki = parseDer(der, SubjectPublicKeyInfo);
    const alg = algorithmOf(spki.algorithm);
    // A BIT STRING whose unused-bits count is not 0 does not re-encode from the ArrayBuffer the schema keeps.
    const publicKey = new Uint8Array(spki.subjectPublicKey);
    if (publicKey.length !== ML_DSA[alg].publicKeyLength) throw new Error('wrong public key length');
    return { alg, publicKey };
  } catch (e) {
    if (e instanceof CoreError) throw e;
    throw new CoreError('E_KEY_INVALID', `not a valid ML-DSA SubjectPublicKeyInfo: ${(e as Error).message}`);
  }
}

/**
 * PKCS#8 ML-DSA private key. Accepts the `seed` and `both` choices (RFC 9881 §6; `both` is what
 * OpenSSL 3.5 and Node 24 export by default) and returns the seed. `expandedKey` alone carries no
 * seed and is refused. For `both`, the caller must check the expanded key matches the seed.
 * Version 0 and 1 (RFC 5958 v2) are read; attributes and the optional public key are refused, to stay strict.
 */
export function decodePkcs8(der: Uint8Array): {
  alg: MlDsaAlgorithm;
  seed: Uint8Array;
  expanded?: Uint8Array;
} {
  try {
    const info = parseDer(der, PrivateKeyInfo);
    if (info.version !== 0 && info.version !== 1) throw new Error('unsupported version');
    if (info.attributes) throw new Error('attributes are not allowed');
    const alg = algorithmOf(info.privateKeyAlgorithm);
    const key = parseDer(new Uint8Array(info.privateKey.buffer), MlDsaPrivateKey);
    const seed = key.seed ?? key.both?.seed;
    if (!seed) {
      throw new CoreError(
        'E_KEY_INVALID',
        'expanded-only ML-DSA private keys carry no seed; export the key with its seed',
      );
    }
    if (seed.byteLength !== SEED_LENGTH) throw new Error('seed must be 32 bytes');
    const expanded = key.both ? { expanded: new Uint8Array(key.both.expandedKey) } : {};
    return { alg, seed: new Uint8Array(seed), ...expanded };
  } catch (e) {
    if (e instanceof CoreError) throw e;
    throw new CoreError('E_KEY_INVALID', `not a valid ML-DSA PKCS#8 private key: ${(e as Error).message}`);
  }
}

/** A fresh ArrayBuffer holding exactly `bytes` (the schemas keep ArrayBuffers; a Buffer may be a view into a pool). */
function copy(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}
