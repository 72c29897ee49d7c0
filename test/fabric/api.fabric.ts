/**
 * The whole product on the live Fabric network, through the gateway's HTTP API and the `torgo` CLI:
 * CA-issued tokens, the key registry, single / batch / idempotent appends, every query and history
 * route, roles, export and offline `torgo verify` of a Fabric-built log, and a second organisation's
 * gateway computing the same checkpoints from the same blocks and cosigning them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  generatePrivateKey,
  importPublicKey,
  type PrivateKey,
  publicKeyToPem,
  verifyCheckpoint,
} from '../../core/index.js';
import { call, idOf, receipt } from '../gateway/helpers.js';
import { GatewayProcess, idsOfSource, REPO, until } from './network.js';

const exec = promisify(execFile);

/** The real CLI as a user runs it (a child process), against `url` with `token`. */
async function torgo(
  url: string,
  token: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [path.join(REPO, 'bin', 'torgo.js'), ...args], {
      env: { ...process.env, TORGO_GATEWAY: url, TORGO_TOKEN: token },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : 1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    };
  }
}

describe(`the product on a live Fabric network (fabric.client ${process.env['TORGO_FABRIC_CLIENT'] ?? 'gateway'})`, {
  timeout: 600_000,
}, () => {
  let org1: GatewayProcess;
  let org2: GatewayProcess;
  let dir: string;
  let appender: string;
  let auditor: string;
  let key: PrivateKey;
  const source = `fabric-it-${Date.now().toString(36)}`;
  const appended: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'torgo-fabric-api-'));
    org1 = await GatewayProcess.create('org1');
    org2 = await GatewayProcess.create('org2');
    await Promise.all([org1.start(), org2.start()]);
    await Promise.all([org1.ready(), org2.ready()]);
  });
  after(async () => {
    await Promise.all([org1?.stop(), org2?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('first start: the bootstrap admin token works on Fabric and /readyz reports the chain', async () => {
    assert.match(org1.admin, /^torgo_/);
    const me = await call(org1.url, 'GET', '/v1/me', { token: org1.admin });
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.json.roles, ['admin']);
    assert.equal(me.json.mspId, 'Org1MSP');
    const ready = await call(org1.url, 'GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.equal(ready.json.ledger, 'fabric');
    assert.ok(ready.json.height >= 1, `height ${ready.json.height}`);
  });

  it('torgo token create --role appender,auditor enrols a new Fabric CA identity carrying both roles', async () => {
    const made = await torgo(
      org1.url,
      org1.admin,
      'token',
      'create',
      '--name',
      `svc-${source}`,
      '--role',
      'appender,auditor',
      '--json',
    );
    assert.equal(made.code, 0, made.stderr);
    const { token, info } = JSON.parse(made.stdout) as {
      token: string;
      info: { roles: string[]; identity: string };
    };
    assert.deepEqual(info.roles, ['appender', 'auditor']);
    appender = token;
    const me = await call(org1.url, 'GET', '/v1/me', { token });
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.json.roles, ['appender', 'auditor']);
    assert.equal(me.json.mspId, 'Org1MSP');
    const audit = await call(org1.url, 'POST', '/v1/tokens', {
      token: org1.admin,
      body: { name: `aud-${source}`, roles: ['auditor'] },
    });
    assert.equal(audit.status, 201, audit.text);
    auditor = audit.json.token;
  });

  it('keys: register (CLI), show, rotate, revoke, history', async () => {
    key = generatePrivateKey('ML-DSA-65');
    const pub = path.join(dir, 'relay.pub.pem');
    await writeFile(pub, publicKeyToPem(key));
    const reg = await torgo(org1.url, appender, 'key', 'register', pub, '--label', 'fabric relay');
    assert.equal(reg.code, 0, reg.stderr);
    const shown = await call(org1.url, 'GET', `/v1/keys/${key.keyId}`, { token: appender });
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.json.status, 'active');
    assert.equal(shown.json.owner.mspId, 'Org1MSP');

    // A second key, rotated to a third, then the third revoked: three states on the ledger.
    const old = generatePrivateKey('ML-DSA-65');
    const next = generatePrivateKey('ML-DSA-65');
    assert.equal(
      (
        await call(org1.url, 'POST', '/v1/keys', {
          token: appender,
          body: { publicKey: publicKeyToPem(old) },
        })
      ).status,
      201,
    );
    const rotated = await call(org1.url, 'POST', `/v1/keys/${old.keyId}/rotate`, {
      token: appender,
      body: { publicKey: publicKeyToPem(next) },
    });
    assert.equal(rotated.status, 200, rotated.text);
    const revoked = await call(org1.url, 'POST', `/v1/keys/${next.keyId}/revoke`, {
      token: appender,
      body: { reason: 'drill' },
    });
    assert.equal(revoked.status, 200, revoked.text);
    const history = await call(org1.url, 'GET', `/v1/keys/${old.keyId}/history`, { token: appender });
    assert.equal(history.status, 200, history.text);
    assert.equal(history.json.history.length, 2, 'registered, then retired');
    const refused = await call(org1.url, 'POST', '/v1/receipts', {
      token: appender,
      raw: receipt([next], { source }),
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.json.code, 'E_KEY_REVOKED');
  });

  it('appends: single 201 then 200 on repeat, batch, conflict 409, unknown key 422', async () => {
    const mu = receipt([key], { source, subject: `urn:torgo:subject:${source}` });
    const first = await call(org1.url, 'POST', '/v1/receipts', { token: appender, raw: mu });
    assert.equal(first.status, 201, first.text);
    const again = await call(org1.url, 'POST', '/v1/receipts', { token: appender, raw: mu });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json, first.json, 'a repeat answers the original transaction');
    appended.push(idOf(mu));

    const batch = Array.from({ length: 20 }, (_, i) =>
      receipt([key], { source, operation: i % 2 ? 'vitals.forward' : 'vitals.ack' }),
    );
    const b = await call(org1.url, 'POST', '/v1/receipts/batch', {
      token: appender,
      body: { receipts: [...batch, mu] },
    });
    assert.equal(b.status, 200, b.text);
    assert.equal(b.json.appended, 20);
    assert.equal(b.json.existing, 1);
    appended.push(...batch.map(idOf));

    const conflict = receipt([key], { id: idOf(mu), source, intent: 'Something else entirely.' });
    const c = await call(org1.url, 'POST', '/v1/receipts', { token: appender, raw: conflict });
    assert.equal(c.status, 409, c.text);
    assert.equal(c.json.code, 'E_RECEIPT_CONFLICT');

    const stranger = generatePrivateKey('ML-DSA-44');
    const u = await call(org1.url, 'POST', '/v1/receipts', {
      token: appender,
      raw: receipt([stranger], { source }),
    });
    assert.equal(u.status, 422, u.text);
    assert.equal(u.json.code, 'E_KEY_UNKNOWN');

    // Through the CLI as well.
    const file = path.join(dir, 'r.mu');
    const cliMu = receipt([key], { source });
    await writeFile(file, cliMu);
    const cli = await torgo(org1.url, appender, 'append', file);
    assert.equal(cli.code, 0, cli.stderr);
    appended.push(idOf(cliMu));
  });

  it('queries: by id (JSON and .mu), source / subject / operation, windows, pages, CSV, from the other org too', async () => {
    const one = await call(org1.url, 'GET', `/v1/receipts/${appended[0]}`, { token: auditor });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.source, source);
    const raw = await call(org1.url, 'GET', `/v1/receipts/${appended[0]}`, {
      token: auditor,
      accept: 'text/markdown',
    });
    assert.equal(raw.status, 200);
    assert.equal(idOf(raw.text), appended[0]);

    const seen = await idsOfSource(org1.url, auditor, source, 7);
    assert.deepEqual([...seen].sort(), [...appended].sort(), 'every page, each receipt once');

    const bySubject = await call(org1.url, 'GET', `/v1/receipts?subject=urn:torgo:subject:${source}`, {
      token: auditor,
    });
    assert.deepEqual(
      bySubject.json.receipts.map((r: { id: string }) => r.id),
      [appended[0]],
    );
    const byOp = await call(org1.url, 'GET', `/v1/receipts?operation=vitals.ack&source=${source}&limit=100`, {
      token: auditor,
    });
    assert.equal(byOp.json.receipts.length, 10);
    const future = await call(org1.url, 'GET', `/v1/receipts?source=${source}&from=2999-01-01T00:00:00Z`, {
      token: auditor,
    });
    assert.equal(future.json.receipts.length, 0);
    const csv = await call(org1.url, 'GET', `/v1/receipts?source=${source}`, {
      token: auditor,
      accept: 'text/csv',
    });
    assert.equal(csv.status, 200);
    assert.equal(csv.text.trim().split('\n').length, appended.length + 1);

    // Org2's gateway reads the same ledger with its own identity.
    const org2Auditor = await call(org2.url, 'POST', '/v1/tokens', {
      token: org2.admin,
      body: { name: 'aud2', roles: ['auditor'] },
    });
    assert.equal(org2Auditor.status, 201, org2Auditor.text);
    const viaOrg2 = await call(org2.url, 'GET', `/v1/receipts/${appended[0]}`, {
      token: org2Auditor.json.token,
    });
    assert.equal(viaOrg2.status, 200, viaOrg2.text);
    assert.deepEqual(viaOrg2.json, one.json);
  });

  it('metrics on Fabric: block height, commit latency, endorsement errors', async () => {
    const m = (await call(org1.url, 'GET', '/metrics')).text;
    const value = (name: string) => {
      const line = m.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    assert.ok((value('torgo_ledger_block_height') ?? 0) > 1, 'the block height is known on Fabric');
    assert.ok((value('torgo_ledger_commit_duration_seconds_count') ?? 0) > 0, 'commit latency is observed');
    assert.equal(value('torgo_log_stalled'), 0);
    assert.match(m, /# TYPE torgo_ledger_errors_total counter/);
  });

  it('roles: the contract and the gateway refuse what a role may not do', async () => {
    const r = await call(org1.url, 'POST', '/v1/receipts', {
      token: auditor,
      raw: receipt([key], { source }),
    });
    assert.equal(r.status, 403);
    const t = await call(org1.url, 'POST', '/v1/tokens', {
      token: appender,
      body: { name: 'x', roles: ['admin'] },
    });
    assert.equal(t.status, 403);
    const q = await call(org1.url, 'GET', `/v1/receipts/${appended[0]}`, { token: 'torgo_nope_nope' });
    assert.equal(q.status, 401);
  });

  it('export and offline torgo verify of the Fabric-built log, provably complete', async () => {
    const operatorKey = await call(org1.url, 'GET', '/v1/log/operator-key');
    assert.equal(operatorKey.status, 200);
    const trust = path.join(dir, 'operator.pub.pem');
    await writeFile(trust, operatorKey.text);
    const bundle = path.join(dir, 'bundle.jsonl');
    const exported = await torgo(org1.url, auditor, 'export', '--source', source, '-o', bundle);
    assert.equal(exported.code, 0, exported.stderr);
    const verified = await torgo('http://127.0.0.1:1', '', 'verify', bundle, '--trust', trust, '--json');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const report = JSON.parse(verified.stdout) as {
      valid: boolean;
      counts: { receipts: number; validReceipts: number };
      completeness?: { status: string; keyHeads?: string };
    };
    assert.equal(report.valid, true);
    // The contract's format-2 events on Fabric chain the entries: the source's bundle is provably
    // complete, and its signer keys' heads are proven against the checkpoint (docs/bundle-format.md §6).
    assert.equal(report.completeness?.status, 'proven', verified.stdout);
    assert.equal(report.completeness?.keyHeads, 'proven');
    assert.equal(
      report.counts.receipts,
      appended.length,
      'every acknowledged receipt of the source is in the bundle',
    );
    assert.equal(report.counts.validReceipts, appended.length);
    const lines = (await readFile(bundle, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; mu?: string });
    const ids = lines.filter((l) => l.type === 'receipt').map((l) => idOf(l.mu!));
    assert.deepEqual(ids.sort(), [...appended].sort());
  });

  it('two organisations compute identical checkpoints from the same blocks and cosign each other’s', async () => {
    const op1 = await call(org1.url, 'POST', '/v1/checkpoint', { token: org1.admin });
    assert.equal(op1.status, 200, op1.text);
    // Org2's gateway witnesses org1's checkpoint: it cosigns only if its own log, built from the same
    // blocks, has the same root at that size (waiting for its log to get there).
    const byOrg2 = await call(org2.url, 'POST', '/v1/checkpoint/cosign', {
      token: org2.admin,
      body: { note: op1.json.note },
    });
    assert.equal(byOrg2.status, 200, byOrg2.text);
    assert.equal(byOrg2.json.rootHash, op1.json.rootHash);
    const op2 = await call(org2.url, 'POST', '/v1/checkpoint', { token: org2.admin });
    assert.equal(op2.status, 200, op2.text);
    assert.equal(op2.json.origin, op1.json.origin);
    assert.notEqual(
      op1.json.operatorKeyId,
      op2.json.operatorKeyId,
      'each organisation signs with its own key',
    );
    const byOrg1 = await call(org1.url, 'POST', '/v1/checkpoint/cosign', {
      token: org1.admin,
      body: { note: op2.json.note },
    });
    assert.equal(byOrg1.status, 200, byOrg1.text);

    const keys = await Promise.all(
      [org1, org2].map(async (g) => importPublicKey((await call(g.url, 'GET', '/v1/log/operator-key')).text)),
    );
    const origin = op1.json.origin as string;
    for (const note of [byOrg2.json.note, byOrg1.json.note]) {
      const v = verifyCheckpoint(note, {
        origin,
        trusted: keys.map((key) => ({ name: origin, key })),
        threshold: 2,
      });
      assert.equal(v.signedBy.length, 2, 'signed by both organisations');
    }
  });
  it('continuous witnessing: each gateway cosigns the other organisation’s recorded checkpoints; a cosigned export needs both keys', async () => {
    // Org1 records a checkpoint; Org2's witness reads it from a block, checks it against its own log
    // (consistency with the last one it cosigned, its own root and key heads), cosigns and records
    // the cosignature on the ledger; Org1's witness reads that back.
    const op = await call(org1.url, 'POST', '/v1/checkpoint', { token: org1.admin });
    assert.equal(op.status, 200, op.text);
    const status = await until('org1 to hold its checkpoint cosigned by org2', 90_000, async () => {
      const s = (await call(org1.url, 'GET', '/v1/log/witness', { token: auditor })).json;
      return s.latest && s.latest.size >= op.json.size && s.latest.signatures >= 2 ? s : undefined;
    });
    assert.equal(status.refused, 0, JSON.stringify(status));
    const org2Status = (await call(org2.url, 'GET', '/v1/log/witness', { token: org2.admin })).json;
    assert.ok(org2Status.cosigned >= 1, JSON.stringify(org2Status));
    assert.equal(org2Status.refused, 0, JSON.stringify(org2Status));

    const trust = await Promise.all(
      [org1, org2].map(async (g) => {
        const file = path.join(dir, `${g.org}.pub.pem`);
        await writeFile(file, (await call(g.url, 'GET', '/v1/log/operator-key')).text);
        return file;
      }),
    );
    const bundle = path.join(dir, 'cosigned.jsonl');
    const exported = await torgo(org1.url, auditor, 'export', '--source', source, '--cosigned', '-o', bundle);
    assert.equal(exported.code, 0, exported.stderr);
    const args = ['verify', bundle, '--trust', trust[0]!, '--trust', trust[1]!, '--threshold', '2', '--json'];
    const verified = await torgo('http://127.0.0.1:1', '', ...args);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const report = JSON.parse(verified.stdout) as { valid: boolean; counts: { validReceipts: number } };
    assert.equal(report.valid, true);
    assert.equal(
      report.counts.validReceipts,
      appended.length,
      'the source’s receipts precede the checkpoint',
    );
    const alone = await torgo(
      'http://127.0.0.1:1',
      '',
      'verify',
      bundle,
      '--trust',
      trust[0]!,
      '--threshold',
      '2',
    );
    assert.notEqual(alone.code, 0, 'org1’s key alone cannot meet threshold 2');
  });
});
