import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Checkpoint,
  emptyRoot,
  KEY_HEADS_EXTENSION,
  KeyHeadsTree,
  keyHeadsOf,
  toBase64,
  verifyKeyHead,
} from '../../../core/index.js';

const cp = (extensions: string[]): Checkpoint => ({
  origin: 'o',
  size: 1,
  rootHash: emptyRoot(),
  extensions,
});
const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

describe('key-heads commitment (torgo/key-heads/v1)', () => {
  const heads = [
    { keyId: 'c3', head: 9 },
    { keyId: 'a1', head: 4 },
    { keyId: 'b2', head: 0 },
  ];
  const tree = new KeyHeadsTree(heads);

  it('proves every head in key id order, and no other head', () => {
    const c = keyHeadsOf(cp([tree.line]))!;
    assert.equal(c.count, 3);
    for (const [i, h] of [...heads].sort((a, b) => a.keyId.localeCompare(b.keyId)).entries()) {
      const p = tree.proof(h.keyId)!;
      assert.equal(p.index, i);
      verifyKeyHead(h, p, c);
      assert.throws(() => verifyKeyHead({ ...h, head: h.head + 1 }, p, c), code('E_PROOF_INVALID'));
    }
    assert.equal(tree.proof('zz'), undefined);
  });

  it('the same heads in any order give the same line; none gives the empty root', () => {
    assert.equal(new KeyHeadsTree([...heads].reverse()).line, tree.line);
    assert.equal(new KeyHeadsTree([]).line, `${KEY_HEADS_EXTENSION} 0 ${toBase64(emptyRoot())}`);
    assert.throws(() => new KeyHeadsTree([...heads, { keyId: 'a1', head: 1 }]), code('E_PROOF_INVALID'));
  });

  it('reads at most one strictly formed line; other extension lines are ignored', () => {
    assert.equal(keyHeadsOf(cp([])), undefined);
    assert.equal(keyHeadsOf(cp(['other/ext 1'])), undefined);
    for (const bad of [
      `${KEY_HEADS_EXTENSION} 01 ${toBase64(emptyRoot())}`,
      `${KEY_HEADS_EXTENSION} 1 ${toBase64(emptyRoot()).slice(1)}`,
      `${KEY_HEADS_EXTENSION} 1 ${toBase64(emptyRoot())} extra`,
      `${KEY_HEADS_EXTENSION}  1 ${toBase64(emptyRoot())}`,
    ])
      assert.throws(() => keyHeadsOf(cp([bad])), code('E_CHECKPOINT_SYNTAX'), bad);
    assert.throws(() => keyHeadsOf(cp([tree.line, tree.line])), code('E_CHECKPOINT_SYNTAX'));
  });
});
