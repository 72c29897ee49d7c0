/**
 * Step 3, key entries (docs/bundle-format.md §7 step 3): each proven in the checkpoint's tree, its
 * public key hashing to its key id. The newest proven entry of each key states its validity.
 */
import { CoreError } from '../../errors.js';
import type { PublicKey } from '../../crypto/keys.js';
import { importPublicKey } from '../../crypto/pem.js';
import { parseAlgorithm } from '../../crypto/mldsa.js';
import { verifyInclusion } from '../../log/proof.js';
import { entryLeafHash, type KeyEntry } from '../entries.js';
import { decodeProof, type KeyLine } from '../format.js';
import type { ProvenCheckpoint } from './checkpoint.js';

export class KeyEntries {
  private readonly newest = new Map<string, { entry: KeyEntry; leafIndex: number; key: PublicKey }>();

  constructor(private readonly checkpoint: ProvenCheckpoint) {}

  /** Proves one key line; throws its coded failure. */
  check(k: KeyLine, n: number): void {
    verifyInclusion(
      k.leafIndex,
      this.checkpoint.size,
      entryLeafHash(k.entry),
      decodeProof(k.proof, n),
      this.checkpoint.rootHash,
    );
    const pk = importPublicKey(k.entry.publicKey);
    if (pk.alg !== parseAlgorithm(k.entry.alg) || pk.keyId !== k.entry.keyId) {
      throw new CoreError(
        'E_BUNDLE_SYNTAX',
        `key entry ${k.entry.keyId}: the public key does not have this id or algorithm`,
      );
    }
    const prev = this.newest.get(k.entry.keyId);
    if (!prev || prev.leafIndex < k.leafIndex)
      this.newest.set(k.entry.keyId, { entry: k.entry, leafIndex: k.leafIndex, key: pk });
  }

  /** The newest proven entry of every key, for the receipt checks. */
  entries(): KeyEntry[] {
    return [...this.newest.values()].map((k) => k.entry);
  }

  /** The public key of each of `entries()`, in the same order, as `check` read it. */
  publicKeys(): PublicKey[] {
    return [...this.newest.values()].map((k) => k.key);
  }
}
