/**
 * The chaincode stub of the embedded engine: fabric-shim-api's `ChaincodeStub`, behaving as fabric-shim
 * 2.5.8's stub (lib/stub.js) does in front of a Fabric 2.5 peer with a LevelDB state database.
 *
 * Client-side checks and shapes are the shim's: `getStateByRange` rejects keys in the composite-key
 * namespace, an empty start key becomes U+0001, missing keys read as an empty buffer, range results are
 * `{key, value}`, history timestamps `{seconds, nanos}` with plain numbers, iterator results
 * `{done: true}` at the end — even where fabric-shim-api's types say otherwise, a contract sees what it
 * sees on Fabric. Peer-side behaviour is the peer's: reads come from committed state only (a transaction
 * does not see its own writes), each read records its version, range scans record what they returned
 * for phantom checks, paginated queries only in read-only transactions, `totalQueryLimit`, bookmarks as
 * the first key of the next page, history newest first, rich queries refused as LevelDB refuses them.
 */
import type {
  ChaincodeProposal,
  Iterators,
  SerializedIdentity,
  SplitCompositekey,
  StateQueryResponse,
  Timestamp,
} from 'fabric-shim-api';
import type { Creator } from './identity.js';
import type { DispatchStub } from './shim.js';
import { LongCtor } from './shim.js';
import type { RangeQueryInfo, TxSimulation } from './simulation.js';
import type { KeyRange, StateView, VersionedKV } from './state.js';

const MIN_UNICODE_RUNE_VALUE = '\u0000';
const MAX_UNICODE_RUNE_VALUE = '\u{10ffff}';
const COMPOSITEKEY_NS = '\x00';
const EMPTY_KEY_SUBSTITUTE = '\x01';

/** Everything a proposal carries that the stub exposes. */
export interface TxContext {
  txId: string;
  channelId: string;
  chaincodeName: string;
  creator: Creator;
  /** The MSP of the (embedded) peer, what `getMspID()` returns. */
  peerMspId: string;
  /** `[fcn, ...params]`, as the chaincode input's args. */
  args: readonly string[];
  /** `args` encoded as UTF-8: what `getBufferArgs()` returns. */
  bufferArgs: readonly Buffer[];
  transient: ReadonlyMap<string, Uint8Array>;
  timestamp: { seconds: number; nanos: number };
  /** Hex SHA-256 of nonce ‖ creator ‖ epoch, Fabric's proposal binding. */
  binding: string;
  /** The peer's `ledger.state.totalQueryLimit`. */
  totalQueryLimit: number;
}

type StateQuery = Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV>;
type PagedStateQuery = Promise<StateQueryResponse<Iterators.StateQueryIterator>> &
  AsyncIterable<Iterators.KV>;
type HistoryQuery = Promise<Iterators.HistoryQueryIterator> & AsyncIterable<Iterators.KeyModification>;

export class EmbeddedStub implements DispatchStub {
  private readonly scans = new Set<Scan>();
  private readonly bufferArgs: Buffer[];

  constructor(
    private readonly tx: TxContext,
    private readonly state: StateView,
    private readonly sim: TxSimulation,
  ) {
    this.bufferArgs = [...tx.bufferArgs];
  }

  /** The peer closes every iterator a transaction left open when the transaction ends. */
  async closeIterators(): Promise<void> {
    await Promise.all([...this.scans].map((s) => s.close()));
  }

  getArgs(): string[] {
    return [...this.tx.args];
  }

  getStringArgs(): string[] {
    return [...this.tx.args];
  }

  getBufferArgs(): Buffer[] {
    return this.bufferArgs;
  }

  getFunctionAndParameters(): { params: string[]; fcn: string } {
    const [fcn = '', ...params] = this.tx.args;
    return { fcn, params };
  }

  getTxID(): string {
    return this.tx.txId;
  }

  getChannelID(): string {
    return this.tx.channelId;
  }

  getCreator(): SerializedIdentity {
    return { mspid: this.tx.creator.mspId, idBytes: this.tx.creator.idBytes };
  }

  getMspID(): string {
    return this.tx.peerMspId;
  }

  getTransient(): Map<string, Uint8Array> {
    return new Map([...this.tx.transient].map(([k, v]) => [k, Buffer.from(v)]));
  }

  getSignedProposal(): ChaincodeProposal.SignedProposal {
    throw new Error('getSignedProposal is not available in the embedded engine: there is no signed proposal');
  }

  getTxTimestamp(): Timestamp {
    return { nanos: this.tx.timestamp.nanos, seconds: LongCtor.fromNumber(this.tx.timestamp.seconds, true) };
  }

  getDateTimestamp(): Date {
    // google.protobuf.Timestamp#toDate, which the shim calls.
    return new Date(this.tx.timestamp.seconds * 1000 + this.tx.timestamp.nanos / 1000000);
  }

  getBinding(): string {
    return this.tx.binding;
  }

  async getState(key: string): Promise<Uint8Array> {
    const found = await this.state.get(key);
    this.sim.recordRead(key, found?.version ?? null);
    return found ? found.value : Buffer.alloc(0);
  }

  async putState(key: string, value: Uint8Array): Promise<void> {
    const bytes: unknown = value;
    this.sim.setState(key, typeof bytes === 'string' ? Buffer.from(bytes) : value);
  }

  async deleteState(key: string): Promise<void> {
    this.sim.setState(key, undefined);
  }

  async setStateValidationParameter(_key: string, _ep: Uint8Array): Promise<void> {
    throw new Error('key-level endorsement policies are not supported by the embedded engine');
  }

  async getStateValidationParameter(_key: string): Promise<Uint8Array> {
    throw new Error('key-level endorsement policies are not supported by the embedded engine');
  }

  getStateByRange(startKey: string, endKey: string): StateQuery {
    const start = startKey || EMPTY_KEY_SUBSTITUTE;
    try {
      validateSimpleKeys(start, endKey);
    } catch (err) {
      return asyncIterable(Promise.reject(err));
    }
    return asyncIterable(Promise.resolve(this.openScan(start, endKey, this.tx.totalQueryLimit)));
  }

  getStateByRangeWithPagination(
    startKey: string,
    endKey: string,
    pageSize: number,
    bookmark?: string,
  ): PagedStateQuery {
    const start = startKey || EMPTY_KEY_SUBSTITUTE;
    try {
      validateSimpleKeys(start, endKey);
    } catch (err) {
      return asyncIterable(Promise.reject(err));
    }
    return asyncIterable(this.page(start, endKey, pageSize, bookmark || ''));
  }

  getStateByPartialCompositeKey(objectType: string, attributes: string[]): StateQuery {
    const partial = this.createCompositeKey(objectType, attributes);
    return asyncIterable(
      Promise.resolve(this.openScan(partial, partial + MAX_UNICODE_RUNE_VALUE, this.tx.totalQueryLimit)),
    );
  }

  getStateByPartialCompositeKeyWithPagination(
    objectType: string,
    attributes: string[],
    pageSize: number,
    bookmark?: string,
  ): PagedStateQuery {
    const partial = this.createCompositeKey(objectType, attributes);
    return asyncIterable(this.page(partial, partial + MAX_UNICODE_RUNE_VALUE, pageSize, bookmark || ''));
  }

  getQueryResult(_query: string): StateQuery {
    return asyncIterable(Promise.reject(new Error('ExecuteQuery not supported for leveldb')));
  }

  getQueryResultWithPagination(_query: string, pageSize: number, bookmark?: string): PagedStateQuery {
    const paginated = pageSize !== 0 || (bookmark ?? '') !== '';
    const op = paginated ? 'ExecuteQueryWithMetadata' : 'ExecuteQuery';
    return asyncIterable(Promise.reject(new Error(`${op} not supported for leveldb`)));
  }

  getHistoryForKey(key: string): HistoryQuery {
    return asyncIterable(this.history(key));
  }

  async invokeChaincode(chaincodeName: string, _args: string[], _channel: string): Promise<never> {
    throw new Error(`cannot invoke chaincode ${chaincodeName}: the embedded engine runs one chaincode`);
  }

  setEvent(name: string, payload: Uint8Array): void {
    if (typeof name !== 'string' || name === '') {
      throw new Error('Event name must be a non-empty string');
    }
    // The shim hands the payload to a protobuf bytes field, which reads a string as base64.
    const raw: unknown = payload;
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'base64') : Buffer.from(payload ?? []);
    this.sim.event = { name, payload: bytes };
  }

  createCompositeKey(objectType: string, attributes: string[]): string {
    validateCompositeKeyAttribute(objectType);
    if (!Array.isArray(attributes)) {
      throw new Error('attributes must be an array');
    }
    let compositeKey = COMPOSITEKEY_NS + objectType + MIN_UNICODE_RUNE_VALUE;
    for (const attribute of attributes) {
      validateCompositeKeyAttribute(attribute);
      compositeKey = compositeKey + attribute + MIN_UNICODE_RUNE_VALUE;
    }
    return compositeKey;
  }

  splitCompositeKey(compositeKey: string): SplitCompositekey {
    // The shim returns objectType null for a simple key, whatever the types say.
    const result = { objectType: null as unknown as string, attributes: [] as string[] };
    if (compositeKey && compositeKey.length > 1 && compositeKey.charAt(0) === COMPOSITEKEY_NS) {
      const splitKey = compositeKey.substring(1).split(MIN_UNICODE_RUNE_VALUE);
      result.objectType = splitKey[0] ?? '';
      splitKey.pop();
      if (splitKey.length > 1) {
        splitKey.shift();
        result.attributes = splitKey;
      }
    }
    return result;
  }

  getPrivateData(collection: string, _key: string): Promise<Uint8Array> {
    return this.noCollection(collection);
  }

  getPrivateDataHash(collection: string, _key: string): Promise<Uint8Array> {
    return this.noCollection(collection);
  }

  putPrivateData(collection: string, _key: string, _value: Uint8Array): Promise<void> {
    return this.noCollection(collection);
  }

  deletePrivateData(collection: string, _key: string): Promise<void> {
    return this.noCollection(collection);
  }

  purgePrivateData(collection: string, _key: string): Promise<void> {
    return this.noCollection(collection);
  }

  setPrivateDataValidationParameter(collection: string, _key: string, _ep: Uint8Array): Promise<void> {
    return this.noCollection(collection);
  }

  getPrivateDataValidationParameter(collection: string, _key: string): Promise<Uint8Array> {
    return this.noCollection(collection);
  }

  getPrivateDataByRange(collection: string, _startKey: string, _endKey: string): StateQuery {
    return asyncIterable(this.noCollection(collection));
  }

  getPrivateDataByPartialCompositeKey(
    collection: string,
    _objectType: string,
    _attributes: string[],
  ): StateQuery {
    return asyncIterable(this.noCollection(collection));
  }

  getPrivateDataQueryResult(collection: string, _query: string): StateQuery {
    return asyncIterable(this.noCollection(collection));
  }

  /** The embedded engine defines no private data collections; a peer answers this for an undefined one. */
  private noCollection(collection: string): Promise<never> {
    return Promise.reject(
      new Error(
        `collection [${collection}] not defined in the collection config for chaincode [${this.tx.chaincodeName}]` +
          ' (the embedded engine has no private data collections)',
      ),
    );
  }

  private openScan(startKey: string, endKey: string, limit: number): Scan {
    const info: RangeQueryInfo = { startKey, endKey: '', itrExhausted: false, reads: [] };
    this.sim.recordRangeQuery(info);
    const range: KeyRange = endKey ? { gte: startKey, lt: endKey } : { gte: startKey };
    const scan = new Scan(this.state.range(range), info, endKey, limit, (s) => this.scans.delete(s));
    this.scans.add(scan);
    return scan;
  }

  /**
   * The peer's paginated range query: with neither a page size nor a bookmark it is a plain scan without
   * metadata; otherwise it reads one page (the page size, capped by totalQueryLimit) from the bookmark
   * — or the start key — and the bookmark it returns is the key that starts the next page, or ''.
   */
  private async page(
    startKey: string,
    endKey: string,
    pageSize: number,
    bookmark: string,
  ): Promise<StateQueryResponse<Iterators.StateQueryIterator>> {
    if (pageSize === 0 && bookmark === '') {
      // No metadata at all in this case, whatever the type says.
      const iterator = this.openScan(startKey, endKey, this.tx.totalQueryLimit);
      return { iterator } as unknown as StateQueryResponse<Iterators.StateQueryIterator>;
    }
    this.sim.checkBeforePaginatedQuery();
    const limit = pageSize > 0 && pageSize < this.tx.totalQueryLimit ? pageSize : this.tx.totalQueryLimit;
    const from = bookmark || startKey;
    // The page and the key after it, read at once; recorded as a scan pulled `limit` times records
    // itself (`Scan.pull`): the range extends to each key returned, and is exhausted only if the
    // scan ran off its end before the page was full.
    const info: RangeQueryInfo = { startKey: from, endKey: '', itrExhausted: false, reads: [] };
    this.sim.recordRangeQuery(info);
    const range: KeyRange = endKey ? { gte: from, lt: endKey } : { gte: from };
    const entries = await this.state.rangeEntries(range, limit + 1);
    const page: Iterators.KV[] = [];
    for (const entry of entries.slice(0, limit)) {
      info.reads.push({ key: entry.key, version: entry.version });
      info.endKey = entry.key;
      // The shim builds `{key, value}`: there is no namespace at run time.
      page.push({ key: entry.key, value: entry.value } as unknown as Iterators.KV);
    }
    if (entries.length < limit) {
      info.itrExhausted = true;
      info.endKey = endKey;
    }
    return {
      iterator: new ArrayIterator(page),
      metadata: { fetchedRecordsCount: page.length, bookmark: entries[limit]?.key ?? '' },
    };
  }

  private async history(key: string): Promise<Iterators.HistoryQueryIterator> {
    const records = await this.state.history(key);
    return new ArrayIterator(
      records.slice(0, this.tx.totalQueryLimit).map(
        (r) =>
          ({
            txId: r.txId,
            value: Buffer.from(r.value, 'base64'),
            isDelete: r.isDelete,
            // What the shim's `Timestamp.toObject()` gives: plain numbers, not Long.
            timestamp: { seconds: r.seconds, nanos: r.nanos },
          }) as unknown as Iterators.KeyModification,
      ),
    );
  }
}

/**
 * A range scan pulled lazily from LevelDB, recording its reads as Fabric's `resultsItr` does: each key
 * returned extends the recorded range up to that key; running off the end marks it exhausted.
 */
class Scan implements Iterators.StateQueryIterator {
  private closed = false;
  private count = 0;

  constructor(
    private readonly source: AsyncGenerator<VersionedKV>,
    private readonly info: RangeQueryInfo,
    private readonly queryEndKey: string,
    private readonly limit: number,
    private readonly onClose: (scan: Scan) => void,
  ) {}

  async pull(): Promise<Iterators.KV | undefined> {
    if (this.closed || this.count >= this.limit) return undefined;
    const r = await this.source.next();
    if (r.done) {
      this.info.itrExhausted = true;
      this.info.endKey = this.queryEndKey;
      return undefined;
    }
    this.count++;
    this.info.reads.push({ key: r.value.key, version: r.value.version });
    this.info.endKey = r.value.key;
    // The shim builds `{key, value}`: there is no namespace at run time.
    return { key: r.value.key, value: r.value.value } as unknown as Iterators.KV;
  }

  async next(): Promise<Iterators.NextResult<Iterators.KV>> {
    const kv = await this.pull();
    return kv ? { value: kv, done: false } : done();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    await this.source.return(undefined);
  }
}

class ArrayIterator<T> implements Iterators.CommonIterator<T> {
  private i = 0;
  constructor(private readonly items: readonly T[]) {}

  async next(): Promise<Iterators.NextResult<T>> {
    const item = this.items[this.i];
    if (this.i >= this.items.length || item === undefined) return done();
    this.i++;
    return { value: item, done: false };
  }

  async close(): Promise<void> {}
}

function done<T>(): Iterators.NextResult<T> {
  return { done: true } as Iterators.NextResult<T>;
}

/**
 * The shim's `convertToAsyncIterator`: the promise of an iterator (or of `{iterator, metadata}`) is also
 * async-iterable, closing the iterator when the loop ends or breaks.
 */
function asyncIterable<R, T>(promise: Promise<R>): Promise<R> & AsyncIterable<T> {
  const iterable = promise as Promise<R> & AsyncIterable<T>;
  // One function for every query, reading its promise from `this` (a closure per query was one more
  // object and context to collect with each page; docs/performance.md §11, "Queries, ninth pass").
  iterable[Symbol.asyncIterator] = iterateResponse as () => AsyncIterator<T>;
  return iterable;
}

/** The async iterator of a query's promise (`this`), as `asyncIterable` attaches it. */
function iterateResponse<T>(this: Promise<unknown>): AsyncIterator<T> {
  let iterator: Iterators.CommonIterator<T> | undefined;
  return {
    next: async () => {
      if (!iterator) {
        const response = (await this) as {
          iterator?: Iterators.CommonIterator<T>;
        } & Iterators.CommonIterator<T>;
        iterator = response.iterator ? response.iterator : response;
      }
      const nextVal = await iterator.next();
      if (nextVal.done) await iterator.close();
      return nextVal;
    },
    return: async () => {
      await iterator?.close();
      return { done: true, value: undefined };
    },
  };
}

function validateCompositeKeyAttribute(attr: unknown): void {
  if (!attr || typeof attr !== 'string' || attr.length === 0) {
    throw new Error('object type or attribute not a non-zero length string');
  }
}

/** Simple keys must not start in the composite-key namespace (U+0000): the shim rejects such range bounds. */
function validateSimpleKeys(...keys: string[]): void {
  for (const key of keys) {
    if (key && typeof key === 'string' && key.charAt(0) === COMPOSITEKEY_NS) {
      throw new Error(`first character of the key [${key}] contains a null character which is not allowed`);
    }
  }
}
