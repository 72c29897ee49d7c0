/**
 * The key-heads commitment (docs/transparency.md §3.1, docs/bundle-format.md §6.2): a checkpoint
 * extension line with the RFC 9162 Merkle tree hash over the newest key-entry leaf of every key id
 * in the checkpoint's tree, sorted by key id. With it, a bundle proves each signer key's head — so a
 * later rotation or revocation cannot be left out — instead of the exporter stating it.
 *
 *   extension line = "torgo/key-heads/v1" SP <count> SP <base64 root>
 *   leaf i         = hashLeaf(canonical JSON {"head":<leaf index>,"keyId":"<key id>"}), i-th in key id order
 */
import { fromBase64, toBase64, utf8 } from '../encoding.js';
import { CoreError } from '../errors.js';
import { canonicalJson } from '../json.js';
import type { Checkpoint } from '../log/checkpoint.js';
import { emptyRoot, hashLeaf, inclusionProof, MemoryTree, rootAt } from '../log/merkle.js';
import { verifyInclusion } from '../log/proof.js';

export const KEY_HEADS_EXTENSION = 'torgo/key-heads/v1';

export interface KeyHead {
  readonly keyId: string;
  /** Leaf index of the key's newest key entry. */
  readonly head: number;
}

export interface KeyHeadsCommitment {
  readonly count: number;
  readonly root: Uint8Array;
}

/** A key id's head in the commitment: its position in key id order and the inclusion proof. */
export interface KeyHeadProof {
  readonly index: number;
  readonly proof: readonly string[];
}

export function keyHeadLeaf(h: KeyHead): Uint8Array {
  return hashLeaf(utf8(canonicalJson({ head: h.head, keyId: h.keyId })));
}

const byKeyId = (a: KeyHead, b: KeyHead) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0);

/** The tree over the heads (sorted here; key ids must be distinct). */
export class KeyHeadsTree {
  private readonly tree = new MemoryTree();
  private readonly position = new Map<string, number>();
  constructor(heads: readonly KeyHead[]) {
    const sorted = [...heads].sort(byKeyId);
    for (const h of sorted) {
      if (this.position.has(h.keyId)) throw new CoreError('E_PROOF_INVALID', `key ${h.keyId} has two heads`);
      this.position.set(h.keyId, this.tree.append(keyHeadLeaf(h)));
    }
  }
  get commitment(): KeyHeadsCommitment {
    const n = this.tree.size;
    return { count: n, root: n === 0 ? emptyRoot() : rootAt(this.tree, n) };
  }
  get line(): string {
    const c = this.commitment;
    return `${KEY_HEADS_EXTENSION} ${c.count} ${toBase64(c.root)}`;
  }
  proof(keyId: string): KeyHeadProof | undefined {
    const index = this.position.get(keyId);
    if (index === undefined) return undefined;
    return { index, proof: inclusionProof(this.tree, index, this.tree.size).map(toBase64) };
  }
}

/** The commitment in a checkpoint's extension lines, if it has one (at most one, strictly formed). */
export function keyHeadsOf(checkpoint: Checkpoint): KeyHeadsCommitment | undefined {
  const lines = (checkpoint.extensions ?? []).filter((l) => l.startsWith(`${KEY_HEADS_EXTENSION} `));
  if (lines.length === 0) return undefined;
  const m = lines.length === 1 ? /^\S+ (0|[1-9][0-9]{0,15}) ([A-Za-z0-9+/]{43}=)$/.exec(lines[0]!) : null;
  if (!m) throw new CoreError('E_CHECKPOINT_SYNTAX', `malformed ${KEY_HEADS_EXTENSION} extension line`);
  const count = Number(m[1]);
  if (!Number.isSafeInteger(count))
    throw new CoreError('E_CHECKPOINT_SYNTAX', 'key-heads count out of range');
  const root = fromBase64(m[2]!, 'E_CHECKPOINT_SYNTAX', 'key-heads root');
  if (toBase64(root) !== m[2])
    throw new CoreError('E_CHECKPOINT_SYNTAX', 'key-heads root is not canonical base64');
  return { count, root };
}

/** Checks that `head` is the key's head in the commitment (RFC 9162 §2.1.3.2); E_PROOF_INVALID if not. */
export function verifyKeyHead(h: KeyHead, p: KeyHeadProof, c: KeyHeadsCommitment): void {
  const proof = p.proof.map((n) => fromBase64(n, 'E_PROOF_INVALID', 'key-heads proof node'));
  verifyInclusion(p.index, c.count, keyHeadLeaf(h), proof, c.root);
}
