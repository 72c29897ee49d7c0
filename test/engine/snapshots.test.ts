/**
 * SnapshotShare (engine/snapshots.ts): a snapshot lent to an endorsement stays usable for new reads
 * until that endorsement releases it, even after the height moved on; it is closed once retired
 * and released. (abstract-level refuses new operations on a snapshot once `close()` was called,
 * whatever its reference count: closing on retirement broke every read an endorsement issued after
 * a commit — a query page reading record after record failed with INTERNAL.)
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SnapshotShare } from '../../engine/snapshots.js';
import { openDb } from '../../engine/state.js';
import { openKvLedger, tempDir } from './helpers.js';

const text = (v: Uint8Array | string | undefined) =>
  v === undefined ? undefined : Buffer.from(v).toString();

test('a lent snapshot keeps serving new reads after the height moved on, and closes once released', async (t) => {
  const { dir } = await tempDir(t);
  const db = await openDb(dir);
  try {
    const share = new SnapshotShare(db);
    await db.put('k', Buffer.from('v1'));
    const first = share.acquire(1);
    const alsoFirst = share.acquire(1);
    assert.equal(alsoFirst.snapshot, first.snapshot, 'one snapshot per height');
    await db.put('k', Buffer.from('v2'));
    const second = share.acquire(2); // retires the first; two readers still hold it
    assert.notEqual(second.snapshot, first.snapshot);
    share.release(alsoFirst);
    // A new read through the retired snapshot, while a reader holds it: the old state.
    assert.equal(text(db.getSync('k', { snapshot: first.snapshot })), 'v1');
    assert.equal(text(await db.get('k', { snapshot: first.snapshot })), 'v1');
    assert.equal(text(db.getSync('k', { snapshot: second.snapshot })), 'v2');
    share.release(first); // last reader: closed now
    await assert.rejects(
      async () => db.get('k', { snapshot: first.snapshot }),
      (e: { code?: string }) => e.code === 'LEVEL_SNAPSHOT_NOT_OPEN',
    );
    // Closing the share retires the current one; it closes when its reader is done.
    const closed = share.close();
    assert.equal(text(db.getSync('k', { snapshot: second.snapshot })), 'v2');
    share.release(second);
    await closed;
    await assert.rejects(
      async () => db.get('k', { snapshot: second.snapshot }),
      (e: { code?: string }) => e.code === 'LEVEL_SNAPSHOT_NOT_OPEN',
    );
  } finally {
    await db.close();
  }
});

test('queries that read key after key never fail while commits move the height under them', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity({
    mspId: 'Org1MSP',
    name: 'kv-reader',
    attrs: { 'torgo.role': 'appender' },
  });
  for (let i = 0; i < 20; i++) await ledger.submit(id, 'put', [`r${String(i).padStart(2, '0')}`, `v${i}`]);
  let stop = false;
  const failures: unknown[] = [];
  let reads = 0;
  const reader = (async () => {
    while (!stop) {
      try {
        await ledger.evaluate(id, 'range', ['r00', 'r99']);
        reads++;
      } catch (e) {
        failures.push(e);
      }
    }
  })();
  for (let i = 0; i < 40; i++) await ledger.submit(id, 'put', [`w${i}`, `${i}`]);
  stop = true;
  await reader;
  assert.ok(reads > 0);
  assert.deepEqual(failures, []);
});
