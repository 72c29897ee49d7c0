/**
 * The native backend: node:crypto on OpenSSL ≥ 3.5 (Node ≥ 24.7). Node only: reached through
 * `#crypto-backend` (platform/node.ts), which uses it where the runtime has it, and by Node code
 * that names it (tests, benchmarks).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { checkContext, ML_DSA, type MlDsaAlgorithm, type MlDsaBackend, SEED_LENGTH } from './mldsa.js';
import { nobleBackend } from './noble.js';
import { toHex } from '../encoding.js';

const CACHE_LIMIT = 4096;
const publicKeys = new Map<string, KeyObject>();
const privateKeys = new Map<string, KeyObject>();

function cached(cache: Map<string, KeyObject>, id: string, make: () => KeyObject): KeyObject {
  let k = cache.get(id);
  if (!k) {
    k = make();
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(id, k);
  }
  return k;
}

/**
 * The last key object made for a key array (a verifier holds its keys as arrays of its own and
 * passes the same array for every receipt of a signer), with a copy of the bytes it was made from:
 * the array may have been written to since, so it is used only while the bytes still match.
 */
const byArray = new WeakMap<Uint8Array, { alg: MlDsaAlgorithm; bytes: Buffer; key: KeyObject }>();

function publicKeyObject(alg: MlDsaAlgorithm, publicKey: Uint8Array): KeyObject {
  const view = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength);
  const known = byArray.get(publicKey);
  if (known && known.alg === alg && known.bytes.equals(view)) return known.key;
  // Keyed by the whole key (never a prefix or short hash an attacker could collide); latin1 is
  // the cheapest exact byte-to-string mapping Node has.
  const key = cached(publicKeys, `${alg}:${view.toString('latin1')}`, () =>
    createPublicKey({ key: { kty: 'AKP', alg, pub: view.toString('base64url') }, format: 'jwk' }),
  );
  byArray.set(publicKey, { alg, bytes: Buffer.from(view), key });
  return key;
}

/**
 * The key object of a seed, imported as a JWK (`AKP`, draft-ietf-cose-dilithium): its `pub` is the
 * public key FIPS 204 ML-DSA.KeyGen_internal derives from the seed (noble's), which OpenSSL checks
 * nothing against — it derives the key pair from the seed itself; test/core/crypto.test.ts holds the
 * two derivations equal. (JWK, not DER: a verifying thread loads no ASN.1 library, §13.)
 */
function privateKeyObject(alg: MlDsaAlgorithm, seed: Uint8Array): KeyObject {
  return cached(privateKeys, `${alg}:${toHex(seed)}`, () => {
    const pub = Buffer.from(nobleBackend.publicKeyFromSeed(alg, seed)).toString('base64url');
    const priv = Buffer.from(seed.buffer, seed.byteOffset, seed.byteLength).toString('base64url');
    return createPrivateKey({ key: { kty: 'AKP', alg, pub, priv }, format: 'jwk' });
  });
}

export const nativeBackend: MlDsaBackend = {
  name: 'native',
  publicKeyFromSeed(alg, seed) {
    const jwk = createPublicKey(privateKeyObject(alg, seed)).export({ format: 'jwk' });
    return new Uint8Array(Buffer.from(jwk.pub as string, 'base64url'));
  },
  randomSeed() {
    return new Uint8Array(randomBytes(SEED_LENGTH));
  },
  sign(alg, seed, message, context, options) {
    checkContext(context);
    // OpenSSL signs hedged (randomised) only; the deterministic variant exists for test vectors.
    if (options?.deterministic) return nobleBackend.sign(alg, seed, message, context, options);
    return new Uint8Array(sign(null, message, { key: privateKeyObject(alg, seed), context }));
  },
  verify(alg, publicKey, message, signature, context) {
    if (publicKey.length !== ML_DSA[alg].publicKeyLength) return false;
    if (signature.length !== ML_DSA[alg].signatureLength) return false;
    if (context.length > 255) return false;
    try {
      return verify(null, message, { key: publicKeyObject(alg, publicKey), context }, signature);
    } catch {
      return false;
    }
  },
};

let probed: boolean | undefined;
/** True when this runtime's node:crypto does ML-DSA with context strings. */
export function nativeMlDsaAvailable(): boolean {
  if (probed === undefined) {
    try {
      const { privateKey, publicKey } = generateKeyPairSync('ml-dsa-44' as never);
      const context = Uint8Array.of(1);
      const msg = Uint8Array.of(2);
      const sig = sign(null, msg, { key: privateKey, context });
      probed = verify(null, msg, { key: publicKey, context }, sig) && !verify(null, msg, publicKey, sig);
    } catch {
      probed = false;
    }
  }
  return probed;
}
