/**
 * What simulating one transaction produces, recorded the way Fabric's transaction simulator
 * (core/ledger/kvledger/txmgmt/txmgr/tx_simulator.go and rwsetutil) records it: the version of every
 * key read, the range queries with the keys and versions they returned, the last value written per
 * key (an empty value is a delete, as `newKVWrite` makes it), and the one chaincode event.
 */
import { canonicalJson, sha256Hex } from './canonical.js';
import { sortByKey, type Version } from './state.js';

export interface KVRead {
  key: string;
  version: Version | null;
}

/** Fabric's `kvrwset.RangeQueryInfo`, kept raw (no Merkle summary). */
export interface RangeQueryInfo {
  startKey: string;
  /** The last key returned when the scan stopped early; the query's end key when it ran to the end. */
  endKey: string;
  itrExhausted: boolean;
  reads: KVRead[];
}

export interface KVWrite {
  key: string;
  isDelete: boolean;
  value: Buffer;
}

export interface ChaincodeEvent {
  name: string;
  payload: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class TxSimulation {
  private readonly reads = new Map<string, Version | null>();
  private readonly rangeQueries: RangeQueryInfo[] = [];
  private readonly writes = new Map<string, Buffer>();
  private sortedWrites: KVWrite[] | undefined;
  private writePerformed = false;
  private paginatedQueryPerformed = false;
  /** `setEvent` keeps only the last event of a transaction, as on Fabric. */
  event: ChaincodeEvent | undefined;

  constructor(readonly txId: string) {}

  recordRead(key: string, version: Version | null): void {
    this.reads.set(key, version);
  }

  /** Register a range query; the caller keeps updating `info` as the scan advances. */
  recordRangeQuery(info: RangeQueryInfo): void {
    this.rangeQueries.push(info);
  }

  /** `SetState`; `DeleteState` is `SetState(key, nil)`. Later writes to a key replace earlier ones. */
  setState(key: string, value: Uint8Array | undefined): void {
    if (this.paginatedQueryPerformed) {
      throw new Error(
        `txid [${this.txId}]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed`,
      );
    }
    this.writePerformed = true;
    this.writes.set(key, value && value.length > 0 ? Buffer.from(value) : EMPTY);
    this.sortedWrites = undefined;
  }

  checkBeforePaginatedQuery(): void {
    if (this.writePerformed) {
      throw new Error(
        `txid [${this.txId}]: unsuppored transaction. Paginated queries are supported only in a read-only transaction`,
      );
    }
    this.paginatedQueryPerformed = true;
  }

  get readSet(): { reads: KVRead[]; rangeQueries: RangeQueryInfo[] } {
    const reads = sortByKey([...this.reads].map(([key, version]) => ({ key, version })));
    // A scan never advanced constrains nothing (Fabric records no range for it either).
    const rangeQueries = this.rangeQueries.filter((q) => q.itrExhausted || q.reads.length > 0);
    return { reads, rangeQueries };
  }

  /** Sorted by key, as Fabric's rwset builder sorts it. */
  get writeSet(): readonly KVWrite[] {
    // Built once and kept until the next write: the committer reads it per write of a block.
    this.sortedWrites ??= sortByKey(
      [...this.writes].map(([key, value]) => ({ key, isDelete: value.length === 0, value })),
    );
    return this.sortedWrites;
  }

  readSetHash(): string {
    const { reads, rangeQueries } = this.readSet;
    return sha256Hex(canonicalJson({ reads, rangeQueries }));
  }
}
