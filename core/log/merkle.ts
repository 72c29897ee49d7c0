/**
 * The log's Merkle tree: RFC 9162 §2.1 hashing (identical to RFC 6962 §2.1 with SHA-256) and
 * generation of inclusion and consistency proofs.
 *
 * Storage model. A *node* (level, index) is the hash of the perfect subtree over the leaves
 * [index·2^level, (index+1)·2^level). Once its last leaf is appended a node never changes, so a
 * store keeps exactly these nodes (the leaf hashes are level 0) and serves any root or proof for
 * any tree size from O(log n) of them: the hash of a range that is not a perfect subtree (the
 * right edge of a tree whose size is not a power of two) is folded from the perfect subtrees
 * that cover it. This is the model of transparency-dev/merkle (compact ranges) and tlog-tiles.
 *
 * Proof generation is split so storage I/O stays outside `core`: `inclusionPlan` and
 * `consistencyPlan` name the nodes a proof needs (pure arithmetic), a store reads them however
 * it likes (an async LevelDB batch, say), then `assembleProof` folds them into the proof. For a
 * synchronous store, `inclusionProof`/`consistencyProof`/`rootAt` do all three over a `NodeReader`.
 */
import { sha256 } from '../crypto/hash.js';
import { CoreError } from '../errors.js';
import { describeInteger } from './bits.js';

/** SHA-256 output size; every node, leaf hash and root is this long. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** RFC 9162 §2.1.1: MTH({}) = SHA-256() — the root of the empty tree. */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/** RFC 9162 §2.1.1: the leaf hash MTH({d}) = SHA-256(0x00 ‖ d). */
export function hashLeaf(entry: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + entry.length);
  buf[0] = LEAF_PREFIX;
  buf.set(entry, 1);
  return sha256(buf);
}

/** RFC 9162 §2.1.1: an interior node SHA-256(0x01 ‖ left ‖ right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = NODE_PREFIX;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

/** The largest power of two strictly less than n (n ≥ 2): the "k" of RFC 9162 §2.1.1. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * RFC 9162 §2.1.1 MTH(D[n]) straight from the definition, over entries (not leaf hashes).
 * O(n) memory and time: for small lists and as a reference; a log uses stored nodes instead.
 */
export function merkleTreeHash(entries: readonly Uint8Array[]): Uint8Array {
  const mth = (start: number, end: number): Uint8Array => {
    const n = end - start;
    if (n === 0) return emptyRoot();
    if (n === 1) return hashLeaf(entries[start]!);
    const k = splitPoint(n);
    return hashChildren(mth(start, start + k), mth(start + k, end));
  };
  return mth(0, entries.length);
}

/** A perfect subtree: the leaves [index·2^level, (index+1)·2^level). Leaf i is (0, i). */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** A node with its hash, as produced by `appendLeaf` for a store to persist. */
export interface StoredNode extends NodeId {
  readonly hash: Uint8Array;
}

/**
 * Read access to the stored perfect-subtree hashes. Implementations throw (a coded error) for a
 * node that is not stored; proof functions only ask for nodes complete at the requested size.
 */
export interface NodeReader {
  getNode(level: number, index: number): Uint8Array;
}

/**
 * The nodes a proof needs: one group per proof hash, in proof order. A group of one node is that
 * node's hash; a longer group (a range at the right edge of the tree) folds right to left,
 * see `foldNodes`.
 */
export type ProofPlan = readonly (readonly NodeId[])[];

function checkSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CoreError(
      'E_PROOF_INVALID',
      `${what} must be an integer in [0, 2^53), got ${describeInteger(value)}`,
      {
        reason: 'range',
      },
    );
  }
}

/**
 * The perfect subtrees covering the leaves [start, end), left to right, largest possible first
 * (the "compact range" of [start, end)). For [0, n) these are the subtrees of n's binary digits.
 */
export function rangeNodes(start: number, end: number): NodeId[] {
  checkSize(start, 'range start');
  checkSize(end, 'range end');
  if (start > end)
    throw new CoreError('E_PROOF_INVALID', `range [${start}, ${end}) is reversed`, { reason: 'range' });
  const out: NodeId[] = [];
  let at = start;
  while (at < end) {
    let level = 0;
    let width = 1;
    while (at % (width * 2) === 0 && at + width * 2 <= end) {
      width *= 2;
      level++;
    }
    out.push({ level, index: at / width });
    at += width;
  }
  return out;
}

/**
 * The hash of a range from the perfect subtrees covering it, left to right. RFC 9162 §2.1.1
 * splits a range at its largest power of two, so MTH = H(n₁, H(n₂, … H(nₖ₋₁, nₖ))): fold from the
 * right. Valid for ranges starting at a multiple of a power of two at least their length, which
 * every range of a root or proof is.
 */
export function foldNodes(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return emptyRoot();
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = hashChildren(hashes[i]!, acc);
  return acc;
}

/** The nodes the root of a tree of this size folds from (empty for the empty tree). */
export function rootPlan(treeSize: number): NodeId[] {
  return rangeNodes(0, treeSize);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]): the audit path of leaf `leafIndex`, deepest sibling first. */
export function inclusionPlan(leafIndex: number, treeSize: number): ProofPlan {
  checkSize(leafIndex, 'leaf index');
  checkSize(treeSize, 'tree size');
  if (leafIndex >= treeSize) {
    throw new CoreError('E_PROOF_INVALID', `leaf index ${leafIndex} is outside a tree of size ${treeSize}`, {
      reason: 'range',
    });
  }
  const out: NodeId[][] = [];
  const path = (m: number, start: number, n: number): void => {
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      path(m, start, k);
      out.push(rangeNodes(start + k, start + n));
    } else {
      path(m - k, start + k, n - k);
      out.push(rangeNodes(start, start + k));
    }
  };
  path(leafIndex, 0, treeSize);
  return out;
}

/**
 * RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true): the consistency proof from the
 * tree of size1 to the tree of size2. Empty when size1 is 0 or equals size2 (nothing to prove).
 */
export function consistencyPlan(size1: number, size2: number): ProofPlan {
  checkSize(size1, 'size1');
  checkSize(size2, 'size2');
  if (size1 > size2) {
    throw new CoreError('E_PROOF_INVALID', `a tree of size ${size2} cannot extend one of size ${size1}`, {
      reason: 'range',
    });
  }
  const out: NodeId[][] = [];
  const subproof = (m: number, start: number, n: number, complete: boolean): void => {
    if (m === n) {
      // The old tree is this very subtree: its hash is known to the verifier only at the top.
      if (!complete) out.push(rangeNodes(start, start + n));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      subproof(m, start, k, complete);
      out.push(rangeNodes(start + k, start + n));
    } else {
      subproof(m - k, start + k, n - k, false);
      out.push(rangeNodes(start, start + k));
    }
  };
  if (size1 > 0 && size1 < size2) subproof(size1, 0, size2, true);
  return out;
}

/** Folds a plan's nodes, read through `getNode`, into the proof hashes. */
export function assembleProof(plan: ProofPlan, getNode: (id: NodeId) => Uint8Array): Uint8Array[] {
  return plan.map((group) => foldNodes(group.map(getNode)));
}

function readFrom(reader: NodeReader): (id: NodeId) => Uint8Array {
  return (id) => reader.getNode(id.level, id.index);
}

/** The root hash of the tree of `treeSize` leaves held by `reader`. */
export function rootAt(reader: NodeReader, treeSize: number): Uint8Array {
  return foldNodes(rootPlan(treeSize).map(readFrom(reader)));
}

/** The inclusion proof of leaf `leafIndex` in the tree of `treeSize` leaves held by `reader`. */
export function inclusionProof(reader: NodeReader, leafIndex: number, treeSize: number): Uint8Array[] {
  return assembleProof(inclusionPlan(leafIndex, treeSize), readFrom(reader));
}

/** The consistency proof between two sizes of the tree held by `reader`. */
export function consistencyProof(reader: NodeReader, size1: number, size2: number): Uint8Array[] {
  return assembleProof(consistencyPlan(size1, size2), readFrom(reader));
}

/**
 * Appending leaf number `treeSize` completes the leaf node and one parent per trailing one bit
 * of `treeSize`: returns them, bottom up, for the store to write. Reads only the left siblings,
 * which are the right edge ("frontier") of the current tree — O(log n) reads, amortised O(1).
 */
export function appendLeaf(reader: NodeReader, treeSize: number, leafHash: Uint8Array): StoredNode[] {
  checkSize(treeSize, 'tree size');
  if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE) {
    throw new CoreError('E_PROOF_INVALID', `a leaf hash is ${HASH_SIZE} bytes`, { reason: 'hash-size' });
  }
  const out: StoredNode[] = [{ level: 0, index: treeSize, hash: leafHash }];
  let hash = leafHash;
  let index = treeSize;
  let level = 0;
  while (index % 2 === 1) {
    hash = hashChildren(reader.getNode(level, index - 1), hash);
    index = (index - 1) / 2;
    level++;
    out.push({ level, index, hash });
  }
  return out;
}

/**
 * An in-memory log tree keeping every perfect subtree: the reference `NodeReader`, for tests and
 * tools. A persistent store keeps the same nodes (see `appendLeaf`) keyed by (level, index).
 */
export class MemoryTree implements NodeReader {
  /** levels[l][i] is node (l, i); level l holds ⌊size / 2^l⌋ nodes. */
  private readonly levels: Uint8Array[][] = [];

  get size(): number {
    return this.levels[0]?.length ?? 0;
  }

  /** Appends a leaf hash (`hashLeaf(entry)`); returns the new leaf's index. */
  append(leafHash: Uint8Array): number {
    const index = this.size;
    for (const node of appendLeaf(this, index, leafHash)) {
      let level = this.levels[node.level];
      if (!level) {
        level = [];
        this.levels[node.level] = level;
      }
      level.push(node.hash);
    }
    return index;
  }

  getNode(level: number, index: number): Uint8Array {
    const hash = this.levels[level]?.[index];
    if (!hash) {
      throw new CoreError(
        'E_PROOF_INVALID',
        `node (level ${level}, index ${index}) is not in a tree of size ${this.size}`,
        {
          reason: 'range',
        },
      );
    }
    return hash;
  }

  private checkWithin(size: number): void {
    checkSize(size, 'tree size');
    if (size > this.size) {
      throw new CoreError('E_PROOF_INVALID', `tree size ${size} is beyond the current size ${this.size}`, {
        reason: 'range',
      });
    }
  }

  /** The root hash at any size up to the current one. */
  root(treeSize: number = this.size): Uint8Array {
    this.checkWithin(treeSize);
    return rootAt(this, treeSize);
  }

  inclusionProof(leafIndex: number, treeSize: number = this.size): Uint8Array[] {
    this.checkWithin(treeSize);
    return inclusionProof(this, leafIndex, treeSize);
  }

  consistencyProof(size1: number, size2: number = this.size): Uint8Array[] {
    this.checkWithin(size2);
    return consistencyProof(this, size1, size2);
  }
}
