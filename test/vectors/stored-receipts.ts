/**
 * The stored receipt vectors (test/vectors/receipts/*.json, made by generate.ts) as tests read them: the
 * positive vectors, the negative ones, and the public key of every signer by key id.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PublicKey, publicKeyFromPem } from '../../core/index.js';
import type { NegativeVector, PositiveVector } from './receipt-vectors.js';

const dir = join(import.meta.dirname, '..', '..', '..', 'test', 'vectors', 'receipts');
const load = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;

export function storedReceiptVectors(): {
  positives: PositiveVector[];
  negatives: NegativeVector[];
  signerKeys: Map<string, PublicKey>;
} {
  const positives = ['minimal', 'ml-dsa-44', 'ml-dsa-87', 'multi-signature', 'rich-body'].map((n) =>
    load<PositiveVector>(`${n}.json`),
  );
  const signerKeys = new Map<string, PublicKey>(
    positives.flatMap((v) => v.signers.map((s) => [s.keyId, publicKeyFromPem(s.publicKeyPem)] as const)),
  );
  return { positives, negatives: load<NegativeVector[]>('negative.json'), signerKeys };
}

/** `mu` with one base64 character of its last signature changed (a signature that no longer verifies). */
export function flipInLastSignature(mu: string): string {
  const at = mu.lastIndexOf(' ') + 10;
  return `${mu.slice(0, at)}${mu[at] === 'A' ? 'B' : 'A'}${mu.slice(at + 1)}`;
}
