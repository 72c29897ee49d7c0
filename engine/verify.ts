/**
 * Full consistency check of a ledger directory (`torgo ledger check`): every block links to the one
 * before and matches its hashes; the recorded height is the number of blocks; replaying the write sets
 * of the VALID transactions, in block order, gives exactly the world state, the history index and the
 * tx-id index found in LevelDB — no entry missing, none extra. Memory grows with the number of keys.
 */
import { blockProblem, decodeBlock, GENESIS_PREVIOUS_HASH } from './blockstore.js';
import { sha256Hex } from './canonical.js';
import { EngineError } from './errors.js';
import {
  blockKey,
  type Db,
  decodeState,
  HEIGHT_KEY,
  type HistoryRecord,
  historyKey,
  nextPrefix,
  openDb,
  PREFIX,
  type Snapshot,
  txidKey,
} from './state.js';

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

async function verifySnapshot(db: Db, snapshot: Snapshot): Promise<ChainReport> {
  const heightRaw = await db.get(HEIGHT_KEY, { snapshot });
  const height = heightRaw === undefined ? 0 : Number(heightRaw.toString('utf8'));
  const expectedState = new Map<string, string>(); // key → "block:tx:sha256(value)"
  const expectedHistory = new Map<string, string>(); // history key → stored JSON
  const expectedTxids = new Map<string, string>(); // txid key → stored JSON
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
    const block = decodeBlock(value);
    const problem = blockProblem(block, number, previousHash);
    if (problem) corrupt(problem, number);
    for (const [txNumber, tx] of block.transactions.entries()) {
      transactions++;
      if (tx.validationCode !== 'DUPLICATE_TXID') {
        expectedTxids.set(
          txidKey(tx.txId),
          JSON.stringify({ blockNumber: number, txNumber, validationCode: tx.validationCode }),
        );
      }
      if (tx.validationCode !== 'VALID') continue;
      validTransactions++;
      for (const w of tx.writeSet) {
        const version = { blockNum: number, txNum: txNumber };
        const bytes = Buffer.from(w.value, 'base64');
        if (w.isDelete) expectedState.delete(w.key);
        else expectedState.set(w.key, `${number}:${txNumber}:${sha256Hex(bytes)}`);
        const record: HistoryRecord = {
          txId: tx.txId,
          seconds: tx.timestamp.seconds,
          nanos: tx.timestamp.nanos,
          isDelete: w.isDelete,
          value: w.value,
        };
        expectedHistory.set(historyKey(w.key, version), JSON.stringify(record));
      }
    }
    previousHash = block.hash;
    number++;
  }
  if (number !== height) corrupt(`the recorded height is ${height} but there are ${number} blocks`, number);

  let keys = 0;
  for await (const [k, v] of db.iterator({ gte: PREFIX.state, lt: nextPrefix(PREFIX.state), snapshot })) {
    const key = k.slice(PREFIX.state.length);
    const { value, version } = decodeState(v);
    if (expectedState.get(key) !== `${version.blockNum}:${version.txNum}:${sha256Hex(value)}`) {
      corrupt(`state of key ${JSON.stringify(key)} does not match the blocks`, version.blockNum);
    }
    keys++;
  }
  if (keys !== expectedState.size)
    corrupt(`${expectedState.size - keys} key(s) written by blocks are missing from state`);

  await compareIndex(db, snapshot, PREFIX.history, expectedHistory, 'history');
  await compareIndex(db, snapshot, PREFIX.txid, expectedTxids, 'tx-id index');

  return {
    height,
    transactions,
    validTransactions,
    keys,
    historyEntries: expectedHistory.size,
    tipHash: previousHash,
  };
}

async function compareIndex(
  db: Db,
  snapshot: Snapshot,
  prefix: string,
  expected: Map<string, string>,
  what: string,
): Promise<void> {
  let seen = 0;
  for await (const [k, v] of db.iterator({ gte: prefix, lt: nextPrefix(prefix), snapshot })) {
    if (expected.get(k) !== v.toString('utf8'))
      corrupt(`${what} entry ${JSON.stringify(k)} does not match the blocks`);
    seen++;
  }
  if (seen !== expected.size) corrupt(`${expected.size - seen} ${what} entr(ies) are missing`);
}

function corrupt(message: string, blockNumber?: number): never {
  throw new EngineError('E_CHAIN_CORRUPT', message, blockNumber === undefined ? {} : { blockNumber });
}
