/**
 * What every fault drill checks after its load stopped (faults.fabric.ts, bft-faults.fabric.ts):
 * what clients were told, and that every acknowledged receipt is on the ledger, in the transparency
 * log and in an export that `torgo verify` accepts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generatePrivateKey, type PrivateKey, publicKeyToPem } from '../../core/index.js';
import { call } from '../gateway/helpers.js';
import type { LoadStats } from './load.js';
import { GatewayProcess, idsOfSource, REPO, until } from './network.js';

const exec = promisify(execFile);

/**
 * Never a 500 or another surprise; every 503 carried Retry-After. An append's unknown commit status
 * is answered 503 (docs/api.md), so a 504 fails too unless the drill names the known case it allows.
 */
export function assertAnswers(stats: LoadStats, allow: { commitUnknown?: RegExp } = {}): void {
  assert.deepEqual(stats.unexpected, [], 'no answer other than 200, 201, 503 (or 504 E_COMMIT_UNKNOWN)');
  const unknown = stats.commitUnknown.filter((m) => !allow.commitUnknown?.test(m));
  assert.deepEqual(unknown, [], 'no append answered 504 E_COMMIT_UNKNOWN');
  assert.equal(stats.statuses.get(500) ?? 0, 0);
  assert.equal(stats.unavailableWithoutRetryAfter, 0, 'every 503 carries Retry-After');
}

/**
 * Every acknowledged receipt of `source`: on the ledger (query), in the log (proof), in a verified
 * export. `dir` is a scratch directory for the export and the operator key.
 */
export async function assertAccounted(
  url: string,
  auditor: string,
  dir: string,
  source: string,
  stats: LoadStats,
): Promise<void> {
  const onLedger = new Set(await idsOfSource(url, auditor, source));
  const missing = [...stats.acked].filter((id) => !onLedger.has(id));
  assert.deepEqual(missing, [], 'every acknowledged receipt is on the ledger');

  // In the log: an inclusion proof for the last one acknowledged (the log is append-only and in
  // commit order, so the rest are checked by the export below).
  const last = [...stats.acked].at(-1)!;
  const proof = await until('an inclusion proof', 60_000, async () => {
    const r = await call(url, 'GET', `/v1/receipts/${last}/proof`, { token: auditor });
    return r.status === 200 ? r : undefined;
  });
  assert.equal(proof.json.id, last);

  const trust = path.join(dir, 'operator.pub.pem');
  await writeFile(trust, (await call(url, 'GET', '/v1/log/operator-key')).text);
  const bundle = path.join(dir, `${source}.jsonl`);
  const cli = path.join(REPO, 'bin', 'torgo.js');
  const env = { ...process.env, TORGO_GATEWAY: url, TORGO_TOKEN: auditor };
  await exec(process.execPath, [cli, 'export', '--source', source, '-o', bundle], {
    env,
    timeout: 120_000,
  });
  const { stdout } = await exec(process.execPath, [cli, 'verify', bundle, '--trust', trust, '--json'], {
    env,
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const report = JSON.parse(stdout) as {
    valid: boolean;
    counts: { receipts: number; validReceipts: number };
  };
  assert.equal(report.valid, true);
  assert.equal(report.counts.receipts, stats.acked.size, 'the export holds every acknowledged receipt');
}

/** What a drill suite sets up once: org1's gateway, an appender with a registered key, an auditor. */
export interface Drill {
  readonly gw: GatewayProcess;
  readonly token: string;
  readonly auditor: string;
  readonly key: PrivateKey;
  /** Scratch directory (exports, keys) for the suite to remove. */
  readonly dir: string;
}

/** Starts org1's gateway and makes `<name>-relay` (appender, key registered) and `<name>-auditor`. */
export async function startDrill(name: string): Promise<Drill> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `torgo-fabric-${name}-`));
  const gw = await GatewayProcess.create('org1');
  await gw.start();
  await gw.ready();
  const made = await call(gw.url, 'POST', '/v1/tokens', {
    token: gw.admin,
    body: { name: `${name}-relay`, roles: ['appender'] },
  });
  assert.equal(made.status, 201, made.text);
  const aud = await call(gw.url, 'POST', '/v1/tokens', {
    token: gw.admin,
    body: { name: `${name}-auditor`, roles: ['auditor'] },
  });
  assert.equal(aud.status, 201, aud.text);
  const key = generatePrivateKey('ML-DSA-65');
  const reg = await call(gw.url, 'POST', '/v1/keys', {
    token: made.json.token,
    body: { publicKey: publicKeyToPem(key) },
  });
  assert.equal(reg.status, 201, reg.text);
  return { gw, token: made.json.token, auditor: aud.json.token, key, dir };
}
