/**
 * The native backend: node:crypto on OpenSSL ≥ 3.5 (Node ≥ 24.7). Node only, with verify-pool.ts
 * and verify-worker.ts that it installs: nothing in `core` imports them, Node entry points do
 * (see backend.ts).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { availableParallelism } from 'node:os';
import { encodePkcs8Seed, encodeSpki } from './der.js';
import { useMlDsaBackend } from './backend.js';
import { type Sha256Hasher, useSha256 } from './hash.js';
import { withVerificationPool } from './verify-pool.js';
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

function publicKeyObject(alg: MlDsaAlgorithm, publicKey: Uint8Array): KeyObject {
  // Keyed by the whole key (never a prefix or short hash an attacker could collide); latin1 is
  // the cheapest exact byte-to-string mapping Node has.
  return cached(
    publicKeys,
    `${alg}:${Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1')}`,
    () => createPublicKey({ key: Buffer.from(encodeSpki(alg, publicKey)), format: 'der', type: 'spki' }),
  );
}

function privateKeyObject(alg: MlDsaAlgorithm, seed: Uint8Array): KeyObject {
  return cached(privateKeys, `${alg}:${toHex(seed)}`, () =>
    createPrivateKey({ key: Buffer.from(encodePkcs8Seed(alg, seed)), format: 'der', type: 'pkcs8' }),
  );
}

export const nativeBackend: MlDsaBackend = {
  name: 'native',
  publicKeyFromSeed(alg, seed) {
    const spki = createPublicKey(privateKeyObject(alg, seed)).export({ format: 'der', type: 'spki' });
    return new Uint8Array(spki.subarray(spki.length - ML_DSA[alg].publicKeyLength));
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

/** OpenSSL's SHA-256, as a plain Uint8Array like noble's. */
export function nativeSha256(data: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(data).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

export interface PreferNativeOptions {
  /**
   * Worker threads for `verifyAsync` (verify-pool.ts): default one per core; 0 verifies on the
   * calling thread. Started on first use only.
   */
  readonly verifyWorkers?: number;
}

let installed: { backend: ReturnType<typeof withVerificationPool>; workers: number } | undefined;

/** OpenSSL's incremental SHA-256. */
export function nativeSha256Hasher(): Sha256Hasher {
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
 * Switches `core` to the native backend when available, else noble (and to OpenSSL's SHA-256,
 * which every Node has), wrapped with verify-pool.ts: one process-wide memo of successful
 * verifications and a worker pool for `verifyAsync`. Calling it again keeps that memo (the gateway
 * and the contract it embeds must share it). Returns the ML-DSA backend now in use.
 */
export function preferNativeMlDsa(options: PreferNativeOptions = {}): MlDsaBackend {
  const backend = nativeMlDsaAvailable() ? nativeBackend : nobleBackend;
  const workers = options.verifyWorkers ?? installed?.workers ?? availableParallelism();
  if (!installed || installed.workers !== workers) {
    const previous = installed;
    installed = {
      backend: withVerificationPool(backend, {
        workers,
        ...(previous ? { memo: previous.backend.memo } : {}),
      }),
      workers,
    };
    void previous?.backend.pool?.close();
  }
  useMlDsaBackend(installed.backend);
  useSha256(nativeSha256, nativeSha256Hasher);
  return installed.backend;
}
