/**
 * Storage format 2 (engine/state.ts, engine/storage.ts): each value written once, read back the same
 * through every path (state, range, history, blocks), tampering with a stored value caught by the
 * chain check, and ledgers in another format refused with a code and a message saying what to do.
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { EmbeddedLedger, EngineError, verifyLedgerAt } from '../../engine/index.js';
import { type Db, FORMAT_KEY, HEIGHT_KEY, openDb, STORAGE_FORMAT } from '../../engine/state.js';
import { type BatchOp, writeOps } from '../../engine/storage.js';
import { KvContract } from './fixtures/kv-contract.js';
import { openKv, tempDir } from './helpers.js';

const appender = { mspId: 'Org1MSP', name: 'relay-1', attrs: { 'torgo.role': 'appender' } };

test('a large value is stored once and read back whole by state, history and blocks', async (t) => {
  const tmp = await tempDir(t);
  const ledger = await openKv(tmp.dir);
  tmp.closeLater(ledger);
  const id = await ledger.createIdentity(appender);
  const first = `first-${'x'.repeat(5000)}`;
  const second = `second-${'y'.repeat(5000)}`;
  await ledger.submit(id, 'put', ['big', first]);
  await ledger.submit(id, 'put', ['big', second]);
  await ledger.submit(id, 'put', ['small', 'tiny']);

  assert.equal((await ledger.evaluate(id, 'get', ['big'])).result, second);
  const history = JSON.parse((await ledger.evaluate(id, 'history', ['big'])).result) as Array<{
    value: string;
  }>;
  assert.deepEqual(
    history.map((h) => h.value),
    [second, first],
    'history, newest first, with both values',
  );
  const blocks = await Promise.all([0, 1, 2].map((n) => ledger.getBlock(n)));
  const written = blocks.flatMap((b) => b.transactions.flatMap((tx) => tx.writeSet));
  assert.deepEqual(
    written.map((w) => Buffer.from(w.value, 'base64').toString()),
    [first, second, 'tiny'],
    'blocks carry every value',
  );
  await ledger.close();

  const db = await openDb(path.join(tmp.dir, 'ledger'));
  try {
    for (const [value, text] of [
      [first, 'first'],
      [second, 'second'],
    ] as const) {
      const raw = Buffer.from(value);
      const b64 = Buffer.from(raw.toString('base64'));
      let copies = 0;
      for await (const [, v] of db.iterator()) if (v.includes(raw) || v.includes(b64)) copies++;
      assert.equal(copies, 1, `the ${text} value is stored exactly once`);
    }
  } finally {
    await db.close();
  }
  assert.equal((await verifyLedgerAt(path.join(tmp.dir, 'ledger'))).height, 3);
});

test('the chain check catches a changed stored value and a stray one', async (t) => {
  const tmp = await tempDir(t);
  const ledger = await openKv(tmp.dir);
  const id = await ledger.createIdentity(appender);
  await ledger.submit(id, 'put', ['big', 'z'.repeat(1000)]);
  await ledger.close();
  const location = path.join(tmp.dir, 'ledger');
  const db = await openDb(location);
  let valueKey = '';
  for await (const k of db.keys({ gte: 'v/', lt: 'v0' })) valueKey = k;
  assert.ok(valueKey, 'the large value is under v/');
  const original = await db.get(valueKey);
  await db.put(valueKey, Buffer.from(`${'z'.repeat(999)}q`));
  await db.close();
  await assert.rejects(verifyLedgerAt(location), /block 0: transactions do not match dataHash/);

  const db2 = await openDb(location);
  await db2.put(valueKey, original!);
  await db2.put('v/ffffffffffffffff0000000000000000', Buffer.from('stray'));
  await db2.close();
  await assert.rejects(verifyLedgerAt(location), /2 value entries where the blocks account for 1/);
});

test('a ledger in another storage format is refused with E_LEDGER_FORMAT; a new one is stamped', async (t) => {
  const tmp = await tempDir(t);
  const fresh = await openKv(tmp.dir);
  await fresh.close();
  const location = path.join(tmp.dir, 'ledger');
  const db = await openDb(location);
  assert.equal(
    (await db.get(FORMAT_KEY))?.toString(),
    String(STORAGE_FORMAT),
    'a new ledger says its format',
  );
  // What an engine before format 2 left: blocks and a height, no format key.
  await db.del(FORMAT_KEY);
  await db.put(HEIGHT_KEY, Buffer.from('1'));
  await db.put('b/0000000000000000', Buffer.from('{}'));
  await db.close();

  for (const open of [
    () => EmbeddedLedger.open({ dir: tmp.dir, contracts: [KvContract], chaincodeLogLevel: 'CRITICAL' }),
    () => verifyLedgerAt(location),
  ]) {
    await assert.rejects(open(), (e: unknown) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.code, 'E_LEDGER_FORMAT');
      assert.match(e.message, /storage format 1; this version reads format 2/);
      assert.match(e.message, /torgo ledger migrate --data/);
      return true;
    });
  }
});

test('writeOps leaves the database as db.batch does: puts, deletes and repeated keys, in order', async (t) => {
  const tmp = await tempDir(t);
  const viaArray = await openDb(path.join(tmp.dir, 'array'));
  tmp.closeLater(viaArray);
  const viaWriteOps = await openDb(path.join(tmp.dir, 'chained'));
  tmp.closeLater(viaWriteOps);
  const everything = async (db: Db) => (await db.iterator().all()).map(([k, v]) => [k, v.toString('hex')]);
  // Few keys, so that one batch puts, deletes and puts again the same key; non-ASCII and empty values too.
  const key = fc.constantFrom('a', 'b', 's/\u00e9', 'v/\u0000x', '\ud83d\ude00');
  const op: fc.Arbitrary<BatchOp> = fc.oneof(
    fc.record({
      type: fc.constant('put' as const),
      key,
      value: fc.uint8Array({ maxLength: 70 }).map((b) => Buffer.from(b)),
    }),
    fc.record({ type: fc.constant('del' as const), key }),
  );
  let batches = 0;
  let nonEmpty = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
      await viaArray.batch(ops, { sync: false });
      await writeOps(viaWriteOps, ops, { sync: false });
      const expected = await everything(viaArray);
      assert.deepEqual(await everything(viaWriteOps), expected);
      batches++;
      if (expected.length > 0) nonEmpty++;
    }),
    { numRuns: 200 },
  );
  assert.equal(batches, 200);
  assert.ok(nonEmpty > 0, 'some runs left something to compare');
});
