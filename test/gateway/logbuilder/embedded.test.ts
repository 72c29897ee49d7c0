import '../../engine/quiet-logs.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { contracts } from '../../../chaincode/contract.js';
import { publicKey, publicKeyToPem, toHex, verifyBundle } from '../../../core/index.js';
import { EmbeddedLedger } from '../../../engine/index.js';
import { type BlockSource, LogBuilder } from '../../../gateway/logbuilder/builder.js';
import { Checkpointer } from '../../../gateway/logbuilder/checkpointer.js';
import { exportBundle } from '../../../gateway/logbuilder/export.js';
import { logBlockOf } from '../../../gateway/logbuilder/sources.js';
import { LogStore } from '../../../gateway/logbuilder/store.js';
import { ORIGIN, operatorKey, signedReceipt } from './fixture.js';
import { privateKeyFromSeed } from '../../../core/index.js';

describe('log builder over the embedded engine running the real AuditContract', () => {
  let dir: string;
  let ledger: EmbeddedLedger;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'torgo-logb-'));
    ledger = await EmbeddedLedger.open({ dir: join(dir, 'ledger'), contracts });
  });
  after(async () => {
    await ledger.close();
    await rm(dir, { recursive: true, force: true });
  });

  const source: BlockSource = async function* (fromBlock, signal) {
    for await (const block of ledger.blocks(fromBlock, { signal })) yield logBlockOf(block);
  };

  it('follows commits, resumes after a restart, builds identical roots and chains in two builders, exports a bundle that verifies complete', async (t) => {
    const relay = privateKeyFromSeed('ML-DSA-65', new Uint8Array(32).fill(1));
    const appender = await ledger.createIdentity({
      mspId: 'Org1MSP',
      name: 'relay',
      attrs: { 'torgo.role': 'appender' },
    });
    await ledger.submit(appender, 'registerKey', [publicKeyToPem(relay), 'relay']);
    const mus = [1, 2, 3].map((n) => signedReceipt(n, [relay]));
    await ledger.submit(appender, 'appendReceipts', [JSON.stringify(mus.slice(0, 2))]);
    await ledger.submit(appender, 'appendReceipt', [mus[0]!]); // idempotent repeat: no new leaf

    // Builder A runs, stops, restarts (resume from its persisted position); builder B runs once.
    // Stopped however the test ends: a failed assertion must fail the test, not leave it hanging on
    // running builders and open stores (idempotent, so the normal end's stops below stay).
    const running: { stop(): Promise<void> }[] = [];
    t.after(async () => {
      for (const r of running.reverse()) await r.stop().catch(() => undefined);
    });
    const storeA = await LogStore.open(join(dir, 'logA'));
    running.push({ stop: () => storeA.close() });
    let builderA = new LogBuilder(storeA, source);
    running.push({ stop: () => builderA.stop() });
    builderA.start();
    await builderA.caughtUp(ledger.height - 1);
    await builderA.stop();
    assert.equal(storeA.size, 3, 'one key entry and two receipts');
    await ledger.submit(appender, 'appendReceipt', [mus[2]!]);
    await ledger.submit(appender, 'revokeKey', [relay.keyId, 'retired device']);
    builderA = new LogBuilder(storeA, source);
    builderA.start();
    await builderA.caughtUp(ledger.height - 1);
    const storeB = await LogStore.open(join(dir, 'logB'));
    running.push({ stop: () => storeB.close() });
    const builderB = new LogBuilder(storeB, source);
    running.push(builderB);
    builderB.start();
    await builderB.caughtUp(ledger.height - 1);
    assert.equal(storeA.size, 5);
    assert.equal(toHex(await storeA.root()), toHex(await storeB.root()));

    const checkpointer = await Checkpointer.open(storeA, { origin: ORIGIN, key: operatorKey });
    running.push(checkpointer);
    const lines: string[] = [];
    for await (const l of exportBundle({
      store: storeA,
      checkpointer,
      origin: ORIGIN,
      filters: { source: 'icu-relay-3' },
      receipts: async function* () {
        for (const mu of mus) {
          const id = /^di: (.+)$/m.exec(mu)![1]!.split('').reverse().join('');
          yield { id, mu };
        }
      },
    })) {
      lines.push(l.toString('utf8').trimEnd());
    }
    const report = await verifyBundle(
      (async function* () {
        yield* lines;
      })(),
      { trusted: [{ name: ORIGIN, key: publicKey(operatorKey.alg, operatorKey.publicKey) }] },
    );
    assert.deepEqual(report.failures, []);
    assert.equal(report.valid, true);
    assert.equal(report.counts.validReceipts, 3);
    assert.equal(report.counts.keys, 2, 'registered and revoked entries of the relay key');
    assert.equal(report.flags.length, 3, 'all three were signed by the key revoked later');
    // The contract's format-2 events chain the entries, identically across builder A's restart.
    assert.deepEqual(report.completeness, {
      status: 'proven',
      chain: { by: 'source', value: 'icu-relay-3' },
      chainEntries: 3,
      receipts: 3,
      start: 'chain-start',
      end: 'stated-head',
      keyChains: 1,
      keyHeads: 'proven',
    });
    const revoked = (await storeA.leaf(4))!.entry;
    assert.equal(revoked.kind === 'key' && revoked.prevKey, 0, 'the revocation points to the registration');
    const third = (await storeA.leaf(3))!.entry;
    assert.equal(third.kind === 'receipt' && third.prevSource, 2);
    await builderA.stop();
    await builderB.stop();
    await checkpointer.stop();
    await storeA.close();
    await storeB.close();
  });
});
