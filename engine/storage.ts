/**
 * What one committed block writes to LevelDB (storage format 2, layout in state.ts), and how a
 * stored block is read back.
 *
 * Each value a transaction writes is stored once. A large value (≥ LARGE_VALUE bytes: receipt
 * records) goes under `v/<block><tx><write>`; the stored block carries `null` in its place, and the
 * state and history entries name the write. `getBlock` puts the values back, so a block read from
 * the ledger is exactly the block that was hashed and sealed: `dataHash` still covers every value,
 * which is what keeps the `v/` entries honest (verify.ts recomputes it from them).
 */
import type { Block, BlockTransaction, BlockWrite } from './blockstore.js';
import { canonicalJson } from './canonical.js';
import { EngineError } from './errors.js';
import {
  blockKey,
  type Db,
  encodeHistory,
  encodePosition,
  encodeState,
  encodeStateRef,
  encodeTxLocation,
  FORMAT_KEY,
  HEIGHT_KEY,
  historyKey,
  LARGE_VALUE,
  positionKey,
  STORAGE_FORMAT,
  stateKey,
  txidKey,
  type Version,
  valueKey,
} from './state.js';
import type { StateUpdate } from './validator.js';

export type BatchOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

/**
 * `db.batch(ops, options)`, the same operations in the same order as one WriteBatch and one write, but
 * through classic-level's chained batch: one native `put` or `del` call per operation. The array form
 * has abstract-level clone every operation and then reads its `type`, `key` and `value` one N-API
 * property lookup at a time: about twice the committer thread's CPU per operation, ~16 of them per
 * receipt (docs/performance.md §4, eleventh pass). test/engine/storage.test.ts holds it to `db.batch`.
 */
export async function writeOps(db: Db, ops: readonly BatchOp[], options: { sync: boolean }): Promise<void> {
  const batch = db.batch();
  try {
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value);
      else batch.del(op.key);
    }
  } catch (e) {
    await batch.close();
    throw e;
  }
  await batch.write(options);
}

/** A write's value length in bytes, from its base64 text (no decoding). */
function base64Bytes(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/** Whether a block write's value is stored under `v/` rather than inline. */
export function isLargeWrite(w: BlockWrite): boolean {
  return !w.isDelete && base64Bytes(w.value) >= LARGE_VALUE;
}

/** The block as stored: large write values `null` (they are under `v/`). The committer has it from `sealBlock`. */
export function encodeStoredBlock(block: Block): Buffer {
  const transactions = block.transactions.map((tx) =>
    tx.writeSet.some(isLargeWrite)
      ? { ...tx, writeSet: tx.writeSet.map((w) => (isLargeWrite(w) ? { ...w, value: null } : w)) }
      : tx,
  );
  return Buffer.from(canonicalJson({ ...block, transactions }), 'utf8');
}

/** The header fields of a stored block, without fetching its values (the tip at open). */
export function storedBlockHash(bytes: Buffer): string {
  return (JSON.parse(bytes.toString('utf8')) as Block).hash;
}

/** A stored block with its large values put back from `v/` (read through `get`). */
export function decodeStoredBlock(bytes: Buffer, get: (key: string) => Buffer | undefined): Block {
  const block = JSON.parse(bytes.toString('utf8')) as Block;
  for (const [txNum, tx] of block.transactions.entries()) {
    for (const [write, w] of tx.writeSet.entries()) {
      if ((w.value as string | null) !== null) continue;
      const key = valueKey({ blockNum: block.number, txNum }, write);
      const value = get(key);
      if (value === undefined) {
        throw new EngineError('E_CHAIN_CORRUPT', `block ${block.number}: value ${key} is missing`, {
          blockNumber: block.number,
        });
      }
      w.value = value.toString('base64');
    }
  }
  return block;
}

/** The raw bytes of write `write` of transaction `txNum`; the committer has them, a replay decodes base64. */
export type RawValues = (txNum: number, write: number) => Buffer;

/**
 * Every LevelDB operation that commits `block`: large values, history and positions of its valid
 * transactions, the tx-id index, the state updates (`updates`: the last valid write per key, as
 * BlockValidator collects it), the stored block (`stored`: `encodeStoredBlock(block)`, which the committer
 * already has from `sealBlock`) and the new height. One batch, written with sync.
 */
export function blockOps(
  block: Block,
  rawValue: RawValues,
  updates: ReadonlyMap<string, StateUpdate>,
  stored: Buffer = encodeStoredBlock(block),
): BatchOp[] {
  const ops: BatchOp[] = [];
  const put = (key: string, value: Buffer) => ops.push({ type: 'put', key, value });
  /** Per transaction: key → index of its write, for state entries that refer to `v/`. */
  const writeIndex: Array<Map<string, number>> = [];
  for (const [txNum, tx] of block.transactions.entries()) {
    const version = { blockNum: block.number, txNum };
    const large = tx.writeSet.map(isLargeWrite);
    for (const [write, isLarge] of large.entries()) {
      if (isLarge) put(valueKey(version, write), rawValue(txNum, write));
    }
    if (tx.validationCode !== 'DUPLICATE_TXID') {
      put(txidKey(tx.txId), encodeTxLocation(block.number, txNum, tx.validationCode));
    }
    if (tx.validationCode !== 'VALID') continue;
    writeIndex[txNum] = new Map(tx.writeSet.map((w, i) => [w.key, i]));
    if (tx.writeSet.length > 0)
      put(positionKey(version), encodePosition(tx.txId, tx.timestamp.seconds, tx.timestamp.nanos));
    for (const [write, w] of tx.writeSet.entries()) {
      const entry = large[write]
        ? encodeHistory(false, Buffer.alloc(0), write)
        : encodeHistory(w.isDelete, w.isDelete ? Buffer.alloc(0) : rawValue(txNum, write), undefined);
      put(historyKey(w.key, version), entry);
    }
  }
  for (const [key, u] of updates) {
    if (u.value.length === 0) {
      ops.push({ type: 'del', key: stateKey(key) });
      continue;
    }
    put(stateKey(key), stateEntry(key, u, writeIndex));
  }
  put(blockKey(block.number), stored);
  put(HEIGHT_KEY, Buffer.from(String(block.number + 1)));
  return ops;
}

function stateEntry(key: string, u: StateUpdate, writeIndex: Array<Map<string, number>>): Buffer {
  if (u.value.length < LARGE_VALUE) return encodeState(u.value, u.version);
  const write = writeIndex[u.version.txNum]?.get(key);
  if (write === undefined) throw new Error(`state update of ${key} is not a write of its transaction`);
  return encodeStateRef(u.version, write);
}

/** The state updates of a block's valid transactions, last write per key: what BlockValidator collects. */
export function replayUpdates(block: Block): Map<string, StateUpdate> {
  const updates = new Map<string, StateUpdate>();
  for (const [txNum, tx] of block.transactions.entries()) {
    if (tx.validationCode !== 'VALID') continue;
    const version: Version = { blockNum: block.number, txNum };
    for (const w of tx.writeSet) {
      updates.set(w.key, { value: w.isDelete ? Buffer.alloc(0) : Buffer.from(w.value, 'base64'), version });
    }
  }
  return updates;
}

/** Base64-decoding raw values of a block read back (verify, migration). */
export function base64Values(transactions: readonly BlockTransaction[]): RawValues {
  return (txNum, write) => Buffer.from(transactions[txNum]?.writeSet[write]?.value ?? '', 'base64');
}

/**
 * Checks the storage format of an opened ledger database. An empty database is stamped with this
 * engine's format (when `stamp`); a ledger written by an engine before format 2 (no `m/format`)
 * or by a newer one is refused with E_LEDGER_FORMAT, which says what to do.
 */
export async function checkStorageFormat(db: Db, location: string, stamp: boolean): Promise<void> {
  const raw = await db.get(FORMAT_KEY);
  const format = raw === undefined ? undefined : Number(raw.toString('utf8'));
  if (format === STORAGE_FORMAT) return;
  if (raw === undefined && (await isEmpty(db))) {
    if (stamp) await db.put(FORMAT_KEY, Buffer.from(String(STORAGE_FORMAT)), { sync: true });
    return;
  }
  const found = format === undefined ? 1 : format;
  throw new EngineError(
    'E_LEDGER_FORMAT',
    `ledger ${location} is in storage format ${found}; this version reads format ${STORAGE_FORMAT}. ` +
      (found < STORAGE_FORMAT
        ? 'Convert it once, with the gateway stopped: `torgo ledger migrate --data <data dir>` (docs/operations.md, "Storage format").'
        : 'It was written by a newer TORGO: run that version.'),
    { found, expected: STORAGE_FORMAT },
  );
}

async function isEmpty(db: Db): Promise<boolean> {
  for await (const _ of db.keys({ limit: 1 })) return false;
  return true;
}
