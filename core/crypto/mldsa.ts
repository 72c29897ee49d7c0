/**
 * ML-DSA (FIPS 204) parameter sets and the small interface both backends implement.
 * Pure signing mode only (FIPS 204 §5.2, Algorithm 2/3), always with a context string for
 * domain separation. Private keys are handled as their 32-byte seed ξ (FIPS 204 §6.1): it is
 * what the IETF LAMPS profile calls the `seed` form and the only form we write.
 */
import { CoreError } from '../errors.js';

export const ML_DSA_ALGORITHMS = ['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] as const;
export type MlDsaAlgorithm = (typeof ML_DSA_ALGORITHMS)[number];
export const DEFAULT_ALGORITHM: MlDsaAlgorithm = 'ML-DSA-65';

export interface MlDsaParameters {
  /** Object identifier of the parameter set (NIST CSOR, id-ml-dsa-*). */
  readonly oid: string;
  readonly publicKeyLength: number;
  readonly signatureLength: number;
}

/** FIPS 204 Table 2 sizes; OIDs 2.16.840.1.101.3.4.3.{17,18,19}. */
export const ML_DSA: Readonly<Record<MlDsaAlgorithm, MlDsaParameters>> = {
  'ML-DSA-44': { oid: '2.16.840.1.101.3.4.3.17', publicKeyLength: 1312, signatureLength: 2420 },
  'ML-DSA-65': { oid: '2.16.840.1.101.3.4.3.18', publicKeyLength: 1952, signatureLength: 3309 },
  'ML-DSA-87': { oid: '2.16.840.1.101.3.4.3.19', publicKeyLength: 2592, signatureLength: 4627 },
};

export const SEED_LENGTH = 32;
/** FIPS 204 limits the context string to 255 bytes. */
export const MAX_CONTEXT_LENGTH = 255;

export function parseAlgorithm(name: string): MlDsaAlgorithm {
  const upper = name.trim().toUpperCase();
  const found = ML_DSA_ALGORITHMS.find((a) => a === upper);
  if (!found) {
    throw new CoreError(
      'E_KEY_ALGORITHM',
      `unsupported algorithm "${name}"; use one of ${ML_DSA_ALGORITHMS.join(', ')}`,
    );
  }
  return found;
}

export interface SignOptions {
  /** FIPS 204 deterministic variant (rnd = 0³²): same key + message → same signature. For test vectors. */
  readonly deterministic?: boolean;
}

/** One ML-DSA implementation. Both backends must give interoperable results. */
export interface MlDsaBackend {
  readonly name: 'native' | 'noble';
  /** The public key derived from a 32-byte seed (FIPS 204 ML-DSA.KeyGen_internal). */
  publicKeyFromSeed(alg: MlDsaAlgorithm, seed: Uint8Array): Uint8Array;
  /** A fresh random seed. */
  randomSeed(): Uint8Array;
  sign(
    alg: MlDsaAlgorithm,
    seed: Uint8Array,
    message: Uint8Array,
    context: Uint8Array,
    options?: SignOptions,
  ): Uint8Array;
  /**
   * Optional: the same answer as `verify`, computed off the calling thread (Node's worker pool,
   * verify-pool.ts). Callers that can wait use `verifyBytesAsync`, which falls back to `verify`.
   */
  verifyAsync?(
    alg: MlDsaAlgorithm,
    publicKey: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
    context: Uint8Array,
  ): Promise<boolean>;
  /** false for a wrong signature; never throws on malformed input (callers turn false into a coded error). */
  verify(
    alg: MlDsaAlgorithm,
    publicKey: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
    context: Uint8Array,
  ): boolean;
}

export function checkContext(context: Uint8Array): void {
  if (context.length > MAX_CONTEXT_LENGTH) {
    throw new CoreError(
      'E_KEY_INVALID',
      `ML-DSA context is ${context.length} bytes; FIPS 204 allows at most 255`,
    );
  }
}

/** The parameter set whose signature has this length (lengths differ across the three sets). */
export function algorithmForSignatureLength(length: number): MlDsaAlgorithm | undefined {
  return ML_DSA_ALGORITHMS.find((a) => ML_DSA[a].signatureLength === length);
}
