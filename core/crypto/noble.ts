/** The portable backend: @noble/post-quantum (pure JS — Node 22, browsers, Fabric's stock Node runtime). */
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { toHex } from '../encoding.js';
import { checkContext, ML_DSA, type MlDsaAlgorithm, type MlDsaBackend, SEED_LENGTH } from './mldsa.js';

const IMPL = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 } as const;

/** Expanded secret keys are ~4 KB and take a keygen to derive; keep the few in use. */
const secretKeys = new Map<string, Uint8Array>();
function secretKeyFor(alg: MlDsaAlgorithm, seed: Uint8Array): Uint8Array {
  const cacheKey = `${alg}:${toHex(seed)}`;
  let sk = secretKeys.get(cacheKey);
  if (!sk) {
    sk = IMPL[alg].keygen(seed).secretKey;
    if (secretKeys.size >= 16) secretKeys.clear();
    secretKeys.set(cacheKey, sk);
  }
  return sk;
}

export const nobleBackend: MlDsaBackend = {
  name: 'noble',
  publicKeyFromSeed(alg, seed) {
    return IMPL[alg].keygen(seed).publicKey;
  },
  randomSeed() {
    return randomBytes(SEED_LENGTH);
  },
  sign(alg, seed, message, context, options) {
    checkContext(context);
    const opts = options?.deterministic ? { context, extraEntropy: false as const } : { context };
    return IMPL[alg].sign(message, secretKeyFor(alg, seed), opts);
  },
  verify(alg, publicKey, message, signature, context) {
    if (publicKey.length !== ML_DSA[alg].publicKeyLength) return false;
    if (signature.length !== ML_DSA[alg].signatureLength) return false;
    if (context.length > 255) return false;
    try {
      return IMPL[alg].verify(signature, message, publicKey, { context });
    } catch {
      return false;
    }
  },
};
