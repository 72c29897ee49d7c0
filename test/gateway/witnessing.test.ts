/**
 * Checkpoints witnessed across organisations, on one embedded ledger: Org1's gateway (HTTP, its
 * witness on by default) and Org2's view of the same ledger — its own log store, its own ML-DSA
 * operator key, following the same blocks — each cosign the other's checkpoints as they are recorded
 * on the ledger; `torgo export --cosigned` carries both signatures and `torgo verify --threshold 2`
 * needs both. A checkpoint Org2 signs over a forked tree is refused by Org1's witness and by the verifier.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  generatePrivateKey,
  importPublicKey,
  parseNote,
  privateKeyToPem,
  publicKeyToPem,
  signCheckpoint,
  utf8,
  verifyBundle,
  verifyCheckpoint,
} from '../../core/index.js';
import { LedgerError } from '../../gateway/ledger/driver.js';
import { TransparencyLog } from '../../gateway/logbuilder/log.js';
import { torgo } from '../cli/run.js';
import { call, createToken, receipt, service, startTestGateway, tempDir } from './helpers.js';

const ORIGIN = 'torgo-ledger.local/log';

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Org2's view of the ledger Org1's gateway runs: another log store and operator key, the same blocks. */
type RecordNote = (note: string) => Promise<void>;

async function openOrg2(
  t: TestContext,
  gw: Awaited<ReturnType<typeof startTestGateway>>['gw'],
  recordThrough: (record: RecordNote) => RecordNote = (record) => record,
) {
  const dir = await tempDir(t, 'torgo-org2-');
  const key = generatePrivateKey('ML-DSA-65');
  const keyFile = path.join(dir, 'org2.key.pem');
  await writeFile(keyFile, privateKeyToPem(key), { mode: 0o600 });
  const s = gw.service;
  const operator = await s.wallet.get('log-operator');
  assert.ok(operator, 'the embedded gateway issued its log-operator identity');
  const errors: Error[] = [];
  const log = await TransparencyLog.open({
    dataDir: dir,
    origin: ORIGIN,
    keyFile,
    checkpointIntervalMs: 3_600_000,
    source: (from, signal) => s.driver.blocks(operator, from, signal),
    recordOnLedger: (note) => s.ledger.recordCheckpoint(operator, note),
    recordCosignatures: recordThrough(async (note) => {
      await s.ledger.recordCosignatures(operator, note);
    }),
    onError: (e) => errors.push(e),
  });
  t.after(() => log.close());
  return { log, key, errors, operator };
}

describe('checkpoints witnessed across organisations', () => {
  it('a cosignature that loses the race to be recorded is counted, not reported, and the next checkpoint is cosigned', async (t) => {
    const { gw, url, admin } = await startTestGateway(t);
    // Org2's first recording loses to another organisation's cosignature of the same checkpoint, as
    // two witnesses cosigning at once do on Fabric (the ledger says MVCC_READ_CONFLICT).
    let races = 1;
    const org2 = await openOrg2(t, gw, (record) => async (note) => {
      if (races-- > 0)
        throw new LedgerError('commit', 'transaction t was invalidated: MVCC_READ_CONFLICT', {
          reason: 'MVCC_READ_CONFLICT',
          retryable: true,
        });
      return record(note);
    });
    const { token, key } = await service(url, admin);
    const witness = () => org2.log.witnessing!.status();
    assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) })).status, 201);
    assert.equal((await call(url, 'POST', '/v1/checkpoint', { token: admin })).status, 200);
    await until('Org2 to lose the race', async () => (witness().raced === 1 ? true : undefined));
    assert.equal(witness().cosigned, 0);
    assert.deepEqual(org2.errors, [], 'a lost race is not an error');
    // Not marked as witnessed: the next checkpoint is cosigned and recorded.
    assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) })).status, 201);
    const next = await call(url, 'POST', '/v1/checkpoint', { token: admin });
    assert.equal(next.status, 200, next.text);
    const auditor = await createToken(url, admin, 'aud', ['auditor']);
    await until('Org1 to see the next checkpoint cosigned', async () => {
      const s = (await call(url, 'GET', '/v1/log/witness', { token: auditor })).json;
      return s.latest?.size === next.json.size && s.latest?.signatures === 2 ? true : undefined;
    });
    assert.deepEqual(
      { ...witness(), witnessed: undefined, latest: undefined },
      {
        ...witness(),
        cosigned: 1,
        raced: 1,
        refused: 0,
        witnessed: undefined,
        latest: undefined,
      },
    );
    assert.deepEqual(org2.errors, []);
  });

  it('each organisation cosigns the other’s checkpoints from the blocks; a cosigned export needs both keys', async (t) => {
    const { gw, url, admin, dir } = await startTestGateway(t);
    const org2 = await openOrg2(t, gw);
    const { token, key } = await service(url, admin);
    for (let i = 0; i < 3; i++)
      assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) })).status, 201);
    const auditor = await createToken(url, admin, 'aud', ['auditor']);
    const before = await call(url, 'GET', '/v1/export?source=icu-relay-3&checkpoint=cosigned', {
      token: auditor,
    });
    assert.equal(before.status, 503, 'nothing cosigned yet');
    assert.equal(before.json.details.reason, 'NOT_YET_COSIGNED');

    // Org1 issues a checkpoint; it is recorded on the ledger; Org2's witness sees it in a block,
    // checks it against its own log, cosigns it and records the cosignature; Org1 adopts the result.
    const issued = await call(url, 'POST', '/v1/checkpoint', { token: admin });
    assert.equal(issued.status, 200, issued.text);
    const status = await until('Org1 to see its checkpoint cosigned', async () => {
      const s = (await call(url, 'GET', '/v1/log/witness', { token: auditor })).json;
      return s.latest?.size === issued.json.size ? s : undefined;
    });
    assert.equal(status.enabled, true);
    assert.equal(status.latest.signatures, 2);
    assert.equal(org2.log.witnessing?.status().cosigned, 1, 'Org2 cosigned Org1’s checkpoint');
    // Org2 adopts the cosigned checkpoint when its own log builder reaches the block recording it,
    // which may be after Org1's did (each follows the blocks at its own pace).
    await until('Org2 to hold the cosigned checkpoint too', async () =>
      org2.log.witnessing?.cosigned?.checkpoint.size === issued.json.size ? true : undefined,
    );

    // On the ledger: the checkpoint with both lines, each attributed.
    const recorded = JSON.parse(
      Buffer.from(
        await gw.service.driver.evaluate(org2.operator, 'getCosignedCheckpoint', [
          ORIGIN,
          String(issued.json.size),
        ]),
      ).toString('utf8'),
    );
    assert.equal(parseNote(recorded.note).signatures.length, 2);
    assert.equal(recorded.signers.length, 2);

    // Org2 issues one too (after another receipt): Org1's witness cosigns it.
    assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) })).status, 201);
    const theirs = await org2.log.checkpointAt(gw.service.driver.height() ?? 0);
    assert.equal(theirs.checkpoint.size, issued.json.size + 1);
    await until('Org2 to see its checkpoint cosigned', async () =>
      org2.log.witnessing?.cosigned?.checkpoint.size === theirs.checkpoint.size ? true : undefined,
    );
    const org1Status = (await call(url, 'GET', '/v1/log/witness', { token: auditor })).json;
    assert.equal(org1Status.cosigned, 1, 'Org1 cosigned Org2’s checkpoint');
    assert.equal(org1Status.refused, 0);
    assert.equal(org1Status.witnessed.size, theirs.checkpoint.size);
    // Org1 adopts that cosigned checkpoint when its own log builder reaches the block recording Org1's
    // cosignature, which may come a little after (the builder writes blocks in groups, held up to 50 ms):
    // a cosigned export before then is of the earlier cosigned checkpoint (3 receipts; a clean-clone run saw it).
    await until('Org1 to hold Org2’s cosigned checkpoint', async () => {
      const s = (await call(url, 'GET', '/v1/log/witness', { token: auditor })).json;
      return s.latest?.size === theirs.checkpoint.size && s.latest?.signatures === 2 ? true : undefined;
    });

    // The cosigned export: `torgo verify` with both organisations' keys and threshold 2.
    const org1Pub = path.join(dir, 'org1.pub.pem');
    const org2Pub = path.join(dir, 'org2.pub.pem');
    await writeFile(org1Pub, (await call(url, 'GET', '/v1/log/operator-key')).text);
    await writeFile(org2Pub, publicKeyToPem(org2.key));
    const exportTo = (file: string, ...extra: string[]) =>
      torgo('export', '--gateway', url, '--token', auditor, '--source', 'icu-relay-3', ...extra, '-o', file);
    const verifyWith = (file: string, ...trust: string[]) =>
      torgo('verify', file, ...trust.flatMap((k) => ['--trust', k]), '--threshold', '2', '--workers', '0');
    const bundle = path.join(dir, 'cosigned.jsonl');
    const e = await exportTo(bundle, '--cosigned');
    assert.equal(e.code, 0, e.stderr);
    const both = await verifyWith(bundle, org1Pub, org2Pub);
    assert.equal(both.code, 0, both.stdout + both.stderr);
    assert.match(both.stdout, /receipts: {4}4 of 4 valid/);
    const one = await verifyWith(bundle, org1Pub);
    assert.notEqual(one.code, 0, 'one organisation’s key cannot meet threshold 2');
    assert.match(one.stdout + one.stderr, /E_CHECKPOINT_SIGNATURE|threshold/);
    // A fresh (default) export is signed by Org1 alone: threshold 2 refuses it.
    const fresh = path.join(dir, 'fresh.jsonl');
    assert.equal((await exportTo(fresh)).code, 0);
    const alone = await verifyWith(fresh, org1Pub, org2Pub);
    assert.notEqual(alone.code, 0);
    assert.deepEqual(org2.errors, []);
  });

  it('a checkpoint Org2 signed over a forked tree is refused by Org1’s witness and by the verifier', async (t) => {
    const { gw, url, admin } = await startTestGateway(t);
    const org2 = await openOrg2(t, gw);
    const { token, key } = await service(url, admin);
    for (let i = 0; i < 2; i++)
      assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) })).status, 201);
    const auditor = await createToken(url, admin, 'aud', ['auditor']);
    // An honest checkpoint by Org2 first, so Org1's witness has one to be consistent with.
    const honest = await org2.log.checkpointAt(gw.service.driver.height() ?? 0);
    await until('Org1 to cosign Org2’s honest checkpoint', async () => {
      const s = (await call(url, 'GET', '/v1/log/witness', { token: auditor })).json;
      return s.witnessed?.size === honest.checkpoint.size ? s : undefined;
    });

    // Two more receipts; Org2 then signs size + 2 over a tree of its own (another root), the way an
    // organisation that rewrote or dropped an entry would, and records it on the ledger.
    for (let i = 0; i < 2; i++)
      assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) })).status, 201);
    const size = honest.checkpoint.size + 2;
    const forked = signCheckpoint(
      { origin: ORIGIN, size, rootHash: sha256(utf8('a tree with one receipt rewritten')) },
      [{ name: ORIGIN, key: org2.key }],
    );
    // A checkpoint of another log recorded on the same ledger first: not Org1's witness's to judge.
    const elsewhere = 'elsewhere.example/log';
    await gw.service.ledger.recordCheckpoint(
      org2.operator,
      signCheckpoint({ origin: elsewhere, size: 1, rootHash: sha256(utf8('another log')) }, [
        { name: elsewhere, key: org2.key },
      ]),
    );
    await gw.service.ledger.recordCheckpoint(org2.operator, forked);

    const refused = await until('Org1 to refuse the forked checkpoint', async () => {
      const s = (await call(url, 'GET', '/v1/log/witness', { token: auditor })).json;
      return s.refused > 0 ? s : undefined;
    });
    assert.equal(refused.refused, 1, 'the fork only; the other log’s checkpoint was ignored');
    assert.equal(refused.lastRefusal.code, 'E_CHECKPOINT_CONFLICT');
    assert.match(refused.lastRefusal.message, /not consistent with the last one this gateway cosigned/);
    assert.equal(
      refused.witnessed.size,
      honest.checkpoint.size,
      'the last cosigned checkpoint is still the honest one',
    );
    // Never signed: no cosignature recorded at that size.
    await assert.rejects(
      gw.service.driver.evaluate(org2.operator, 'getCosignedCheckpoint', [ORIGIN, String(size)]),
      /no cosigned checkpoint/,
    );

    // The verifier: the forked note has Org2's signature only; a policy of both keys, threshold 2, refuses it.
    const org1Key = importPublicKey((await call(url, 'GET', '/v1/log/operator-key')).text);
    const policy = {
      origin: ORIGIN,
      trusted: [
        { name: ORIGIN, key: org1Key },
        { name: ORIGIN, key: org2.key },
      ],
      threshold: 2,
    };
    assert.throws(() => verifyCheckpoint(forked, policy), { code: 'E_CHECKPOINT_SIGNATURE' });
    // …and a bundle carrying it, with the inclusion proofs of the real tree, is refused at its checkpoint.
    const exp = await call(url, 'GET', '/v1/export?source=icu-relay-3', { token: auditor });
    assert.equal(exp.status, 200);
    const lines = exp.text.trimEnd().split('\n');
    lines[1] = JSON.stringify({ type: 'checkpoint', note: forked });
    const report = await verifyBundle(
      (async function* () {
        yield* lines;
      })(),
      policy,
    );
    assert.equal(report.valid, false);
    assert.equal(report.stopped?.code, 'E_CHECKPOINT_SIGNATURE');
  });
});
