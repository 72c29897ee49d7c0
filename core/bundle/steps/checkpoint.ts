/**
 * Step 2, the checkpoint (docs/bundle-format.md §7 step 2): signed by enough trusted keys (the
 * threshold policy) for the header's log. Every proof in the bundle is checked against it.
 */
import { toHex } from '../../encoding.js';
import {
  CHECKPOINT_CONTEXT,
  type Checkpoint,
  type TrustedKey,
  verifyCheckpoint,
} from '../../log/checkpoint.js';
import { keyLabel } from '../../log/note.js';
import type { MlDsaBackend } from '../../crypto/mldsa.js';
import { mlDsaNoteKeyHash } from '../../log/note-mldsa.js';
import type { CheckpointLine } from '../format.js';
import type { BundleHeader } from './header.js';

export interface ProvenCheckpoint {
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** `name+keyhash` of each trusted key whose signature verified. */
  readonly signedBy: readonly string[];
  /** Those keys themselves: the only keys that may sign the export statement. */
  readonly signers: readonly TrustedKey[];
  /** The verified checkpoint itself, extension lines included (the key-heads commitment, §6). */
  readonly parsed: Checkpoint;
}

export function checkCheckpoint(
  line: CheckpointLine,
  header: BundleHeader,
  trusted: readonly TrustedKey[],
  threshold: number,
  mlDsa: MlDsaBackend,
): ProvenCheckpoint {
  const v = verifyCheckpoint(line.note, { origin: header.origin, trusted, threshold }, mlDsa);
  const signed = new Set(v.signedBy);
  return {
    size: v.checkpoint.size,
    rootHash: v.checkpoint.rootHash,
    signedBy: v.signedBy,
    signers: trusted.filter((t) =>
      signed.has(keyLabel(t.name, mlDsaNoteKeyHash(t.name, t.key, CHECKPOINT_CONTEXT))),
    ),
    parsed: v.checkpoint,
  };
}

export function describeCheckpoint(c: ProvenCheckpoint): {
  size: number;
  rootHash: string;
  signedBy: readonly string[];
} {
  return { size: c.size, rootHash: toHex(c.rootHash), signedBy: c.signedBy };
}
