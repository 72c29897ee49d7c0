/**
 * The two DER structures ML-DSA keys travel in (IETF LAMPS ML-DSA in X.509, RFC 9881):
 * SubjectPublicKeyInfo and PKCS#8 OneAsymmetricKey. Their shapes are fixed per parameter set,
 * so this is a tiny exact-match encoder/decoder rather than a general ASN.1 library.
 */
import { CoreError } from '../errors.js';
import { equalBytes } from '../encoding.js';
import { ML_DSA, ML_DSA_ALGORITHMS, type MlDsaAlgorithm, SEED_LENGTH } from './mldsa.js';

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}
function tlv(tag: number, content: Uint8Array): Uint8Array {
  const head = [tag, ...derLength(content.length)];
  const out = new Uint8Array(head.length + content.length);
  out.set(head, 0);
  out.set(content, head.length);
  return out;
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
function oidBytes(oid: string): Uint8Array {
  const arcs = oid.split('.').map(Number);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const b: number[] = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) b.unshift((v & 0x7f) | 0x80);
    out.push(...b);
  }
  return tlv(0x06, Uint8Array.from(out));
}
function algorithmIdentifier(alg: MlDsaAlgorithm): Uint8Array {
  // RFC 9881 §2: parameters MUST be absent.
  return tlv(0x30, oidBytes(ML_DSA[alg].oid));
}

export function encodeSpki(alg: MlDsaAlgorithm, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== ML_DSA[alg].publicKeyLength) {
    throw new CoreError('E_KEY_INVALID', `${alg} public key must be ${ML_DSA[alg].publicKeyLength} bytes`);
  }
  return tlv(0x30, concat(algorithmIdentifier(alg), tlv(0x03, concat(Uint8Array.of(0), publicKey))));
}

/** PKCS#8 with the `seed [0] OCTET STRING (SIZE 32)` private key choice. */
export function encodePkcs8Seed(alg: MlDsaAlgorithm, seed: Uint8Array): Uint8Array {
  if (seed.length !== SEED_LENGTH) throw new CoreError('E_KEY_INVALID', 'ML-DSA seed must be 32 bytes');
  const privateKey = tlv(0x04, tlv(0x80, seed));
  return tlv(0x30, concat(Uint8Array.of(0x02, 0x01, 0x00), algorithmIdentifier(alg), privateKey));
}

/** A forward-only DER reader that accepts exactly the expected structure. */
class Reader {
  private at = 0;
  constructor(private readonly der: Uint8Array) {}
  read(tag: number): Uint8Array {
    const d = this.der;
    if (d[this.at] !== tag) throw new Error(`expected tag 0x${tag.toString(16)}`);
    let len = d[this.at + 1];
    let head = 2;
    if (len === undefined) throw new Error('truncated');
    if (len === 0x81) {
      len = d[this.at + 2]!;
      head = 3;
      if (len < 0x80) throw new Error('non-minimal length');
    } else if (len === 0x82) {
      len = (d[this.at + 2]! << 8) | d[this.at + 3]!;
      head = 4;
      if (len < 0x100) throw new Error('non-minimal length');
    } else if (len > 0x82) throw new Error('length too large');
    const start = this.at + head;
    if (start + len > d.length) throw new Error('truncated');
    this.at = start + len;
    return d.subarray(start, start + len);
  }
  end(): void {
    if (this.at !== this.der.length) throw new Error('trailing bytes');
  }
}

function algorithmFromIdentifier(content: Uint8Array): MlDsaAlgorithm {
  for (const alg of ML_DSA_ALGORITHMS) {
    if (equalBytes(tlv(0x30, content), algorithmIdentifier(alg))) return alg;
  }
  throw new CoreError(
    'E_KEY_ALGORITHM',
    'key is not an ML-DSA key (unknown algorithm identifier or parameters present)',
  );
}

export function decodeSpki(der: Uint8Array): { alg: MlDsaAlgorithm; publicKey: Uint8Array } {
  try {
    const outer = new Reader(der);
    const body = new Reader(outer.read(0x30));
    outer.end();
    const alg = algorithmFromIdentifier(body.read(0x30));
    const bits = body.read(0x03);
    body.end();
    if (bits[0] !== 0) throw new Error('unused bits in public key');
    const publicKey = bits.slice(1);
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
 */
export function decodePkcs8(der: Uint8Array): {
  alg: MlDsaAlgorithm;
  seed: Uint8Array;
  expanded?: Uint8Array;
} {
  try {
    const outer = new Reader(der);
    const body = new Reader(outer.read(0x30));
    outer.end();
    const version = body.read(0x02);
    if (version.length !== 1 || (version[0] !== 0 && version[0] !== 1))
      throw new Error('unsupported version');
    const alg = algorithmFromIdentifier(body.read(0x30));
    const inner = body.read(0x04);
    // optional attributes / public key fields of OneAsymmetricKey are ignored by RFC 9881; refuse them to stay strict.
    body.end();
    if (inner[0] === 0x80) {
      const r = new Reader(inner);
      const seed = r.read(0x80);
      r.end();
      if (seed.length !== SEED_LENGTH) throw new Error('seed must be 32 bytes');
      return { alg, seed: seed.slice() };
    }
    if (inner[0] === 0x30) {
      const r = new Reader(inner);
      const both = new Reader(r.read(0x30));
      r.end();
      const seed = both.read(0x04);
      const expanded = both.read(0x04);
      both.end();
      if (seed.length !== SEED_LENGTH) throw new Error('seed must be 32 bytes');
      return { alg, seed: seed.slice(), expanded: expanded.slice() };
    }
    throw new CoreError(
      'E_KEY_INVALID',
      'expanded-only ML-DSA private keys carry no seed; export the key with its seed',
    );
  } catch (e) {
    if (e instanceof CoreError) throw e;
    throw new CoreError('E_KEY_INVALID', `not a valid ML-DSA PKCS#8 private key: ${(e as Error).message}`);
  }
}
