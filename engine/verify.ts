/**
 * Full consistency check of a ledger directory (`torgo ledger check`): every block links to the one
 * before and matches its hashes; the recorded height is the number of blocks; replaying the write sets
 * of the VALID transactions, in block order, gives exactly the world state, the history index and the
 * tx-id index found in LevelDB — no entry missing, none extra. Memory grows with the number of keys.
 */
import { blockProblem, GENESIS_PREVIOUS_HASH } from './blockstore.js';
import { sha256Hex } from './canonical.js';
import { EngineError } from './errors.js';
import { blockKey, type Db, HEIGHT_KEY, nextPrefix, openDb, PREFIX, type Snapshot } from './state.js';
import {
  type BatchOp,
  base64Values,
  blockOps,
  checkStorageFormat,
  decodeStoredBlock,
  replayUpdates,
} from './storage.js';

export interface ChainReport {
  height: number;
  transactions: number;
  validTransactions: number;
  keys: number;
  historyEntries: number;
  /** Hash of the last block (all zeros when empty). */
  tipHash: string;
}

/** Check the ledger in the LevelDB directory `location` (not open elsewhere). */
export async function verifyLedgerAt(location: string): Promise<ChainReport> {
  const db = await openDb(location);
  try {
    await checkStorageFormat(db, location, false);
    return await verifyChain(db);
  } finally {
    await db.close();
  }
}

/** Check an open ledger; everything is read through one snapshot, so commits may go on meanwhile. */
export async function verifyChain(db: Db): Promise<ChainReport> {
  const snapshot = db.snapshot();
  try {
    return await verifySnapshot(db, snapshot);
  } finally {
    await snapshot.close();
  }
}

/**
 * Replays every block through `blockOps` — the definition of what committing it writes — and
 * compares: the block's stored form, its history, positions and tx-id entries must be in LevelDB
 * byte for byte, the state must be what the last writes leave, and no prefix may hold more entries
 * than the blocks account for. Large values (`v/`) are checked by the block's dataHash, which is
 * recomputed with them put back.
 */
async function verifySnapshot(db: Db, snapshot: Snapshot): Promise<ChainReport> {
  const get = (key: string) => db.getSync(key, { snapshot });
  const heightRaw = get(HEIGHT_KEY);
  const height = heightRaw === undefined ? 0 : Number(heightRaw.toString('utf8'));
  const expectedState = new Map<string, string>(); // key → sha256 of the state entry
  const expectedCounts = new Map<string, number>(); // prefix → entries the blocks account for
  let previousHash = GENESIS_PREVIOUS_HASH;
  let transactions = 0;
  let validTransactions = 0;

  let number = 0;
  for await (const [key, value] of db.iterator({
    gte: PREFIX.block,
    lt: nextPrefix(PREFIX.block),
    snapshot,
  })) {
    if (key !== blockKey(number)) corrupt(`block ${number} is missing (found ${key})`, number);
    const block = decodeStoredBlock(value, get);
    const problem = blockProblem(block, number, previousHash);
    if (problem) corrupt(problem, number);
    transactions += block.transactions.length;
    validTransactions += block.transactions.filter((tx) => tx.validationCode === 'VALID').length;
    for (const op of blockOps(block, base64Values(block.transactions), replayUpdates(block))) {
      checkOp(op, get, expectedState, expectedCounts, number);
    }
    previousHash = block.hash;
    number++;
  }
  if (number !== height) corrupt(`the recorded height is ${height} but there are ${number} blocks`, number);

  let keys = 0;
  for await (const [k, v] of db.iterator({ gte: PREFIX.state, lt: nextPrefix(PREFIX.state), snapshot })) {
    const key = k.slice(PREFIX.state.length);
    if (expectedState.get(key) !== sha256Hex(v)) {
      corrupt(`state of key ${JSON.stringify(key)} does not match the blocks`, Number(v.readBigUInt64BE(0)));
    }
    keys++;
  }
  if (keys !== expectedState.size)
    corrupt(`${expectedState.size - keys} key(s) written by blocks are missing from state`);

  const what: Record<string, string> = {
    [PREFIX.history]: 'history',
    [PREFIX.position]: 'position',
    [PREFIX.txid]: 'tx-id index',
    [PREFIX.value]: 'value',
  };
  for (const [prefix, name] of Object.entries(what)) {
    let seen = 0;
    for await (const _ of db.keys({ gte: prefix, lt: nextPrefix(prefix), snapshot })) seen++;
    const expected = expectedCounts.get(prefix) ?? 0;
    if (seen !== expected) corrupt(`${seen} ${name} entries where the blocks account for ${expected}`);
  }

  return {
    height,
    transactions,
    validTransactions,
    keys,
    historyEntries: expectedCounts.get(PREFIX.history) ?? 0,
    tipHash: previousHash,
  };
}

/** One operation of a replayed block against the database (state: into the expected map). */
function checkOp(
  op: BatchOp,
  get: (key: string) => Buffer | undefined,
  expectedState: Map<string, string>,
  expectedCounts: Map<string, number>,
  blockNumber: number,
): void {
  const prefix = op.key.slice(0, 2);
  if (prefix === PREFIX.state) {
    const key = op.key.slice(PREFIX.state.length);
    if (op.type === 'del') expectedState.delete(key);
    else expectedState.set(key, sha256Hex(op.value));
    return;
  }
  if (op.type === 'del' || prefix === PREFIX.meta) return;
  expectedCounts.set(prefix, (expectedCounts.get(prefix) ?? 0) + 1);
  // A value under v/ is what dataHash was just recomputed from; the rest must match byte for byte.
  if (prefix === PREFIX.value) return;
  const stored = get(op.key);
  if (stored === undefined || !stored.equals(op.value)) {
    const name = prefix === PREFIX.block ? 'stored block' : `entry ${JSON.stringify(op.key)}`;
    corrupt(`${name} does not match the blocks`, blockNumber);
  }
}

function corrupt(message: string, blockNumber?: number): never {
  throw new EngineError('E_CHAIN_CORRUPT', message, blockNumber === undefined ? {} : { blockNumber });
}
