/**
 * `torgo ledger migrate` (engine/migrate.ts): a ledger in storage format 1 — written here by the
 * definition of format 1 (every value in state, in its hex-keyed JSON history entry and in its block) —
 * converts to format 2, keeps every block, state value, history entry and tx status, and is refused,
 * untouched, when its state does not match its blocks.
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { encodeBlock } from '../../engine/blockstore.js';
import {
  type Block,
  EmbeddedLedger,
  EngineError,
  migrateLedger,
  verifyLedgerAt,
} from '../../engine/index.js';
import { type Db, openDb } from '../../engine/state.js';
import { KvContract } from './fixtures/kv-contract.js';
import { openKv, tempDir } from './helpers.js';

const appender = { mspId: 'Org1MSP', name: 'relay-1', attrs: { 'torgo.role': 'appender' } };
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Format 1 of a ledger whose blocks are `blocks`: what the engine before format 2 wrote. */
async function writeFormat1(db: Db, blocks: readonly Block[]): Promise<void> {
  const state = new Map<string, Buffer>();
  for (const block of blocks) {
    const ops: { type: 'put'; key: string; value: Buffer }[] = [];
    for (const [txNumber, tx] of block.transactions.entries()) {
      const location = { blockNumber: block.number, txNumber, validationCode: tx.validationCode };
      if (tx.validationCode !== 'DUPLICATE_TXID') {
        ops.push({ type: 'put', key: `t/${tx.txId}`, value: Buffer.from(JSON.stringify(location)) });
      }
      if (tx.validationCode !== 'VALID') continue;
      for (const w of tx.writeSet) {
        const record = { txId: tx.txId, ...tx.timestamp, isDelete: w.isDelete, value: w.value };
        const key = `h/${Buffer.from(w.key).toString('hex')}!${hex(block.number, 16)}${hex(txNumber, 8)}`;
        ops.push({ type: 'put', key, value: Buffer.from(JSON.stringify(record)) });
        const version = Buffer.alloc(12);
        version.writeBigUInt64BE(BigInt(block.number), 0);
        version.writeUInt32BE(txNumber, 8);
        if (w.isDelete) state.delete(w.key);
        else state.set(w.key, Buffer.concat([version, Buffer.from(w.value, 'base64')]));
      }
    }
    ops.push({ type: 'put', key: `b/${hex(block.number, 16)}`, value: encodeBlock(block) });
    await db.batch(ops);
  }
  await db.batch([
    ...[...state].map(([key, value]) => ({ type: 'put' as const, key: `s/${key}`, value })),
    { type: 'put', key: 'm/height', value: Buffer.from(String(blocks.length)) },
  ]);
}

/** A ledger with large and small values, an overwrite and a delete; its blocks, then closed. */
async function sampleBlocks(dir: string): Promise<Block[]> {
  const ledger = await openKv(dir);
  const id = await ledger.createIdentity(appender);
  await ledger.submit(id, 'put', ['big', 'b'.repeat(3000)]);
  await ledger.submit(id, 'put', ['big', 'c'.repeat(3000)]);
  await ledger.submit(id, 'put', ['small', 's']);
  await ledger.submit(id, 'put', ['gone', 'g'.repeat(100)]);
  await ledger.submit(id, 'del', ['gone']);
  const blocks: Block[] = [];
  for (let n = 0; n < ledger.height; n++) blocks.push(await ledger.getBlock(n));
  await ledger.close();
  return blocks;
}

/** A format-1 ledger of the sample blocks, written by hand, still open (`db`) at `location` under `tmp`. */
async function format1Ledger(t: TestContext) {
  const source = await tempDir(t);
  const blocks = await sampleBlocks(source.dir);
  const tmp = await tempDir(t);
  const location = path.join(tmp.dir, 'ledger');
  const db = await openDb(location);
  await writeFormat1(db, blocks);
  return { blocks, tmp, location, db };
}

test('a format-1 ledger converts to format 2 with every block, value, history entry and status', async (t) => {
  const { blocks, tmp, location, db } = await format1Ledger(t);
  await db.close();
  await assert.rejects(
    openKv(tmp.dir),
    (e: unknown) => e instanceof EngineError && e.code === 'E_LEDGER_FORMAT',
  );

  const report = await migrateLedger(location);
  assert.deepEqual(report, { from: 1, blocks: 5, keys: 2, kept: `${location}.format1` });
  assert.ok((await stat(`${location}.format1`)).isDirectory(), 'the old ledger is kept');
  assert.equal((await verifyLedgerAt(location)).height, 5);

  const ledger = await EmbeddedLedger.open({
    dir: tmp.dir,
    contracts: [KvContract],
    chaincodeLogLevel: 'CRITICAL',
  });
  tmp.closeLater(ledger);
  for (let n = 0; n < blocks.length; n++) assert.deepEqual(await ledger.getBlock(n), blocks[n]);
  const id = await ledger.createIdentity(appender);
  assert.equal((await ledger.evaluate(id, 'get', ['big'])).result, 'c'.repeat(3000));
  const history = JSON.parse((await ledger.evaluate(id, 'history', ['big'])).result) as Array<{
    value: string;
  }>;
  assert.deepEqual(
    history.map((h) => h.value),
    ['c'.repeat(3000), 'b'.repeat(3000)],
  );
  assert.deepEqual(await ledger.getTransactionStatus(blocks[2]!.transactions[0]!.txId), {
    blockNumber: 2,
    txNumber: 0,
    validationCode: 'VALID',
  });
  await ledger.submit(id, 'put', ['after', 'migration']);
  assert.equal(ledger.height, 6);
  assert.deepEqual(
    await migrateLedger(location).catch((e: Error) => e.message),
    `${location}.format1 exists: a ledger was migrated here before; move it away first`,
  );
});

test('a format-1 ledger whose state does not match its blocks is refused and left as it was', async (t) => {
  const { location, db } = await format1Ledger(t);
  const small = await db.get('s/small');
  await db.put('s/small', Buffer.concat([small!.subarray(0, 12), Buffer.from('forged')]));
  await db.close();

  await assert.rejects(migrateLedger(location), (e: unknown) => {
    assert.ok(e instanceof EngineError);
    assert.equal(e.code, 'E_CHAIN_CORRUPT');
    assert.match(e.message, /state of key "small" does not match the blocks; nothing was changed/);
    return true;
  });
  const after = await openDb(location);
  try {
    assert.equal(
      (await after.get('s/small'))?.subarray(12).toString(),
      'forged',
      'the old ledger is untouched',
    );
    assert.equal(await after.get('m/format'), undefined);
  } finally {
    await after.close();
  }
});
