import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CoreError } from '../../../core/errors.js';
import { fromBase64 } from '../../../core/encoding.js';
import { bitLength, onesCount, trailingZeros, xor } from '../../../core/log/bits.js';
import {
  consistencyProof,
  emptyRoot,
  hashChildren,
  hashLeaf,
  inclusionProof,
  MemoryTree,
  type NodeReader,
  rootAt,
} from '../../../core/log/merkle.js';
import {
  decompInclProof,
  InclusionVerifier,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../../core/log/proof.js';
import {
  type ConsistencyCase,
  hex,
  type InclusionCase,
  loadVectorFile,
  nonEmpty,
  type Rfc6962Tree,
  type UpstreamCase,
} from '../../vectors/log/log-vectors.js';

const tree = loadVectorFile<Rfc6962Tree>('rfc6962-tree.json');
const upstreamInclusion = loadVectorFile<{ cases: UpstreamCase<InclusionCase>[] }>(
  'transparency-dev-inclusion.json',
);
const upstreamConsistency = loadVectorFile<{ cases: UpstreamCase<ConsistencyCase>[] }>(
  'transparency-dev-consistency.json',
);

const isProofInvalid = (e: unknown): boolean => e instanceof CoreError && e.code === 'E_PROOF_INVALID';
const reasonOf = (f: () => void): string => {
  try {
    f();
  } catch (e) {
    assert.ok(isProofInvalid(e), `expected E_PROOF_INVALID, got ${String(e)}`);
    return String((e as CoreError).details?.['reason']);
  }
  assert.fail('expected E_PROOF_INVALID, but the proof verified');
};
const b64 = (s: string): Uint8Array => fromBase64(s, 'E_PROOF_INVALID', 'vector');
const flip = (h: Uint8Array, bit: number): Uint8Array => {
  const c = h.slice();
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

function treeOf(size: number, salt = 0): MemoryTree {
  const t = new MemoryTree();
  for (let i = 0; i < size; i++) t.append(hashLeaf(Uint8Array.of(i & 0xff, i >> 8, salt)));
  return t;
}

describe('verification: RFC 6962 reference tree (transparency-dev/merkle verify_test.go)', () => {
  const leafHash = (i: number) => hashLeaf(hex(tree.leaves[i]!));
  const root = (n: number) => hex(tree.roots[n]!);

  it('the published inclusion proofs verify, and every corruption upstream tries is rejected', () => {
    for (const v of nonEmpty(tree.inclusion, 'inclusion')) {
      const proof = v.proof.map(hex);
      const { leafIndex: i, treeSize: n } = v;
      verifyInclusion(i, n, leafHash(i), proof, root(n));
      assert.deepEqual(rootFromInclusionProof(i, n, leafHash(i), proof), root(n));
      const probes: [string, () => void][] = [
        ['leafIndex - 1', () => verifyInclusion(i - 1, n, leafHash(i), proof, root(n))],
        ['leafIndex + 1', () => verifyInclusion(i + 1, n, leafHash(i), proof, root(n))],
        ['leafIndex ^ 2', () => verifyInclusion(i ^ 2, n, leafHash(i), proof, root(n))],
        ['treeSize * 2', () => verifyInclusion(i, n * 2, leafHash(i), proof, root(n))],
        ['treeSize / 2', () => verifyInclusion(i, Math.floor(n / 2), leafHash(i), proof, root(n))],
        ['wrong leaf', () => verifyInclusion(i, n, hashLeaf(Uint8Array.of(9)), proof, root(n))],
        ['empty root', () => verifyInclusion(i, n, leafHash(i), proof, emptyRoot())],
        [
          'trailing garbage',
          () => verifyInclusion(i, n, leafHash(i), [...proof, new Uint8Array(0)], root(n)),
        ],
        ['trailing root', () => verifyInclusion(i, n, leafHash(i), [...proof, root(n)], root(n))],
        [
          'preceding garbage',
          () => verifyInclusion(i, n, leafHash(i), [new Uint8Array(0), ...proof], root(n)),
        ],
        ['preceding root', () => verifyInclusion(i, n, leafHash(i), [root(n), ...proof], root(n))],
        ...proof.map((_, k): [string, () => void] => [
          `modified proof[${k}] bit 3`,
          () => verifyInclusion(i, n, leafHash(i), proof.with(k, flip(proof[k]!, 3)), root(n)),
        ]),
      ];
      if (proof.length > 0) {
        probes.push([
          'removed component',
          () => verifyInclusion(i, n, leafHash(i), proof.slice(0, -1), root(n)),
        ]);
      }
      for (const [desc, probe] of probes) assert.throws(probe, isProofInvalid, `${i}@${n}: ${desc}`);
    }
  });

  it('the published consistency proofs verify, and every corruption upstream tries is rejected', () => {
    for (const v of nonEmpty(tree.consistency, 'consistency')) {
      const proof = v.proof.map(hex);
      const { size1: m, size2: n } = v;
      verifyConsistency(m, n, proof, root(m), root(n));
      if (proof.length === 0) continue;
      const probes: [string, () => void][] = [
        ['size1 - 1', () => verifyConsistency(m - 1, n, proof, root(m), root(n))],
        ['size1 + 1', () => verifyConsistency(m + 1, n, proof, root(m), root(n))],
        ['size1 ^ 2', () => verifyConsistency(m ^ 2, n, proof, root(m), root(n))],
        ['size2 * 2', () => verifyConsistency(m, n * 2, proof, root(m), root(n))],
        ['size2 / 2', () => verifyConsistency(m, Math.floor(n / 2), proof, root(m), root(n))],
        ['swapped roots', () => verifyConsistency(m, n, proof, root(n), root(m))],
        ['empty proof', () => verifyConsistency(m, n, [], root(m), root(n))],
        ['trailing root2', () => verifyConsistency(m, n, [...proof, root(n)], root(m), root(n))],
        ['preceding root1', () => verifyConsistency(m, n, [root(m), ...proof], root(m), root(n))],
        ['preceding proof[0]', () => verifyConsistency(m, n, [proof[0]!, ...proof], root(m), root(n))],
        ['truncated proof', () => verifyConsistency(m, n, proof.slice(0, -1), root(m), root(n))],
        ...proof.map((_, k): [string, () => void] => [
          `modified proof[${k}] bit 4`,
          () => verifyConsistency(m, n, proof.with(k, flip(proof[k]!, 4)), root(m), root(n)),
        ]),
      ];
      for (const [desc, probe] of probes) assert.throws(probe, isProofInvalid, `${m}→${n}: ${desc}`);
    }
  });
});

describe('verification: transparency-dev/merkle testdata (cross-implementation cases)', () => {
  const proofOf = (p: string[] | null) => (p ?? []).map(b64);

  it('inclusion cases: happy paths verify, every wantErr case is E_PROOF_INVALID', () => {
    const cases = nonEmpty(upstreamInclusion.cases, 'upstream inclusion');
    assert.equal(cases.filter((c) => !c.case.wantErr).length, 5);
    for (const { file, case: c } of cases) {
      const run = () =>
        verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), proofOf(c.proof), b64(c.root));
      if (c.wantErr) assert.throws(run, isProofInvalid, file);
      else assert.doesNotThrow(run, file);
    }
  });

  it('consistency cases: happy paths verify, every wantErr case is E_PROOF_INVALID', () => {
    const cases = nonEmpty(upstreamConsistency.cases, 'upstream consistency');
    assert.equal(cases.filter((c) => !c.case.wantErr).length, 5);
    for (const { file, case: c } of cases) {
      const run = () => verifyConsistency(c.size1, c.size2, proofOf(c.proof), b64(c.root1), b64(c.root2));
      if (c.wantErr) assert.throws(run, isProofInvalid, file);
      else assert.doesNotThrow(run, file);
    }
  });
});

describe('verification edge cases', () => {
  const h = hashLeaf(Uint8Array.of(1));

  it('a one-leaf tree: the leaf hash is the root, the proof is empty', () => {
    verifyInclusion(0, 1, h, [], h);
    assert.equal(
      reasonOf(() => verifyInclusion(0, 1, h, [], emptyRoot())),
      'root-mismatch',
    );
    assert.equal(
      reasonOf(() => verifyInclusion(0, 1, new Uint8Array(0), [], h)),
      'hash-size',
    );
    assert.equal(
      reasonOf(() => verifyInclusion(0, 1, h, [], new Uint8Array(0))),
      'hash-size',
    );
  });

  it('no leaf is in the empty tree; an index must be inside the tree', () => {
    assert.equal(
      reasonOf(() => verifyInclusion(0, 0, h, [], emptyRoot())),
      'range',
    );
    assert.equal(
      reasonOf(() => verifyInclusion(2, 1, h, [], h)),
      'range',
    );
    assert.equal(
      reasonOf(() => verifyInclusion(-1, 4, h, [], h)),
      'range',
    );
    assert.equal(
      reasonOf(() => verifyInclusion(1.5, 4, h, [], h)),
      'range',
    );
    assert.equal(
      reasonOf(() => verifyInclusion(0, 2 ** 53, h, [], h)),
      'range',
    );
  });

  it('equal sizes need equal roots and an empty proof', () => {
    verifyConsistency(1, 1, [], h, h);
    verifyConsistency(0, 0, [], emptyRoot(), emptyRoot());
    assert.equal(
      reasonOf(() => verifyConsistency(1, 1, [], h, emptyRoot())),
      'root-mismatch',
    );
    assert.equal(
      reasonOf(() => verifyConsistency(1, 1, [h], h, h)),
      'proof-length',
    );
  });

  it('the empty tree is consistent with any tree, if root1 really is the empty root', () => {
    verifyConsistency(0, 5, [], emptyRoot(), h);
    assert.equal(
      reasonOf(() => verifyConsistency(0, 5, [], h, h)),
      'root-mismatch',
    );
    assert.equal(
      reasonOf(() => verifyConsistency(0, 5, [h], emptyRoot(), h)),
      'proof-length',
    );
  });

  it('a log never shrinks', () => {
    assert.equal(
      reasonOf(() => verifyConsistency(2, 1, [], h, h)),
      'shrink',
    );
    assert.equal(
      reasonOf(() => verifyConsistency(1, 0, [], h, emptyRoot())),
      'shrink',
    );
  });

  it('a sparse proof array is checked hole by hole', () => {
    const t = treeOf(8);
    const sparse = t.inclusionProof(3);
    delete sparse[1];
    assert.equal(
      reasonOf(() => verifyInclusion(3, 8, t.getNode(0, 3), sparse, t.root())),
      'hash-size',
    );
  });

  it('a non-empty proof between different sizes is required', () => {
    assert.equal(
      reasonOf(() => verifyConsistency(1, 2, [], h, h)),
      'proof-length',
    );
  });

  it('says which root did not match', () => {
    const t = treeOf(10);
    const proof = t.consistencyProof(3, 10);
    assert.throws(
      () => verifyConsistency(3, 10, proof, t.root(3), t.root(9)),
      (e: unknown) => isProofInvalid(e) && (e as CoreError).details?.['which'] === 'root2',
    );
  });

  it('values JSON.parse can produce that break String() are coded errors', () => {
    for (const bad of [
      JSON.parse('{"toString": 1}'),
      Object.create(null),
      [1, 2],
      '3',
      null,
      undefined,
      3n,
    ]) {
      assert.equal(
        reasonOf(() => verifyInclusion(bad, 8, h, [], h)),
        'range',
      );
      assert.equal(
        reasonOf(() => verifyConsistency(1, bad, [], h, h)),
        'range',
      );
      assert.equal(
        reasonOf(() => verifyInclusion(0, 1, bad, [], h)),
        'hash-size',
      );
    }
  });

  it('hostile argument types are coded errors, never TypeError or RangeError', () => {
    const anyArg = fc.oneof(
      fc.anything({
        withNullPrototype: true,
        withObjectString: true,
        withSparseArray: true,
        withBoxedValues: true,
      }),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 4 }),
      fc.double(),
      fc.bigInt(),
    );
    fc.assert(
      fc.property(anyArg, anyArg, anyArg, anyArg, anyArg, (a, b, c, d, e) => {
        for (const f of [
          () =>
            verifyInclusion(a as number, b as number, c as Uint8Array, d as Uint8Array[], e as Uint8Array),
          () =>
            verifyConsistency(a as number, b as number, c as Uint8Array[], d as Uint8Array, e as Uint8Array),
        ]) {
          try {
            f();
          } catch (err) {
            assert.ok(err instanceof CoreError, `uncoded ${String(err)}`);
          }
        }
      }),
    );
  });
});

/** What a check did: 'ok', or the error's code, reason and message. */
function outcome(f: () => void): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    const c = e as CoreError;
    return `${c.code} ${String(c.details?.['reason'])} ${c.message}`;
  }
}

describe('InclusionVerifier: verifyInclusion for many leaves of one tree', () => {
  /** One leaf's check as a bundle may present it: the true proof, or one tampered with. */
  const tamper = fc.record({
    index: fc.nat(),
    how: fc.constantFrom('none', 'none', 'none', 'node', 'leaf', 'index', 'short', 'long', 'swap'),
    k: fc.nat(),
    bit: fc.nat(255),
  });

  it('gives every leaf, in any order, the verdict and the error verifyInclusion gives', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.array(tamper, { maxLength: 60 }), (size, steps) => {
        const t = treeOf(size);
        const root = t.root();
        const verifier = new InclusionVerifier(size, root);
        // In order first (the fast path), then the random sequence (jumps, repeats, tampering).
        const all = [
          ...Array.from({ length: Math.min(size, 40) }, (_, index) => ({ index, how: 'none', k: 0, bit: 0 })),
          ...steps,
        ];
        for (const s of all) {
          let i = s.index % size;
          let leaf = t.getNode(0, i);
          let proof = t.inclusionProof(i);
          const k = proof.length ? s.k % proof.length : 0;
          if (s.how === 'node' && proof.length) proof = proof.with(k, flip(proof[k]!, s.bit));
          if (s.how === 'leaf') leaf = flip(leaf, s.bit);
          if (s.how === 'index') i = (i + 1 + (s.k % size)) % size;
          if (s.how === 'short') proof = proof.slice(0, -1);
          if (s.how === 'long') proof = [...proof, root];
          if (s.how === 'swap' && proof.length > 1) proof = proof.with(k, proof[(k + 1) % proof.length]!);
          const expected = outcome(() => verifyInclusion(i, size, leaf, proof, root));
          assert.equal(
            outcome(() => verifier.verify(i, leaf, proof)),
            expected,
            `${s.how} ${i}@${size}`,
          );
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a tampered node above the level where two neighbours meet is caught, with the same error', () => {
    const size = 1000;
    const t = treeOf(size);
    const root = t.root();
    const verifier = new InclusionVerifier(size, root);
    verifier.verify(500, t.getNode(0, 500), t.inclusionProof(500));
    // Leaf 501 meets 500 at level 1: its nodes 1.. are 500's; change the top one.
    const proof = t.inclusionProof(501);
    const bad = proof.with(proof.length - 1, flip(proof[proof.length - 1]!, 0));
    const expected = outcome(() => verifyInclusion(501, size, t.getNode(0, 501), bad, root));
    assert.match(expected, /^E_PROOF_INVALID root-mismatch/);
    assert.equal(
      outcome(() => verifier.verify(501, t.getNode(0, 501), bad)),
      expected,
    );
    // …and the good proof still verifies after it.
    verifier.verify(501, t.getNode(0, 501), proof);
  });

  it('a wrong root fails every leaf, as verifyInclusion does', () => {
    const t = treeOf(20);
    const wrong = flip(t.root(), 7);
    const verifier = new InclusionVerifier(20, wrong);
    for (let i = 0; i < 20; i++) {
      const expected = outcome(() => verifyInclusion(i, 20, t.getNode(0, i), t.inclusionProof(i), wrong));
      assert.match(expected, /^E_PROOF_INVALID/);
      assert.equal(
        outcome(() => verifier.verify(i, t.getNode(0, i), t.inclusionProof(i))),
        expected,
      );
    }
  });
});

describe('verification properties (fast-check)', () => {
  it('every leaf’s inclusion proof verifies, for random tree sizes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 150 }), fc.nat(255), (size, salt) => {
        const t = treeOf(size, salt);
        const root = t.root();
        for (let i = 0; i < size; i++) {
          verifyInclusion(i, size, t.getNode(0, i), t.inclusionProof(i), root);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('every pair of sizes up to 64 has a verifying consistency proof (exhaustive)', () => {
    const t = treeOf(64);
    for (let m = 0; m <= 64; m++) {
      for (let n = m; n <= 64; n++) verifyConsistency(m, n, t.consistencyProof(m, n), t.root(m), t.root(n));
    }
  });

  it('random pairs of sizes up to 1000 have verifying consistency proofs', () => {
    const t = treeOf(1000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (a, b) => {
        const [m, n] = a <= b ? [a, b] : [b, a];
        verifyConsistency(m, n, t.consistencyProof(m, n), t.root(m), t.root(n));
      }),
      { numRuns: 300 },
    );
  });

  it('any flipped bit in an inclusion proof, its root or its leaf hash fails', () => {
    const t = treeOf(300);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.nat(),
        fc.nat(),
        fc.nat(255),
        (size, r, which, bit) => {
          const index = r % size;
          const proof = t.inclusionProof(index, size);
          const leaf = t.getNode(0, index);
          const root = t.root(size);
          const target = which % (proof.length + 2);
          if (target === proof.length) {
            assert.throws(() => verifyInclusion(index, size, flip(leaf, bit), proof, root), isProofInvalid);
          } else if (target === proof.length + 1) {
            assert.throws(() => verifyInclusion(index, size, leaf, proof, flip(root, bit)), isProofInvalid);
          } else {
            const bad = proof.with(target, flip(proof[target]!, bit));
            assert.throws(() => verifyInclusion(index, size, leaf, bad, root), isProofInvalid);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('any flipped bit in a consistency proof or either root fails', () => {
    const t = treeOf(300);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 299 }),
        fc.integer({ min: 1, max: 300 }),
        fc.nat(),
        fc.nat(255),
        (a, b, which, bit) => {
          const m = Math.min(a, b);
          const n = Math.max(a, b) === m ? m + 1 : Math.max(a, b);
          const proof = t.consistencyProof(m, n);
          const root1 = t.root(m);
          const root2 = t.root(n);
          const target = which % (proof.length + 2);
          if (target === proof.length) {
            assert.throws(() => verifyConsistency(m, n, proof, flip(root1, bit), root2), isProofInvalid);
          } else if (target === proof.length + 1) {
            assert.throws(() => verifyConsistency(m, n, proof, root1, flip(root2, bit)), isProofInvalid);
          } else {
            const bad = proof.with(target, flip(proof[target]!, bit));
            assert.throws(() => verifyConsistency(m, n, bad, root1, root2), isProofInvalid);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('proofs for trees of up to 2^53 − 1 leaves generate and verify (exact 53-bit arithmetic)', () => {
    // A tree whose leaves all hash to `leaf`: node (l, i) is c_l with c_0 = leaf, c_{l+1} = H(c_l, c_l),
    // so a reader serves any size in O(1) per node and roots still depend on the shape.
    const levels = [hashLeaf(Uint8Array.of(7))];
    for (let l = 1; l <= 53; l++) levels.push(hashChildren(levels[l - 1]!, levels[l - 1]!));
    const reader: NodeReader = { getNode: (l) => levels[l]! };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.nat(),
        (a, b, r) => {
          const [m, n] = a <= b ? [a, b] : [b, a];
          const index = r % n;
          const root2 = rootAt(reader, n);
          verifyInclusion(index, n, levels[0]!, inclusionProof(reader, index, n), root2);
          verifyConsistency(m, n, consistencyProof(reader, m, n), rootAt(reader, m), root2);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('bit helpers agree with BigInt arithmetic on 53-bit values', () => {
    const big = (x: number) => BigInt(x);
    fc.assert(
      fc.property(fc.nat(Number.MAX_SAFE_INTEGER), fc.nat(Number.MAX_SAFE_INTEGER), (a, b) => {
        assert.equal(big(xor(a, b)), big(a) ^ big(b));
        assert.equal(bitLength(a), a === 0 ? 0 : big(a).toString(2).length);
        assert.equal(onesCount(a), [...big(a).toString(2)].filter((c) => c === '1').length);
        if (a > 0)
          assert.equal(trailingZeros(a), big(a).toString(2).length - 1 - big(a).toString(2).lastIndexOf('1'));
        const { inner, border } = decompInclProof(a % Math.max(b, 1), Math.max(b, 1));
        assert.ok(inner >= 0 && inner <= 53 && border >= 0 && border <= 53);
      }),
      { numRuns: 2000 },
    );
  });
});
