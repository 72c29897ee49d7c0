/**
 * The committer's pipeline, observed directly: the next block is validated while the previous block's
 * batch is being written, is judged on that block's state, reaches the disk after it and chained to it,
 * and fails with it when its write fails. The database is a real LevelDB whose `batch` the test holds open.
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Block, GENESIS_PREVIOUS_HASH } from '../../engine/blockstore.js';
import { Committer, type EndorsedTx } from '../../engine/committer.js';
import type { Creator } from '../../engine/identity.js';
import { TxSimulation } from '../../engine/simulation.js';
import { type Snapshot, stateKey, txidKey, type Version } from '../../engine/state.js';
import type { BatchOp } from '../../engine/storage.js';
import { stateDb } from './helpers.js';

const creator = { mspId: 'Org1MSP', id: 'x509::/CN=test::/CN=ca' } as Creator;

function endorsed(txId: string, build: (s: TxSimulation) => void): EndorsedTx {
  const sim = new TxSimulation(txId);
  build(sim);
  return { txId, timestamp: { seconds: 1, nanos: 0 }, creator, fcn: 'put', argsHash: '0'.repeat(64), sim };
}

/**
 * A LevelDB whose writes wait for the test (`release(error?)` lets the oldest held write go on, or fail
 * without writing), and which records the tx ids the committer looks up.
 */
async function heldDb(t: Parameters<typeof stateDb>[0], state: Record<string, Version>) {
  const held: { ops: number; release: (error?: Error) => void }[] = [];
  // Registered before stateDb's cleanup, so it runs first: a write a failed test still holds would keep the
  // database from closing.
  let over = false;
  t.after(() => {
    over = true;
    for (const h of held) h.release(new Error('the test ended'));
  });
  const db = await stateDb(t, state);
  const lookedUp: string[] = [];
  const proxy = new Proxy(db, {
    get(target, prop) {
      if (prop === 'batch') {
        return (ops: BatchOp[], options: { sync: boolean }) =>
          new Promise<void>((resolve, reject) => {
            if (over) return reject(new Error('the test ended'));
            let released = false;
            held.push({
              ops: ops.length,
              release: (error) => {
                if (released) return;
                released = true;
                if (error) reject(error);
                else target.batch(ops, options).then(resolve, reject);
              },
            });
          });
      }
      if (prop === 'getSync') {
        return (key: string, options?: { snapshot: Snapshot }) => {
          if (key.startsWith(txidKey(''))) lookedUp.push(key.slice(txidKey('').length));
          return options ? target.getSync(key, options) : target.getSync(key);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: proxy, raw: db, held, lookedUp };
}

/** Lets every pending callback and I/O completion run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('the next block is validated during the previous write, on its state, and chained to it', {
  timeout: 20_000,
}, async (t) => {
  const { db, held, lookedUp } = await heldDb(t, { k: { blockNum: 4, txNum: 0 } });
  const blocks: Block[] = [];
  const tip = { height: 5, hash: 'ab'.repeat(32) };
  const committer = new Committer(db, 10, tip, (b) => blocks.push(b));

  const first = committer.order(endorsed('w1', (s) => s.setState('k', Buffer.from('one'))));
  // Endorsed before w1 committed: it read k at the version w1 replaces.
  const stale = committer.order(
    endorsed('r1', (s) => {
      s.recordRead('k', { blockNum: 4, txNum: 0 });
      s.setState('other', Buffer.from('x'));
    }),
  );
  // Read k at the version w1 writes: valid only if block 0's updates count as committed.
  const fresh = committer.order(endorsed('r2', (s) => s.recordRead('k', { blockNum: 5, txNum: 0 })));
  await settle();
  assert.equal(held.length, 1, 'one write in flight: block 0');
  assert.deepEqual(lookedUp, ['w1', 'r1', 'r2'], 'block 6 was validated while block 5 was being written');
  assert.equal(committer.height, 5, 'nothing is committed before its write returned');

  held[0]!.release();
  assert.deepEqual(await first, { blockNumber: 5, txNumber: 0, validationCode: 'VALID' });
  await settle();
  assert.equal(held.length, 2, "block 6's batch is submitted after block 5's returned");
  held[1]!.release();
  assert.deepEqual(await stale, { blockNumber: 6, txNumber: 0, validationCode: 'MVCC_READ_CONFLICT' });
  assert.deepEqual(await fresh, { blockNumber: 6, txNumber: 1, validationCode: 'VALID' });
  await committer.idle();
  assert.deepEqual(
    blocks.map((b) => [b.number, b.previousHash]),
    [
      [5, tip.hash],
      [6, blocks[0]!.hash],
    ],
  );
  assert.equal(committer.height, 7);
});

test('a failed write fails the block built on it; the next block is sealed on the durable tip', {
  timeout: 20_000,
}, async (t) => {
  const { db, raw, held } = await heldDb(t, {});
  const blocks: Block[] = [];
  const committer = new Committer(db, 10, { height: 0, hash: GENESIS_PREVIOUS_HASH }, (b) => blocks.push(b));

  const lost = committer.order(endorsed('a', (s) => s.setState('a', Buffer.from('1'))));
  const builtOnLost = committer.order(endorsed('b', (s) => s.setState('b', Buffer.from('2'))));
  await settle();
  assert.equal(held.length, 1);
  held[0]!.release(new Error('disk full'));
  await assert.rejects(lost, {
    code: 'E_STORAGE',
    message: /block 0 could not be written: Error: disk full/,
  });
  await assert.rejects(builtOnLost, { code: 'E_STORAGE', message: /block 0 could not be written/ });
  await settle();
  assert.equal(held.length, 1, 'the block built on the failed one was never submitted');
  assert.equal(raw.getSync(stateKey('a')), undefined);
  assert.equal(raw.getSync(stateKey('b')), undefined);

  const after = committer.order(endorsed('c', (s) => s.setState('c', Buffer.from('3'))));
  await settle();
  held[1]!.release();
  assert.deepEqual(await after, { blockNumber: 0, txNumber: 0, validationCode: 'VALID' });
  await committer.idle();
  assert.deepEqual(
    blocks.map((b) => [b.number, b.previousHash, b.transactions.map((x) => x.txId)]),
    [[0, GENESIS_PREVIOUS_HASH, ['c']]],
  );
});
