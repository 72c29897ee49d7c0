import '../engine/quiet-logs.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it, type TestContext } from 'node:test';
import { Level } from 'level';
import { contracts } from '../../chaincode/contract.js';
import { publicKeyToPem, privateKeyFromSeed } from '../../core/index.js';
import { describeError } from '../../cli/errors.js';
import { EmbeddedLedger, EngineError } from '../../engine/index.js';
import { LedgerError } from '../../gateway/ledger/driver.js';
import type { StorageReport } from '../../gateway/ledger/embedded/stats.js';
import { pem, signedReceipt, testKey } from '../chaincode/ledger.js';
import { torgo } from './run.js';

/** A fresh embedded ledger in a temporary directory (removed after `t`) and an appender identity on it. */
async function appenderLedger(t: TestContext, prefix: string) {
  const data = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(data, { recursive: true, force: true }));
  const ledger = await EmbeddedLedger.open({ dir: data, contracts });
  const who = await ledger.createIdentity({
    mspId: 'Org1MSP',
    name: 'relay',
    attrs: { 'torgo.role': 'appender' },
  });
  return { data, ledger, who };
}

it('torgo ledger check: 0 on a sound ledger, 1 once a block is altered, 2 while it is open elsewhere', async (t) => {
  const { data, ledger, who } = await appenderLedger(t, 'torgo-ledger-check-');
  await ledger.submit(who, 'registerKey', [
    publicKeyToPem(privateKeyFromSeed('ML-DSA-65', new Uint8Array(32).fill(4))),
    'k',
  ]);
  const busy = await torgo('ledger', 'check', '--data', data);
  assert.equal(busy.code, 2, 'LevelDB is locked by the open ledger');
  await ledger.close();

  const ok = await torgo('ledger', 'check', '--data', data, '--json');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).height, 1);

  // Flip one byte of the stored block: the hash chain no longer verifies.
  const db = new Level<string, Buffer>(path.join(data, 'ledger'), {
    keyEncoding: 'utf8',
    valueEncoding: 'buffer',
  });
  let blockKey: string | undefined;
  for await (const [k, v] of db.iterator()) {
    if (v.includes(Buffer.from('"previousHash"'))) {
      blockKey = k;
      const altered = Buffer.from(v);
      const at = altered.indexOf(Buffer.from('registerKey'));
      altered[at] = 'R'.charCodeAt(0);
      await db.put(k, altered);
      break;
    }
  }
  await db.close();
  assert.ok(blockKey, 'found the stored block');
  const bad = await torgo('ledger', 'check', '--data', data);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /E_CHAIN_CORRUPT/);
});

it('torgo ledger stats: bytes per receipt in each store, the .mu size, and the figures after compaction', async (t) => {
  const { data, ledger, who } = await appenderLedger(t, 'torgo-ledger-stats-');
  const key = testKey(5);
  await ledger.submit(who, 'registerKey', [pem(key), 'k']);
  const receipts = Array.from({ length: 5 }, () => signedReceipt([key]));
  await ledger.submit(who, 'appendReceipts', [JSON.stringify(receipts)]);
  await ledger.close();

  const r = await torgo('ledger', 'stats', '--data', data, '--compact', '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as StorageReport;
  assert.equal(report.receipts, 5);
  const mu = receipts.reduce((n, m) => n + Buffer.byteLength(m, 'utf8'), 0) / 5;
  assert.equal(report.muBytes, mu);
  const classes = new Map(report.ledger.classes.map((c) => [c.name, c]));
  assert.equal(classes.get('state: receipt records')?.entries, 5);
  assert.equal(classes.get('state: indexes')?.entries, 30, 'six index keys per receipt');
  assert.equal(classes.get('values (written once)')?.entries, 6, 'five receipt records and the key record');
  assert.ok(
    (classes.get('values (written once)')?.valueBytes ?? 0) > 5 * mu,
    'the receipt bytes are in the values store',
  );
  assert.equal(classes.get('blocks')?.entries, 2);
  assert.ok(report.ledger.compacted, 'measured again after compaction');
  assert.equal(report.log, undefined, 'no log was built in this data directory');

  const text = await torgo('ledger', 'stats', '--data', data);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^5 receipts, \.mu \d+ bytes on average/);
  assert.match(text.stdout, /values \(written once\)\s+6\s+\d+\s+\d+/);
  assert.match(text.stdout, /all: \d+ B\/receipt \([\d.]+× the \.mu\)/);
});

it('an engine code wrapped by the gateway reaches the exit line (E_LEDGER_FORMAT at start, not E_INTERNAL)', () => {
  const message = 'ledger data/ledger is in storage format 1; this version reads format 2. Convert it once …';
  const wrapped = new LedgerError('connect', message, {
    reason: 'LEDGER_FORMAT',
    cause: new EngineError('E_LEDGER_FORMAT', message),
  });
  assert.deepEqual(describeError(wrapped), { exitCode: 2, code: 'E_LEDGER_FORMAT', message });
  assert.equal(describeError(new Error('boom')).code, 'E_INTERNAL');
});
