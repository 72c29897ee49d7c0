/**
 * LedgerReader (engine/reader.ts) on another thread of the process than the ledger's writer: it
 * answers what the writer's own `evaluate` answers, sees each block as soon as it is committed,
 * checks the caller as the writer does, and writes nothing. The database is shared between the
 * threads (classic-level's `multithreading`), so a second writer on the writer's thread is still
 * refused, and a reader of a directory with no ledger is refused without creating one.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { Worker } from 'node:worker_threads';
import type { Identity } from '../../engine/identity.js';
import { LedgerReader } from '../../engine/index.js';
import type { ReaderAnswer } from './fixtures/reader-worker.js';
import { KvContract } from './fixtures/kv-contract.js';
import { openKv, tempDir } from './helpers.js';

const appender = { mspId: 'Org1MSP', name: 'relay-1', attrs: { 'torgo.role': 'appender' } };

/** A reader on a thread of its own, and a way to ask it. */
async function readerThread(dir: string) {
  const worker = new Worker(new URL('./fixtures/reader-worker.js', import.meta.url), { workerData: dir });
  const [opened] = (await once(worker, 'message')) as [ReaderAnswer | 'open'];
  const ask = async (identity: Identity, fcn: string, ...args: string[]): Promise<ReaderAnswer> => {
    worker.postMessage({ identity, fcn, args });
    return ((await once(worker, 'message')) as [ReaderAnswer])[0];
  };
  const close = async () => {
    worker.postMessage('close');
    await once(worker, 'exit');
  };
  return { opened, ask, close };
}

test('a reader on another thread answers as the writer does, block by block, and writes nothing', async (t) => {
  const tmp = await tempDir(t);
  const ledger = await openKv(tmp.dir);
  tmp.closeLater(ledger);
  const alice = await ledger.createIdentity(appender);
  await ledger.submit(alice, 'put', ['k1', 'v1']);
  await ledger.submit(alice, 'put', ['k2', 'v2']);

  const reader = await readerThread(tmp.dir);
  t.after(() => reader.close());
  assert.equal(reader.opened, 'open');
  for (const [fcn, ...args] of [['get', 'k1'], ['range', 'k', 'l'], ['history', 'k1'], ['whoami']]) {
    const mine = (await ledger.evaluate(alice, fcn!, args)).result;
    assert.deepEqual(await reader.ask(alice, fcn!, ...args), { result: mine }, `${fcn}: the writer's answer`);
  }

  // A block committed on the writer's thread is read there at once (one LevelDB instance).
  await ledger.submit(alice, 'put', ['k1', 'v1 again']);
  assert.deepEqual(await reader.ask(alice, 'get', 'k1'), { result: 'v1 again' });
  const history = JSON.parse((await ledger.evaluate(alice, 'history', ['k1'])).result) as unknown[];
  assert.equal(history.length, 2);
  assert.deepEqual(await reader.ask(alice, 'history', 'k1'), { result: JSON.stringify(history) });

  // A transaction that writes runs as an evaluation does: simulated, nothing recorded.
  const height = ledger.height;
  assert.ok('result' in (await reader.ask(alice, 'put', 'k3', 'never')));
  assert.equal(ledger.height, height);
  const unwritten = (await ledger.evaluate(alice, 'get', ['k-none'])).result;
  assert.equal((await ledger.evaluate(alice, 'get', ['k3'])).result, unwritten);
  assert.deepEqual(await reader.ask(alice, 'get', 'k3'), { result: unwritten });

  // The caller is checked as the writer checks it: a certificate from another ledger's CA is refused.
  const other = await tempDir(t);
  const elsewhere = await openKv(other.dir);
  other.closeLater(elsewhere);
  const stranger = await elsewhere.createIdentity(appender);
  await assert.rejects(
    ledger.evaluate(stranger, 'get', ['k1']),
    (e: unknown) => (e as { code?: string }).code === 'E_IDENTITY',
  );
  const refused = await reader.ask(stranger, 'get', 'k1');
  assert.equal('code' in refused && refused.code, 'E_IDENTITY');
});

test('the writer stays alone on its thread; a reader of no ledger is refused and creates none', async (t) => {
  const tmp = await tempDir(t);
  const ledger = await openKv(tmp.dir);
  tmp.closeLater(ledger);
  await assert.rejects(openKv(tmp.dir), (e: unknown) => (e as { code?: string }).code === 'E_LOCKED');

  const empty = path.join(tmp.dir, 'none');
  await assert.rejects(
    LedgerReader.open({ dir: empty, contracts: [KvContract] }),
    (e: unknown) => (e as { code?: string }).code === 'E_STORAGE',
  );
  assert.equal(existsSync(path.join(empty, 'ledger')), false);

  // Closing a reader leaves the writer's database open.
  const reader = await LedgerReader.open({ dir: tmp.dir, contracts: [KvContract] });
  await reader.close();
  const alice = await ledger.createIdentity(appender);
  await ledger.submit(alice, 'put', ['after', 'reader']);
  assert.equal((await ledger.evaluate(alice, 'get', ['after'])).result, 'reader');
});
