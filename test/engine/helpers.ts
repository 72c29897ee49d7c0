/** Shared set-up for the engine tests: a fresh data directory per test, always removed. */
import './quiet-logs.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { EmbeddedLedger, type LedgerOptions } from '../../engine/index.js';
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
