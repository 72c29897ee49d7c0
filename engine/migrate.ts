/**
 * `torgo ledger migrate`: converts a ledger of storage format 1 (every value in state, in its history
 * entry and in its block) to format 2 (state.ts), offline. The new ledger is built beside the old one
 * by replaying the old blocks through `blockOps` (what committing them writes today), checked — its
 * chain with `verifyChain`, and its state against the old state, key by key, version and value — and
 * only then swapped in; the old directory is kept as `<ledger>.format1` for the operator to delete.
 * Interrupted at any point, the old ledger is untouched (a half-built `<ledger>.migrating` is removed
 * by the next attempt).
 */
import { rename, rm, stat } from 'node:fs/promises';
import { type Block, blockProblem, GENESIS_PREVIOUS_HASH } from './blockstore.js';
import { EngineError } from './errors.js';
import {
  blockKey,
  type Db,
  FORMAT_KEY,
  HEIGHT_KEY,
  nextPrefix,
  openDb,
  PREFIX,
  STORAGE_FORMAT,
  StateView,
  sameVersion,
} from './state.js';
import { base64Values, blockOps, replayUpdates } from './storage.js';
import { verifyChain } from './verify.js';

export interface MigrationReport {
  /** The format found: 1 when converted, 2 when there was nothing to do. */
  from: number;
  blocks: number;
  keys: number;
  /** Where the old ledger was kept; absent when nothing was converted. */
  kept?: string;
}

/** Convert the ledger at `location` (closed everywhere) to this engine's format, if it is in format 1. */
export async function migrateLedger(location: string): Promise<MigrationReport> {
  const kept = `${location}.format1`;
  if (!(await exists(location))) throw new EngineError('E_ARGUMENT', `there is no ledger at ${location}`);
  if (await exists(kept)) {
    throw new EngineError(
      'E_ARGUMENT',
      `${kept} exists: a ledger was migrated here before; move it away first`,
    );
  }
  const old = await openDb(location);
  const building = `${location}.migrating`;
  let report: MigrationReport;
  try {
    const format = await old.get(FORMAT_KEY);
    if (format !== undefined) {
      const found = Number(format.toString('utf8'));
      if (found === STORAGE_FORMAT) return { from: found, blocks: 0, keys: 0 };
      throw new EngineError(
        'E_LEDGER_FORMAT',
        `ledger ${location} is in storage format ${found}, newer than this version's`,
      );
    }
    await rm(building, { recursive: true, force: true });
    const next = await openDb(building);
    try {
      const blocks = await replayFormat1(old, next);
      await verifyChain(next);
      const keys = await sameState(old, next);
      await next.put(FORMAT_KEY, Buffer.from(String(STORAGE_FORMAT)), { sync: true });
      report = { from: 1, blocks, keys, kept };
    } finally {
      await next.close();
    }
  } finally {
    await old.close();
  }
  await rename(location, kept);
  await rename(building, location);
  return report;
}

/** Every format-1 block (full values, canonical JSON) written to `next` as committing it writes it now. */
async function replayFormat1(old: Db, next: Db): Promise<number> {
  const heightRaw = await old.get(HEIGHT_KEY);
  const height = heightRaw === undefined ? 0 : Number(heightRaw.toString('utf8'));
  let previousHash = GENESIS_PREVIOUS_HASH;
  let number = 0;
  for await (const [key, value] of old.iterator({ gte: PREFIX.block, lt: nextPrefix(PREFIX.block) })) {
    if (key !== blockKey(number)) corrupt(`block ${number} is missing (found ${key})`);
    const block = JSON.parse(value.toString('utf8')) as Block;
    const problem = blockProblem(block, number, previousHash);
    if (problem) corrupt(problem);
    await next.batch(blockOps(block, base64Values(block.transactions), replayUpdates(block)));
    previousHash = block.hash;
    number++;
  }
  if (number !== height) corrupt(`the recorded height is ${height} but there are ${number} blocks`);
  return number;
}

/** The old state (version ‖ value) and the new one must hold the same keys, versions and values. */
async function sameState(old: Db, next: Db): Promise<number> {
  const fresh = new StateView(next);
  let keys = 0;
  for await (const [k, v] of old.iterator({ gte: PREFIX.state, lt: nextPrefix(PREFIX.state) })) {
    const key = k.slice(PREFIX.state.length);
    const version = { blockNum: Number(v.readBigUInt64BE(0)), txNum: v.readUInt32BE(8) };
    const now = await fresh.get(key);
    if (!now || !sameVersion(now.version, version) || !now.value.equals(v.subarray(12))) {
      corrupt(`state of key ${JSON.stringify(key)} does not match the blocks`);
    }
    keys++;
  }
  let replayed = 0;
  for await (const _ of next.keys({ gte: PREFIX.state, lt: nextPrefix(PREFIX.state) })) replayed++;
  if (replayed !== keys) corrupt(`the blocks write ${replayed} state keys; the ledger holds ${keys}`);
  return keys;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function corrupt(message: string): never {
  throw new EngineError('E_CHAIN_CORRUPT', `format-1 ledger: ${message}; nothing was changed`);
}
