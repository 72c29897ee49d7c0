import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  entryLeafHash,
  fromBase64,
  importPublicKey,
  type LogEntry,
  verifyBundle,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '../../core/index.js';
import { torgo } from '../cli/run.js';
import { call, createToken, idOf, receipt, service, startTestGateway } from './helpers.js';

const b64 = (s: string) => fromBase64(s, 'E_PROOF_INVALID', 'node');

describe('transparency routes on a real gateway', () => {
  it('checkpoints, inclusion and consistency proofs, export bundles that verify offline, CLI export + verify', async (t) => {
    const { url, admin, dir } = await startTestGateway(t);
    const { token, key } = await service(url, admin);
    const auditor = await createToken(url, admin, 'auditor', ['auditor']);
    const appenderOnly = await createToken(url, admin, 'device', ['appender']);
    const operatorPem = (await call(url, 'GET', '/v1/log/operator-key')).text;
    const operator = importPublicKey(operatorPem);
    const policy = {
      origin: 'torgo-ledger.local/log',
      trusted: [{ name: 'torgo-ledger.local/log', key: operator }],
      threshold: 1,
    };

    const mus = [1, 2, 3].map(() => receipt([key]));
    for (const mu of mus.slice(0, 2)) {
      assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: mu })).status, 201);
    }
    const c1 = await call(url, 'POST', '/v1/checkpoint', { token: admin });
    assert.equal(c1.status, 200, c1.text);
    const v1 = verifyCheckpoint(c1.json.note, policy);
    assert.equal(v1.checkpoint.size, 3, 'the key registration and two receipts');
    assert.equal(
      (await call(url, 'POST', '/v1/checkpoint', { token })).status,
      403,
      'appenders may not issue',
    );

    assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: mus[2]! })).status, 201);
    // A proof without a size issues a checkpoint covering the receipt and returns it.
    const p = await call(url, 'GET', `/v1/receipts/${idOf(mus[2]!)}/proof`, { token: auditor });
    assert.equal(p.status, 200, p.text);
    const v2 = verifyCheckpoint(p.json.checkpoint, policy);
    assert.equal(v2.checkpoint.size, 4);
    verifyInclusion(
      p.json.leafIndex,
      p.json.treeSize,
      entryLeafHash(p.json.entry as LogEntry),
      p.json.proof.map(b64),
      v2.checkpoint.rootHash,
    );
    const old = await call(url, 'GET', `/v1/receipts/${idOf(mus[0]!)}/proof?size=3`, { token: auditor });
    assert.equal(old.status, 200);
    verifyInclusion(
      old.json.leafIndex,
      3,
      entryLeafHash(old.json.entry),
      old.json.proof.map(b64),
      v1.checkpoint.rootHash,
    );
    assert.equal(
      (await call(url, 'GET', `/v1/receipts/${idOf(mus[2]!)}/proof?size=3`, { token: auditor })).status,
      404,
    );
    assert.equal(
      (await call(url, 'GET', `/v1/receipts/${idOf(mus[0]!)}/proof?size=99`, { token: auditor })).status,
      400,
    );
    assert.equal(
      (await call(url, 'GET', `/v1/receipts/${idOf(mus[0]!)}/proof`, { token: appenderOnly })).status,
      403,
    );

    const cons = await call(url, 'GET', '/v1/log/consistency?from=3&to=4', { token: auditor });
    assert.equal(cons.status, 200);
    verifyConsistency(3, 4, cons.json.proof.map(b64), v1.checkpoint.rootHash, v2.checkpoint.rootHash);
    assert.equal((await call(url, 'GET', '/v1/log/consistency?from=4&to=3', { token: auditor })).status, 400);
    assert.equal((await call(url, 'GET', '/v1/checkpoint')).status, 401);

    // Checkpoints are recorded on the ledger by the log-operator identity.
    let history: { history?: unknown[] } = {};
    for (let i = 0; i < 250 && (history.history?.length ?? 0) < 2; i++) {
      history = (await call(url, 'GET', '/v1/checkpoints', { token: auditor })).json;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok((history.history?.length ?? 0) >= 2, JSON.stringify(history));

    const exp = await call(url, 'GET', '/v1/export?source=icu-relay-3', { token: auditor });
    assert.equal(exp.status, 200);
    assert.match(exp.headers.get('content-type') ?? '', /ndjson/);
    const report = await verifyBundle(
      (async function* () {
        yield* exp.text.trimEnd().split('\n');
      })(),
      { trusted: policy.trusted },
    );
    assert.deepEqual(report.failures, []);
    assert.equal(report.counts.validReceipts, 3);
    assert.equal(
      (await call(url, 'GET', '/v1/export', { token: auditor })).status,
      400,
      'a selection is required',
    );
    assert.equal((await call(url, 'GET', '/v1/export?source=x', { token: appenderOnly })).status, 403);
    // A secondary filter the index never reads is still one the bundle claims: malformed, it is refused.
    const badFilter = await call(url, 'GET', '/v1/export?source=icu-relay-3&subject=not%20a%20subject', {
      token: auditor,
    });
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.json.code, 'E_BAD_REQUEST');
    assert.match(badFilter.json.message, /subject "not a subject" is not a valid subject/);

    // The CLI: export to a file, then verify it offline against the operator key.
    const bundle = path.join(dir, 'out.jsonl');
    const pub = path.join(dir, 'operator.pub.pem');
    await writeFile(pub, operatorPem);
    const e = await torgo(
      'export',
      '--gateway',
      url,
      '--token',
      auditor,
      '--source',
      'icu-relay-3',
      '-o',
      bundle,
    );
    assert.equal(e.code, 0, e.stderr);
    const v = await torgo('verify', bundle, '--trust', pub, '--workers', '0');
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /receipts: {4}3 of 3 valid/);
    const c = await torgo('checkpoint', '--gateway', url, '--token', auditor);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^torgo-ledger\.local\/log\n4\n/);
  });
});
