/**
 * Where an embedded gateway's disk goes (`torgo ledger stats`, the `storage` benchmark): the ledger's
 * LevelDB by store (engine/state.ts layout; state split by the contract's key prefixes) and the
 * transparency log's LevelDB, per receipt, next to the average `.mu` size of the receipts held.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { INDEX_PREFIX } from '../../../chaincode/indexes.js';
import { RECEIPT_PREFIX } from '../../../chaincode/receipts.js';
import { nextPrefix, openDb, PREFIX, StateView } from '../../../engine/state.js';
import { measureStore, type StoreClass, type StoreSize } from '../../../engine/stats.js';
import { checkStorageFormat } from '../../../engine/storage.js';
import { LOG_STORE_CLASSES } from '../../logbuilder/store.js';

export const LEDGER_STORE_CLASSES: readonly StoreClass[] = [
  { name: 'state: receipt records', prefix: `${PREFIX.state}${RECEIPT_PREFIX}` },
  { name: 'state: indexes', prefix: `${PREFIX.state}${INDEX_PREFIX}` },
  { name: 'state: keys, checkpoints', prefix: PREFIX.state },
  { name: 'values (written once)', prefix: PREFIX.value },
  { name: 'history', prefix: PREFIX.history },
  { name: 'history positions', prefix: PREFIX.position },
  { name: 'blocks', prefix: PREFIX.block },
  { name: 'tx-id index', prefix: PREFIX.txid },
  { name: 'meta', prefix: PREFIX.meta },
];

export interface StorageReport {
  readonly receipts: number;
  /** Average bytes of the receipts' `.mu` files. */
  readonly muBytes: number;
  readonly ledger: StoreSize;
  /** Absent when the gateway never built a log in this data directory. */
  readonly log?: StoreSize;
}

/** Measure `<dataDir>/ledger` and `<dataDir>/log/tree` (the gateway stopped); `compact` rewrites both. */
export async function storageReport(
  dataDir: string,
  options: { compact?: boolean } = {},
): Promise<StorageReport> {
  const ledgerDir = path.join(dataDir, 'ledger');
  const ledger = await measureStore(ledgerDir, LEDGER_STORE_CLASSES, options);
  const { receipts, muBytes } = await receiptSizes(ledgerDir);
  const logDir = path.join(dataDir, 'log', 'tree');
  const hasLog = await access(logDir).then(
    () => true,
    () => false,
  );
  const log = hasLog ? await measureStore(logDir, LOG_STORE_CLASSES, options) : undefined;
  return { receipts, muBytes: receipts === 0 ? 0 : muBytes / receipts, ledger, ...(log ? { log } : {}) };
}

async function receiptSizes(location: string): Promise<{ receipts: number; muBytes: number }> {
  const db = await openDb(location);
  try {
    await checkStorageFormat(db, location, false);
    let receipts = 0;
    let muBytes = 0;
    for await (const { value } of new StateView(db).range({
      gte: RECEIPT_PREFIX,
      lt: nextPrefix(RECEIPT_PREFIX),
    })) {
      receipts++;
      muBytes += Buffer.byteLength((JSON.parse(value.toString('utf8')) as { mu: string }).mu, 'utf8');
    }
    return { receipts, muBytes };
  } finally {
    await db.close();
  }
}
