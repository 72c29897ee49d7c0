/**
 * Witnessing another gateway's checkpoint. Every organisation's gateway builds the same log from the
 * same blocks (same origin, same leaves, so the same roots). Shown a signed checkpoint of that log —
 * by another organisation's operator, whose key this gateway need not know — it cosigns only what it
 * computed itself: the origin is its own, its log has reached that size, and its own root at that
 * size is the checkpoint's root. Then it adds its signature line (C2SP tlog-cosignature style: more
 * lines over the same body, the existing ones kept byte for byte). A different root at the same size
 * is a fork between organisations: refused with E_CHECKPOINT_CONFLICT and never signed.
 */
import {
  type Checkpoint,
  cosignCheckpoint,
  equalBytes,
  isCoreError,
  type KeyHeadsCommitment,
  keyHeadsOf,
  parseCheckpointBody,
  parseNote,
  type PrivateKey,
  toBase64,
} from '../../core/index.js';
import { GatewayError } from '../errors.js';
import type { LogStore } from './store.js';

export interface WitnessOptions {
  readonly origin: string;
  readonly key: PrivateKey;
  readonly store: LogStore;
  /** Resolves once the log holds at least `size` leaves, or throws (E_UNAVAILABLE) after a bounded wait. */
  readonly reach: (size: number) => Promise<void>;
}

/** The checkpoint in `note` (attacker-controlled), cosigned with this gateway's operator key. */
export async function witnessCheckpoint(
  note: string,
  o: WitnessOptions,
): Promise<{ note: string; checkpoint: Checkpoint }> {
  let body: Checkpoint;
  try {
    body = parseCheckpointBody(parseNote(note).text);
  } catch (e) {
    if (isCoreError(e)) throw new GatewayError('E_CHECKPOINT_INVALID', e.message, { coreCode: e.code });
    throw e;
  }
  if (body.origin !== o.origin) {
    throw new GatewayError(
      'E_CHECKPOINT_INVALID',
      `the checkpoint is for the log "${body.origin}"; this gateway witnesses "${o.origin}"`,
    );
  }
  if (o.store.size < body.size) await o.reach(body.size);
  const ours = await o.store.root(body.size);
  if (!equalBytes(ours, body.rootHash)) {
    throw new GatewayError(
      'E_CHECKPOINT_CONFLICT',
      `this gateway's log has root ${toBase64(ours)} at size ${body.size}, the checkpoint says ${toBase64(body.rootHash)}: the logs have forked`,
      { size: body.size, ourRoot: toBase64(ours), theirRoot: toBase64(body.rootHash) },
    );
  }
  let theirs: KeyHeadsCommitment | undefined;
  try {
    theirs = keyHeadsOf(body);
  } catch (e) {
    if (isCoreError(e)) throw new GatewayError('E_CHECKPOINT_INVALID', e.message, { coreCode: e.code });
    throw e;
  }
  if (theirs) {
    // The key-heads commitment is recomputed too: a witness signs no head it did not compute itself.
    const own = (await o.store.keyHeadsTree(body.size)).commitment;
    if (own.count !== theirs.count || !equalBytes(own.root, theirs.root)) {
      throw new GatewayError(
        'E_CHECKPOINT_CONFLICT',
        `this gateway's key heads at size ${body.size} are ${own.count} with root ${toBase64(own.root)}, the checkpoint says ${theirs.count} with root ${toBase64(theirs.root)}`,
        { size: body.size, ourKeyHeads: toBase64(own.root), theirKeyHeads: toBase64(theirs.root) },
      );
    }
  }
  return { note: cosignCheckpoint(note, [{ name: o.origin, key: o.key }]), checkpoint: body };
}
