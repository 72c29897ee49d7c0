/** Shared set-up for the engine tests: a fresh data directory per test, always removed. */
import './quiet-logs.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { EmbeddedLedger, type LedgerOptions } from '../../engine/index.js';
import { type Db, encodeState, openDb, stateKey, type Version } from '../../engine/state.js';
import { KvContract } from './fixtures/kv-contract.js';

/** A temp dir removed after the test, after everything opened in it was closed. */
export async function tempDir(
  t: TestContext,
): Promise<{ dir: string; closeLater(c: { close(): Promise<void> }): void }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'torgo-engine-'));
  const closables: Array<{ close(): Promise<void> }> = [];
  t.after(async () => {
    for (const c of closables.reverse()) await c.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, closeLater: (c) => closables.push(c) };
}

export function openKv(dir: string, options: Partial<LedgerOptions> = {}): Promise<EmbeddedLedger> {
  return EmbeddedLedger.open({ contracts: [KvContract], chaincodeLogLevel: 'CRITICAL', ...options, dir });
}

/** A ledger running the KV fixture contract in its own temp dir; closed and removed after the test. */
export async function openKvLedger(
  t: TestContext,
  options: Partial<LedgerOptions> = {},
): Promise<EmbeddedLedger> {
  const tmp = await tempDir(t);
  const ledger = await openKv(tmp.dir, options);
  tmp.closeLater(ledger);
  return ledger;
}

/** A ledger database in a temp dir (closed after the test) holding `state`: each key at its version, value "x". */
export async function stateDb(t: TestContext, state: Record<string, Version>): Promise<Db> {
  const tmp = await tempDir(t);
  const db = await openDb(path.join(tmp.dir, 'ledger'));
  tmp.closeLater(db);
  await db.batch(
    Object.entries(state).map(([key, version]) => ({
      type: 'put' as const,
      key: stateKey(key),
      value: encodeState(Buffer.from('x'), version),
    })),
  );
  return db;
}
