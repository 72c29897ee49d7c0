/**
 * The ledger's table files opened in the background (engine/tables.ts): LevelDB's listing read back to
 * each table's smallest key, bytes LevelDB escapes included; every table the cache holds opened (seen
 * in the process's memory maps: LevelDB maps the first 1000 tables it opens), and no more than that;
 * a ledger that opens them, one that does not, and one closed while they open.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { type Db, flushMemtable, openDb } from '../../engine/state.js';
import { smallestKeysOfTables, TableOpener } from '../../engine/tables.js';
import { openKv, tempDir } from './helpers.js';

const linux = process.platform === 'linux';

/** Table files of the LevelDB in `dir` this process has mapped (Linux). */
function mappedTables(dir: string): number {
  const paths = new Set<string>();
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const file = line.slice(line.lastIndexOf(' ') + 1);
    if (file.endsWith('.ldb') && path.dirname(file) === dir) paths.add(file);
  }
  return paths.size;
}

const tableFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.ldb')).length;

/**
 * `count` tables in a LevelDB at `location`, one per flushed batch, key ranges disjoint; every key
 * holds bytes LevelDB's listing escapes (a NUL, "é", "—"). Closed, so that no table is open.
 */
async function tables(location: string, count: number): Promise<string[]> {
  const db = await openDb(location);
  const keys: string[] = [];
  for (let t = 0; t < count; t++) {
    const batch = Array.from({ length: 3 }, (_, i) => `h/${String(t).padStart(3, '0')}\u0000é—${i}`);
    keys.push(...batch);
    await db.batch(batch.map((key) => ({ type: 'put' as const, key, value: Buffer.from(key) })));
    await flushMemtable(db);
  }
  await db.close();
  return keys;
}

test("LevelDB's table listing is read back to each table's smallest key, escaped bytes included", async (t) => {
  const tmp = await tempDir(t);
  const location = path.join(tmp.dir, 'db');
  const keys = await tables(location, 6);
  const db = await openDb(location);
  tmp.closeLater(db);
  const listed = smallestKeysOfTables(db.getProperty('leveldb.sstables')).map((k) => k.toString('utf8'));
  assert.equal(listed.length, tableFiles(location));
  assert.ok(listed.length >= 1);
  // Each is a key the database holds, byte for byte (every key carries escaped bytes).
  for (const key of listed) assert.ok(keys.includes(key), `listed ${JSON.stringify(key)} is no key written`);
  assert.ok(listed.includes(keys[0]!), 'the smallest key of all is the smallest of some table');
  // A listing in another shape gives nothing, not a wrong key.
  assert.deepEqual(smallestKeysOfTables('--- level 0 ---\n 5:100[garbage]\n'), []);
});

test('every table the cache holds is opened in the background, and no more', { skip: !linux }, async (t) => {
  const tmp = await tempDir(t);
  const location = path.join(tmp.dir, 'db');
  await tables(location, 70);
  const listed = tableFiles(location);
  assert.ok(listed > 64, `${listed} tables`);
  {
    const db: Db = await openDb(location, { maxOpenFiles: 1000 });
    assert.equal(mappedTables(location), 0, 'no table is open before');
    const opening = await TableOpener.start(db, 1000).done;
    assert.deepEqual({ ...opening, ms: 0 }, { tables: listed, opened: listed, ms: 0, stopped: false });
    assert.equal(mappedTables(location), listed, 'every table is open');
    await db.close();
  }
  // LevelDB clips max_open_files to at least 74, so its cache holds 64 tables: 64 are read. (The cache
  // is 16 LRU shards of 4, so a few of those may already have been evicted again.)
  const db: Db = await openDb(location, { maxOpenFiles: 74 });
  tmp.closeLater(db);
  const opening = await TableOpener.start(db, 12).done;
  assert.deepEqual({ ...opening, ms: 0 }, { tables: listed, opened: 64, ms: 0, stopped: false });
  assert.ok(mappedTables(location) <= 64);
});

test('a ledger opens its tables after it opens, unless told not to; closing it stops the opening', async (t) => {
  const tmp = await tempDir(t);
  const first = await openKv(tmp.dir);
  const appender = await first.createIdentity({
    mspId: 'Org1MSP',
    name: 'a',
    attrs: { 'torgo.role': 'appender' },
  });
  for (let i = 0; i < 20; i++) await first.submit(appender, 'put', [`k${i}`, 'v'.repeat(1000)]);
  await first.close(); // flushes the memtable: the ledger has tables now
  const location = path.join(tmp.dir, 'ledger');
  const count = tableFiles(location);
  assert.ok(count >= 1);

  const without = await openKv(tmp.dir, { openTablesAtStart: false });
  assert.equal(without.tablesOpened, undefined);
  await without.close();

  const ledger = await openKv(tmp.dir);
  const opened = await ledger.tablesOpened;
  assert.equal(opened?.tables, tableFiles(location));
  assert.equal(opened?.opened, opened?.tables);
  if (linux) assert.equal(mappedTables(location), opened?.tables);
  assert.equal((await ledger.evaluate(appender, 'get', ['k3'])).result, 'v'.repeat(1000));
  await ledger.close();

  // Closed at once: the opening stops (or has finished), and the ledger closes cleanly.
  const closedEarly = await openKv(tmp.dir);
  await closedEarly.close();
  const ended = await closedEarly.tablesOpened;
  assert.ok(ended && ended.opened <= ended.tables && ended.error === undefined);
});
