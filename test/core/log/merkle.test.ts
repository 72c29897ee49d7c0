import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CoreError } from '../../../core/errors.js';
import { toHex } from '../../../core/encoding.js';
import {
  appendLeaf,
  consistencyPlan,
  consistencyProof,
  emptyRoot,
  hashChildren,
  hashLeaf,
  inclusionPlan,
  inclusionProof,
  MemoryTree,
  merkleTreeHash,
  type NodeReader,
  rangeNodes,
  rootAt,
} from '../../../core/log/merkle.js';
import { hex, loadVectorFile, nonEmpty, type Rfc6962Tree } from '../../vectors/log/log-vectors.js';

const tree = loadVectorFile<Rfc6962Tree>('rfc6962-tree.json');
const entries = nonEmpty(tree.leaves, 'leaf').map(hex);

function memoryTreeOf(items: readonly Uint8Array[]): MemoryTree {
  const t = new MemoryTree();
  for (const e of items) t.append(hashLeaf(e));
  return t;
}

/** RFC 9162 §2.1.3.1 PATH and §2.1.4.1 PROOF written literally over the entries: the oracle. */
function splitK(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
function refPath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = splitK(d.length);
  return m < k
    ? [...refPath(m, d.slice(0, k)), merkleTreeHash(d.slice(k))]
    : [...refPath(m - k, d.slice(k)), merkleTreeHash(d.slice(0, k))];
}
function refSubproof(m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] {
  const n = d.length;
  if (m === n) return b ? [] : [merkleTreeHash(d)];
  const k = splitK(n);
  return m <= k
    ? [...refSubproof(m, d.slice(0, k), b), merkleTreeHash(d.slice(k))]
    : [...refSubproof(m - k, d.slice(k), false), merkleTreeHash(d.slice(0, k))];
}

const hexes = (list: readonly Uint8Array[]): string[] => list.map(toHex);
const entry = (i: number): Uint8Array => Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 0x5a);

describe('RFC 6962 hashing (transparency-dev/merkle rfc6962_test.go vectors)', () => {
  it('empty tree, leaf and children hashes', () => {
    assert.equal(toHex(emptyRoot()), tree.hasher.emptyRoot);
    assert.equal(toHex(merkleTreeHash([])), tree.hasher.emptyRoot);
    for (const v of nonEmpty(tree.hasher.leaves, 'leaf hash'))
      assert.equal(toHex(hashLeaf(hex(v.entry))), v.hash);
    for (const v of nonEmpty(tree.hasher.children, 'children hash')) {
      assert.equal(toHex(hashChildren(hex(v.left), hex(v.right))), v.hash);
    }
  });

  it('a leaf hash differs from a node hash over the same bytes (second-preimage domain separation)', () => {
    const a = hashLeaf(Uint8Array.of(1));
    const b = hashLeaf(Uint8Array.of(2));
    const both = new Uint8Array([...a, ...b]);
    assert.notEqual(toHex(hashChildren(a, b)), toHex(hashLeaf(both)));
    assert.notEqual(toHex(hashChildren(a, b)), toHex(hashChildren(b, a)));
  });
});

describe('the RFC 6962 reference tree (testonly/constants.go)', () => {
  it('MTH of the first n leaves is the published root, n = 0…8', () => {
    const roots = nonEmpty(tree.roots, 'root');
    assert.equal(roots.length, 9);
    roots.forEach((root, n) => {
      assert.equal(toHex(merkleTreeHash(entries.slice(0, n))), root, `MTH size ${n}`);
    });
  });

  it('an incrementally built tree has every published node and root at every size', () => {
    const t = new MemoryTree();
    assert.equal(toHex(t.root()), tree.roots[0]);
    entries.forEach((e, i) => {
      assert.equal(t.append(hashLeaf(e)), i);
      assert.equal(toHex(t.root()), tree.roots[i + 1], `root after ${i + 1} appends`);
    });
    tree.nodeHashes.forEach((level, l) => {
      level.forEach((h, i) => {
        assert.equal(toHex(t.getNode(l, i)), h, `node (${l}, ${i})`);
      });
    });
    tree.roots.forEach((root, n) => {
      assert.equal(toHex(t.root(n)), root, `past root at size ${n}`);
    });
  });

  it('generates the published inclusion proofs', () => {
    const t = memoryTreeOf(entries);
    for (const v of nonEmpty(tree.inclusion, 'inclusion')) {
      assert.deepEqual(
        hexes(t.inclusionProof(v.leafIndex, v.treeSize)),
        v.proof,
        `${v.leafIndex}@${v.treeSize}`,
      );
    }
  });

  it('generates the published consistency proofs', () => {
    const t = memoryTreeOf(entries);
    for (const v of nonEmpty(tree.consistency, 'consistency')) {
      assert.deepEqual(hexes(t.consistencyProof(v.size1, v.size2)), v.proof, `${v.size1}→${v.size2}`);
    }
  });
});

describe('proof generation against the RFC definitions', () => {
  const N = 40;
  const items = Array.from({ length: N }, (_, i) => entry(i));
  const t = memoryTreeOf(items);

  it(`roots, audit paths and consistency proofs equal the literal RFC recursion for every size ≤ ${N}`, () => {
    for (let n = 0; n <= N; n++) {
      const d = items.slice(0, n);
      assert.equal(toHex(t.root(n)), toHex(merkleTreeHash(d)), `root ${n}`);
      for (let m = 0; m < n; m++) {
        assert.deepEqual(hexes(t.inclusionProof(m, n)), hexes(refPath(m, d)), `PATH(${m}, D[${n}])`);
      }
      for (let m = 1; m < n; m++) {
        assert.deepEqual(
          hexes(t.consistencyProof(m, n)),
          hexes(refSubproof(m, d, true)),
          `PROOF(${m}, D[${n}])`,
        );
      }
    }
  });

  it('reads only O(log n) stored nodes per root and proof', () => {
    const big = memoryTreeOf(Array.from({ length: 1000 }, (_, i) => entry(i)));
    let reads = 0;
    const counting: NodeReader = {
      getNode: (l, i) => {
        reads++;
        return big.getNode(l, i);
      },
    };
    const count = (f: () => unknown): number => {
      reads = 0;
      f();
      return reads;
    };
    assert.ok(count(() => rootAt(counting, 999)) <= 10);
    for (const [m, n] of [
      [0, 999],
      [500, 777],
      [998, 999],
    ] as const) {
      assert.ok(count(() => inclusionProof(counting, m, n)) <= 2 * 10, `inclusion ${m}@${n}`);
      assert.ok(count(() => consistencyProof(counting, m + 1, n)) <= 3 * 10, `consistency ${m + 1}→${n}`);
    }
  });

  it('appendLeaf completes the leaf and one parent per trailing one bit', () => {
    const t = memoryTreeOf(items.slice(0, 7));
    const nodes = appendLeaf(t, 7, hashLeaf(items[7]!));
    assert.deepEqual(
      nodes.map((n) => [n.level, n.index]),
      [
        [0, 7],
        [1, 3],
        [2, 1],
        [3, 0],
      ],
    );
    assert.equal(toHex(nodes.at(-1)!.hash), toHex(merkleTreeHash(items.slice(0, 8))));
    assert.deepEqual(
      appendLeaf(t, 6, hashLeaf(items[6]!)).map((n) => [n.level, n.index]),
      [[0, 6]],
    );
  });

  it('rangeNodes covers a range with the largest aligned perfect subtrees', () => {
    const ids = (s: number, e: number) => rangeNodes(s, e).map((n) => `${n.level}:${n.index}`);
    assert.deepEqual(ids(0, 7), ['2:0', '1:2', '0:6']);
    assert.deepEqual(ids(4, 7), ['1:2', '0:6']);
    assert.deepEqual(ids(3, 9), ['0:3', '2:1', '0:8']);
    assert.deepEqual(ids(5, 5), []);
    const huge = 2 ** 53 - 1;
    assert.equal(rangeNodes(0, huge).length, 53);
    assert.deepEqual(rangeNodes(0, 2 ** 52)[0], { level: 52, index: 0 });
  });

  it('plans for trees near 2^53 leaves need no more than 2 × 53 nodes (no 32-bit overflow)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.nat(), (size, r) => {
        const index = r % size;
        const incl = inclusionPlan(index, size).flat();
        const cons = consistencyPlan(index, size).flat();
        assert.ok(incl.length <= 2 * 53 && cons.length <= 3 * 53);
        for (const id of [...incl, ...cons]) {
          assert.ok(
            Number.isSafeInteger(id.index) && (id.index + 1) * 2 ** id.level <= size,
            'node inside the tree',
          );
        }
      }),
    );
  });

  it('rejects impossible requests with E_PROOF_INVALID', () => {
    const isProofInvalid = (e: unknown) => e instanceof CoreError && e.code === 'E_PROOF_INVALID';
    assert.throws(() => inclusionPlan(0, 0), isProofInvalid);
    assert.throws(() => inclusionPlan(8, 8), isProofInvalid);
    assert.throws(() => inclusionPlan(-1, 8), isProofInvalid);
    assert.throws(() => inclusionPlan(0.5, 8), isProofInvalid);
    assert.throws(() => inclusionPlan(0, 2 ** 53), isProofInvalid);
    assert.throws(() => consistencyPlan(5, 4), isProofInvalid);
    assert.throws(() => t.root(N + 1), isProofInvalid);
    assert.throws(() => t.consistencyProof(1, N + 1), isProofInvalid);
    assert.throws(() => t.getNode(0, N), isProofInvalid);
    assert.throws(() => t.append(new Uint8Array(31)), isProofInvalid);
    assert.deepEqual(consistencyPlan(0, 5), []);
    assert.deepEqual(consistencyPlan(5, 5), []);
  });
});

describe('MemoryTree properties', () => {
  it('the root at any past size equals MTH over that prefix', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 70 }), fc.nat(), (items, r) => {
        const t = memoryTreeOf(items);
        const n = r % (items.length + 1);
        assert.equal(toHex(t.root(n)), toHex(merkleTreeHash(items.slice(0, n))));
      }),
      { numRuns: 60 },
    );
  });
});
