/**
 * Verification of inclusion and consistency proofs (RFC 9162 §2.1.3.2 and §2.1.4.2). Every input
 * is attacker-controlled: sizes, indexes, hashes and proofs come from a bundle or a server. A
 * failed check throws CoreError('E_PROOF_INVALID') saying what did not hold; nothing returns false.
 *
 * The proof is split the way transparency-dev/merkle and sigstore do it: the "inner" part of an
 * audit path climbs the subtree that both the leaf and the tree's last leaf belong to (siblings
 * on either side), the "border" part then climbs the right border of the tree, where every
 * sibling is on the left.
 */
import { CoreError } from '../errors.js';
import { equalBytes, toHex } from '../encoding.js';
import {
  bitAt,
  bitLength,
  describeInteger,
  isPowerOfTwo,
  onesCount,
  shiftRight,
  trailingZeros,
  xor,
} from './bits.js';
import { emptyRoot, HASH_SIZE, hashChildren } from './merkle.js';

function invalid(message: string, reason: string, details?: Record<string, unknown>): CoreError {
  return new CoreError('E_PROOF_INVALID', message, { reason, ...details });
}

function checkSize(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be an integer in [0, 2^53), got ${describeInteger(value)}`, 'range');
  }
}

function checkHash(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== HASH_SIZE) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw invalid(`${what} must be a ${HASH_SIZE}-byte SHA-256 hash, got ${got}`, 'hash-size');
  }
}

function checkProof(proof: unknown, expected: number, what: string): asserts proof is readonly Uint8Array[] {
  if (!Array.isArray(proof)) throw invalid(`${what} must be a list of hashes`, 'proof-length');
  if (proof.length !== expected) {
    throw invalid(`${what} has ${proof.length} hashes; it must have exactly ${expected}`, 'proof-length', {
      expected,
      got: proof.length,
    });
  }
  // Indexes, not forEach: a sparse array's holes must be checked too.
  for (let i = 0; i < proof.length; i++) checkHash(proof[i], `${what} hash ${i}`);
}

/**
 * The shape of an audit path for `index` in a tree of `size` leaves: `inner` hashes below the
 * level where the paths to `index` and to the last leaf (size − 1) meet, then `border` hashes,
 * one per left sibling on the right border above it.
 */
export function decompInclProof(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  const border = onesCount(shiftRight(index, inner));
  return { inner, border };
}

/**
 * Climbs the inner part of a path: bit i of `index` says whether `seed` is a right child at level i.
 * `nodes`, when given, receives the node reached after each step.
 */
export function chainInner(
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  index: number,
  nodes?: Uint8Array[],
): Uint8Array {
  let acc = seed;
  proof.forEach((h, i) => {
    acc = bitAt(index, i) === 0 ? hashChildren(acc, h) : hashChildren(h, acc);
    nodes?.push(acc);
  });
  return acc;
}

/**
 * Like `chainInner` but only through left siblings (where `seed` is a right child): recomputes
 * the old, smaller tree's root in a consistency proof, which has no right siblings.
 */
export function chainInnerRight(seed: Uint8Array, proof: readonly Uint8Array[], index: number): Uint8Array {
  let acc = seed;
  proof.forEach((h, i) => {
    if (bitAt(index, i) === 1) acc = hashChildren(h, acc);
  });
  return acc;
}

/** Climbs the right border of the tree: every remaining sibling is on the left. */
export function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  let acc = seed;
  for (const h of proof) acc = hashChildren(h, acc);
  return acc;
}

/** Checks an inclusion proof's shape (indexes, hash sizes, number of hashes); returns its split. */
function checkInclusionShape(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): { inner: number; border: number } {
  checkSize(leafIndex, 'leaf index');
  checkSize(treeSize, 'tree size');
  if (leafIndex >= treeSize) {
    throw invalid(`leaf index ${leafIndex} is outside a tree of size ${treeSize}`, 'range');
  }
  checkHash(leafHash, 'leaf hash');
  const split = decompInclProof(leafIndex, treeSize);
  checkProof(
    proof,
    split.inner + split.border,
    `inclusion proof for leaf ${leafIndex} in a tree of size ${treeSize}`,
  );
  return split;
}

/**
 * RFC 9162 §2.1.3.2: the root hash an inclusion proof leads to. Checks the proof's shape
 * (indexes, hash sizes, number of hashes) but not the result: see `verifyInclusion`. `nodes`, when
 * given, receives the leaf hash and the node reached after each inner step (InclusionVerifier).
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  nodes?: Uint8Array[],
): Uint8Array {
  const { inner } = checkInclusionShape(leafIndex, treeSize, leafHash, proof);
  nodes?.push(leafHash);
  const acc = chainInner(leafHash, proof.slice(0, inner), leafIndex, nodes);
  return chainBorderRight(acc, proof.slice(inner));
}

/** RFC 9162 §2.1.3.2: checks that `leafHash` is leaf `leafIndex` of the tree of `treeSize` with `root`. */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
  nodes?: Uint8Array[],
): void {
  checkHash(root, 'root hash');
  const computed = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof, nodes);
  if (!equalBytes(computed, root)) {
    throw invalid(
      `inclusion proof for leaf ${leafIndex} leads to root ${toHex(computed)}, not the expected ${toHex(root)}`,
      'root-mismatch',
    );
  }
}

/** Hashes equal byte for byte; the same object (a node decoded once and reused) is equal at once. */
function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || equalBytes(a, b);
}

/**
 * `verifyInclusion` for many leaves of one tree (a bundle's receipts): the same verdict and the
 * same error for every input, with less hashing when leaves come in order.
 *
 * The audit paths of leaves i and j meet at level d = bitLength(i xor j), at the subtree holding
 * both, when d is at most the inner length of both paths (then both have the same inner length,
 * the same number of hashes, and the same directions above level d). From there on both paths
 * climb through the same nodes with the same siblings. So if the last proof that verified (i's)
 * reached node N after d steps, and j's first d steps lead to N too and the rest of j's proof is
 * i's, hash for hash, then the rest of j's computation is i's and leads to the same root, the
 * trusted one: j's proof verifies. Otherwise the whole proof is recomputed as `verifyInclusion`
 * does, and fails as it would. Consecutive leaves cost 2 hashes on average instead of log₂ n.
 */
export class InclusionVerifier {
  private last:
    | { index: number; inner: number; nodes: Uint8Array[]; proof: readonly Uint8Array[] }
    | undefined;

  constructor(
    private readonly treeSize: number,
    private readonly root: Uint8Array,
  ) {}

  verify(leafIndex: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): void {
    checkHash(this.root, 'root hash');
    const { inner } = checkInclusionShape(leafIndex, this.treeSize, leafHash, proof);
    if (this.sharesVerifiedPath(leafIndex, inner, leafHash, proof)) return;
    const nodes: Uint8Array[] = [];
    verifyInclusion(leafIndex, this.treeSize, leafHash, proof, this.root, nodes);
    this.last = { index: leafIndex, inner, nodes, proof };
  }

  /** Whether the proof joins the last verified path at the node where the two paths meet (see above). */
  private sharesVerifiedPath(
    leafIndex: number,
    inner: number,
    leafHash: Uint8Array,
    proof: readonly Uint8Array[],
  ): boolean {
    const last = this.last;
    if (!last) return false;
    const d = bitLength(xor(leafIndex, last.index));
    if (d > inner || d > last.inner || proof.length !== last.proof.length) return false;
    for (let k = d; k < proof.length; k++) if (!sameHash(proof[k]!, last.proof[k]!)) return false;
    const nodes = [leafHash];
    const node = chainInner(leafHash, proof.slice(0, d), leafIndex, nodes);
    if (!sameHash(node, last.nodes[d]!)) return false;
    for (let k = d + 1; k < last.nodes.length; k++) nodes.push(last.nodes[k]!);
    this.last = { index: leafIndex, inner, nodes, proof };
    return true;
  }
}

/**
 * RFC 9162 §2.1.4.2: checks that the tree of size2 with root2 extends the tree of size1 with root1
 * (append-only). Stricter than the RFC at the edges: equal sizes need equal roots and an empty
 * proof, and size1 = 0 needs root1 to be the empty tree's root (and an empty proof).
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  checkSize(size1, 'size1');
  checkSize(size2, 'size2');
  checkHash(root1, 'root1');
  checkHash(root2, 'root2');
  if (size2 < size1)
    throw invalid(`size2 (${size2}) is smaller than size1 (${size1}): a log never shrinks`, 'shrink');
  if (size1 === size2) {
    checkProof(proof, 0, `consistency proof between equal sizes`);
    if (!equalBytes(root1, root2))
      throw invalid(`two different roots for the same tree size ${size1}`, 'root-mismatch');
    return;
  }
  if (size1 === 0) {
    checkProof(proof, 0, 'consistency proof from the empty tree');
    if (!equalBytes(root1, emptyRoot()))
      throw invalid('root1 is not the root of the empty tree', 'root-mismatch');
    return;
  }

  // The old tree's last leaf (size1 − 1) has an audit path in the new tree. Its lowest `shift`
  // levels lie inside a perfect subtree of the old tree, which the proof gives as one hash
  // (its first element) — or omits when the old tree is itself that subtree (size1 = 2^shift).
  const shift = trailingZeros(size1);
  const { inner: innerFull, border } = decompInclProof(size1 - 1, size2);
  const inner = innerFull - shift;
  const startsWithSeed = !isPowerOfTwo(size1);
  const what = `consistency proof from size ${size1} to ${size2}`;
  checkProof(proof, (startsWithSeed ? 1 : 0) + inner + border, what);
  const seed = startsWithSeed ? proof[0]! : root1;
  const path = startsWithSeed ? proof.slice(1) : proof;
  const mask = shiftRight(size1 - 1, shift);

  const computed1 = chainBorderRight(chainInnerRight(seed, path.slice(0, inner), mask), path.slice(inner));
  if (!equalBytes(computed1, root1)) {
    throw invalid(`${what} does not lead to root1 ${toHex(root1)}`, 'root-mismatch', { which: 'root1' });
  }
  const computed2 = chainBorderRight(chainInner(seed, path.slice(0, inner), mask), path.slice(inner));
  if (!equalBytes(computed2, root2)) {
    throw invalid(`${what} does not lead to root2 ${toHex(root2)}`, 'root-mismatch', { which: 'root2' });
  }
}
