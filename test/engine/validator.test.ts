/**
 * Commit-time validation in isolation, with hand-made read/write sets, so each Fabric rule is checked
 * deterministically (end-to-end tests can only provoke conflicts through scheduling).
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TxSimulation } from '../../engine/simulation.js';
import { encodeState, stateKey, type Version } from '../../engine/state.js';
import { BlockValidator } from '../../engine/validator.js';
import { stateDb } from './helpers.js';

const v = (blockNum: number, txNum: number): Version => ({ blockNum, txNum });

function tx(id: string, build: (s: TxSimulation) => void): TxSimulation {
  const s = new TxSimulation(id);
  build(s);
  return s;
}

test('MVCC: a read is valid only at the committed version and if no earlier tx of the block wrote it', async (t) => {
  const db = await stateDb(t, { a: v(0, 0), b: v(0, 1) });
  const val = new BlockValidator(db, 1);
  assert.equal(
    await val.validate(
      't1',
      tx('t1', (s) => s.recordRead('a', v(0, 0))),
    ),
    'VALID',
  );
  assert.equal(
    await val.validate(
      't2',
      tx('t2', (s) => s.recordRead('a', v(0, 1))),
    ),
    'MVCC_READ_CONFLICT',
  );
  assert.equal(
    await val.validate(
      't3',
      tx('t3', (s) => s.recordRead('absent', null)),
    ),
    'VALID',
  );
  assert.equal(
    await val.validate(
      't4',
      tx('t4', (s) => s.recordRead('b', null)),
    ),
    'MVCC_READ_CONFLICT',
  );

  const writer = tx('t5', (s) => s.setState('b', Buffer.from('new')));
  assert.equal(await val.validate('t5', writer), 'VALID');
  val.apply(writer.writeSet, 4);
  assert.equal(
    await val.validate(
      't6',
      tx('t6', (s) => s.recordRead('b', v(0, 1))),
    ),
    'MVCC_READ_CONFLICT',
  );
  assert.equal(
    await val.validate(
      't1',
      tx('t1', () => {}),
    ),
    'DUPLICATE_TXID',
  );
  // Blind writes never conflict.
  assert.equal(
    await val.validate(
      't7',
      tx('t7', (s) => s.setState('b', Buffer.from('again'))),
    ),
    'VALID',
  );
});

test('phantoms: a scanned range must return the same keys at the same versions at commit', async (t) => {
  const db = await stateDb(t, { 'r/1': v(0, 0), 'r/3': v(0, 1) });
  const scanAll = (id: string) =>
    tx(id, (s) => {
      s.recordRangeQuery({
        startKey: 'r/',
        endKey: 'r0',
        itrExhausted: true,
        reads: [
          { key: 'r/1', version: v(0, 0) },
          { key: 'r/3', version: v(0, 1) },
        ],
      });
      s.setState('count', Buffer.from('2'));
    });
  const insert = (id: string, key: string) => tx(id, (s) => s.setState(key, Buffer.from('x')));

  const clean = new BlockValidator(db, 1);
  assert.equal(await clean.validate('s0', scanAll('s0')), 'VALID');

  const phantom = new BlockValidator(db, 1);
  const ins = insert('i1', 'r/2');
  assert.equal(await phantom.validate('i1', ins), 'VALID');
  phantom.apply(ins.writeSet, 0);
  assert.equal(await phantom.validate('s1', scanAll('s1')), 'PHANTOM_READ_CONFLICT');

  const deleted = new BlockValidator(db, 1);
  const del = tx('d1', (s) => s.setState('r/3', undefined));
  assert.equal(await deleted.validate('d1', del), 'VALID');
  deleted.apply(del.writeSet, 0);
  assert.equal(await deleted.validate('s2', scanAll('s2')), 'PHANTOM_READ_CONFLICT');

  // A scan that stopped after r/1 only constrains [r/, r/1].
  const partial = (id: string) =>
    tx(id, (s) =>
      s.recordRangeQuery({
        startKey: 'r/',
        endKey: 'r/1',
        itrExhausted: false,
        reads: [{ key: 'r/1', version: v(0, 0) }],
      }),
    );
  const after = new BlockValidator(db, 1);
  const late = insert('i2', 'r/2');
  await after.validate('i2', late);
  after.apply(late.writeSet, 0);
  assert.equal(await after.validate('p1', partial('p1')), 'VALID');
  const early = insert('i3', 'r/0');
  await after.validate('i3', early);
  after.apply(early.writeSet, 1);
  assert.equal(await after.validate('p2', partial('p2')), 'PHANTOM_READ_CONFLICT');
});

test('writes: last write per key wins, an empty value is a delete, paginated queries exclude writes', () => {
  const s = new TxSimulation('w');
  s.setState('k', Buffer.from('1'));
  s.setState('k', Buffer.from('2'));
  s.setState('gone', Buffer.alloc(0));
  assert.deepEqual(
    s.writeSet.map((w) => [w.key, w.isDelete, w.value.toString()]),
    [
      ['gone', true, ''],
      ['k', false, '2'],
    ],
  );
  assert.throws(
    () => s.checkBeforePaginatedQuery(),
    /Paginated queries are supported only in a read-only transaction/,
  );
  const r = new TxSimulation('r');
  r.checkBeforePaginatedQuery();
  assert.throws(() => r.setState('k', Buffer.from('x')), /Writes are not allowed/);
});

test('MVCC: many transactions of a block reading one key each get the same answer as a lone reader', async (t) => {
  // The validator looks a committed version up once per block; every later read of the key must still
  // be judged on its own recorded version, and on what earlier transactions of the block wrote.
  const db = await stateDb(t, { shared: v(0, 0) });
  const val = new BlockValidator(db, 1);
  const reading = (id: string, version: Version | null) => tx(id, (s) => s.recordRead('shared', version));
  assert.equal(await val.validate('r1', reading('r1', v(0, 0))), 'VALID');
  assert.equal(await val.validate('r2', reading('r2', v(0, 0))), 'VALID');
  assert.equal(await val.validate('r3', reading('r3', null)), 'MVCC_READ_CONFLICT');
  assert.equal(await val.validate('r4', reading('r4', v(0, 1))), 'MVCC_READ_CONFLICT');
  assert.equal(await val.validate('r5', reading('r5', v(0, 0))), 'VALID');
  const absent = (id: string, version: Version | null) => tx(id, (s) => s.recordRead('absent', version));
  assert.equal(await val.validate('a1', absent('a1', null)), 'VALID');
  assert.equal(await val.validate('a2', absent('a2', v(0, 0))), 'MVCC_READ_CONFLICT');
  assert.equal(await val.validate('a3', absent('a3', null)), 'VALID');

  // The next block sees what this one committed, not this block's lookups.
  await db.put(stateKey('shared'), encodeState(Buffer.from('y'), v(1, 0)));
  const next = new BlockValidator(db, 2);
  assert.equal(await next.validate('n1', reading('n1', v(0, 0))), 'MVCC_READ_CONFLICT');
  assert.equal(await next.validate('n2', reading('n2', v(1, 0))), 'VALID');
});
