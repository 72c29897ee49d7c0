/**
 * Commit-time validation of the transactions of one block, in block order, as a Fabric peer's
 * validator does it (core/ledger/kvledger/txmgmt/validation): a transaction is VALID only if every
 * version it read is still the committed version and no earlier valid transaction of the same block
 * wrote that key (MVCC_READ_CONFLICT), and every range it scanned still returns the same keys at the
 * same versions (PHANTOM_READ_CONFLICT). A tx id already on the ledger is a DUPLICATE_TXID.
 */
import type { ValidationCode } from './blockstore.js';
import type { KVWrite, RangeQueryInfo, TxSimulation } from './simulation.js';
import { compareKeys, type Db, sameVersion, StateView, txidKey, type Version } from './state.js';

export interface StateUpdate {
  /** Empty for a delete. */
  value: Buffer;
  version: Version;
}

export class BlockValidator {
  /** Writes of the block's valid transactions so far, last write per key. */
  readonly updates = new Map<string, StateUpdate>();
  private readonly txIds = new Set<string>();
  private readonly committed: StateView;
  /**
   * Committed versions already looked up for this block. Committed state cannot change while a block
   * is validated (the committer writes it only after), so a key every transaction read — the signer's
   * key record, at one receipt per transaction — costs one LevelDB get per block, not one per read.
   */
  private readonly committedVersions = new Map<string, Version | undefined>();

  constructor(
    private readonly db: Db,
    readonly blockNum: number,
  ) {
    this.committed = new StateView(db);
  }

  async validate(txId: string, sim: TxSimulation): Promise<ValidationCode> {
    if (this.txIds.has(txId) || this.db.getSync(txidKey(txId)) !== undefined) return 'DUPLICATE_TXID';
    this.txIds.add(txId);
    const { reads, rangeQueries } = sim.readSet;
    const unchanged = reads.filter((r) => !this.updates.has(r.key));
    if (unchanged.length < reads.length) return 'MVCC_READ_CONFLICT';
    for (const read of unchanged) {
      if (!sameVersion(read.version, this.committedVersion(read.key))) return 'MVCC_READ_CONFLICT';
    }
    for (const query of rangeQueries) {
      if (!(await this.sameRange(query))) return 'PHANTOM_READ_CONFLICT';
    }
    return 'VALID';
  }

  private committedVersion(key: string): Version | undefined {
    if (this.committedVersions.has(key)) return this.committedVersions.get(key);
    const version = this.committed.version(key);
    this.committedVersions.set(key, version);
    return version;
  }

  /** Record a valid transaction's writes at version (this block, `txNum`). */
  apply(writes: readonly KVWrite[], txNum: number): void {
    for (const w of writes)
      this.updates.set(w.key, { value: w.value, version: { blockNum: this.blockNum, txNum } });
  }

  /**
   * Re-run a recorded scan over committed state plus this block's updates. Up to the recorded end key
   * (inclusive when the scan stopped early, exclusive — or unbounded when empty — when it ran to the end),
   * the keys and versions must be exactly those recorded.
   */
  private async sameRange(q: RangeQueryInfo): Promise<boolean> {
    const inRange = (key: string): boolean =>
      compareKeys(key, q.startKey) >= 0 &&
      (q.itrExhausted ? q.endKey === '' || compareKeys(key, q.endKey) < 0 : compareKeys(key, q.endKey) <= 0);
    const now = new Map<string, Version>();
    const range = q.itrExhausted
      ? q.endKey === ''
        ? { gte: q.startKey }
        : { gte: q.startKey, lt: q.endKey }
      : { gte: q.startKey, lte: q.endKey };
    for await (const kv of this.committed.range(range)) now.set(kv.key, kv.version);
    for (const [key, u] of this.updates) {
      if (!inRange(key)) continue;
      if (u.value.length === 0) now.delete(key);
      else now.set(key, u.version);
    }
    if (now.size !== q.reads.length) return false;
    const keys = [...now.keys()].sort(compareKeys);
    return q.reads.every((r, i) => r.key === keys[i] && sameVersion(r.version, now.get(r.key)));
  }
}
