/**
 * The LevelDB layout of one ledger (storage format 2) and the read side of its world state.
 *
 * One LevelDB database, UTF-8 string keys under fixed prefixes, byte values. Every value a
 * transaction writes is stored once: small ones (< LARGE_VALUE bytes) inline where they are used,
 * large ones (receipt records) under `v/` at their place in the block, and referenced from the
 * block, the state and the history — as a Fabric peer's history database refers to its block files.
 *
 * | key                                              | value                                                  |
 * |--------------------------------------------------|--------------------------------------------------------|
 * | `s/<key>`                                        | version (block u64 BE, tx u32 BE) ‖ 0 ‖ value bytes     |
 * |                                                  | or version ‖ 1 ‖ write index u32 BE (value under `v/`)  |
 * | `v/<block:16 hex><tx:8 hex><write:8 hex>`        | a large value of a block's write set, raw bytes        |
 * | `h/<escaped key>\0\0<block:16 hex><tx:8 hex>`    | flags (1 delete, 2 under `v/`) ‖ write index u32 BE     |
 * |                                                  | when under `v/`, else the value bytes                   |
 * | `p/<block:16 hex><tx:8 hex>`                     | seconds i64 BE ‖ nanos u32 BE ‖ tx id (UTF-8)           |
 * | `b/<block number:16 hex>`                        | the block, canonical JSON, large write values `null`    |
 * | `t/<txId>`                                       | block u64 BE ‖ tx u32 BE ‖ validation code u8           |
 * | `m/height`, `m/format`                           | number of blocks; storage format (`2`), decimal         |
 *
 * `p/` (one per valid transaction) carries what every history entry of the transaction shares.
 * The escaped key of `h/` doubles each NUL (composite keys) as NUL U+0001, so `<escaped key>\0\0`
 * never prefixes another key's entries and history keys keep state keys' order.
 *
 * State keys keep LevelDB's byte order (UTF-8 order = code point order), which is the order a Fabric
 * peer's LevelDB state database returns range scans in. A version is Fabric's height: the block and
 * position in the block of the transaction that last wrote the key.
 */
import { ClassicLevel } from 'classic-level';
import type { ValidationCode } from './blockstore.js';
import { EngineError } from './errors.js';

export type Db = ClassicLevel<string, Buffer>;
export type Snapshot = ReturnType<Db['snapshot']>;

export const PREFIX = {
  state: 's/',
  value: 'v/',
  history: 'h/',
  position: 'p/',
  block: 'b/',
  txid: 't/',
  meta: 'm/',
} as const;
export const HEIGHT_KEY = `${PREFIX.meta}height`;
export const FORMAT_KEY = `${PREFIX.meta}format`;
/** The storage format this engine writes and reads (docs/operations.md, "Storage format"). */
export const STORAGE_FORMAT = 2;
/** Values of at least this many bytes are stored once under `v/` and referenced elsewhere. */
export const LARGE_VALUE = 64;

export interface Version {
  blockNum: number;
  txNum: number;
}

export interface VersionedValue {
  value: Buffer;
  version: Version;
}

export interface VersionedKV extends VersionedValue {
  key: string;
}

/** One entry of a key's history, as read back. */
export interface HistoryRecord {
  txId: string;
  seconds: number;
  nanos: number;
  isDelete: boolean;
  /** Base64 of the value written (empty for a delete). */
  value: string;
}

export interface DbOptions {
  /**
   * LevelDB's block cache (uncompressed blocks kept in memory), bytes; LevelDB's default is 8 MiB.
   * A point read that misses it reads and decompresses a block from disk (docs/performance.md §11).
   */
  readonly cacheBytes?: number;
  /**
   * Table files LevelDB keeps open (each with its index and filter blocks in memory); LevelDB's
   * default is 1000. A point read in a table that is not open opens it and reads those blocks first.
   */
  readonly maxOpenFiles?: number;
  /**
   * LevelDB's write buffer (the memtable, and the size of the level-0 tables it is flushed to), bytes;
   * LevelDB's default is 4 MiB. Larger buffers mean fewer, larger flushes and less compaction per byte
   * written (docs/performance.md §4), at up to twice this much memory (the memtable being filled and
   * the one being flushed).
   */
  readonly writeBufferBytes?: number;
}

/**
 * Writes what LevelDB holds only in its memtable (and its log) to a table, so that the next open has
 * no log to replay: with a large write buffer that replay would add up to a fraction of a second to
 * every start (docs/performance.md §4). LevelDB's `CompactRange` compacts the memtable before the
 * range; the range here holds no key (every key starts with a printable prefix), so nothing else is
 * rewritten. test/engine/ledger.test.ts fails if a closed ledger is left with a log to replay.
 */
export async function flushMemtable(db: Db): Promise<void> {
  await db.compactRange('\u0000', '\u0000');
}

/** The ledger at `location` is open already: LevelDB's lock, or a writer of this thread (ledger.ts). */
export function lockedError(location: string, cause?: unknown): EngineError {
  return new EngineError(
    'E_LOCKED',
    `ledger ${location} is already open (by this or another process)`,
    {},
    cause,
  );
}

/**
 * Open (creating if needed) the LevelDB at `location`; a second opener, in any process, gets E_LOCKED
 * — unless both open it `shared`: the ledger's writer and its readers on other threads of the process
 * (reader.ts) then use one LevelDB instance (classic-level's `multithreading`, its handle counted), and
 * `EmbeddedLedger` refuses a second writer itself. Other processes are kept out either way.
 */
export async function openDb(
  location: string,
  options: DbOptions & { readonly createIfMissing?: boolean; readonly shared?: boolean } = {},
): Promise<Db> {
  const db = new ClassicLevel<string, Buffer>(location, {
    keyEncoding: 'utf8',
    valueEncoding: 'buffer',
    multithreading: options.shared ?? false,
    createIfMissing: options.createIfMissing ?? true,
    ...(options.cacheBytes === undefined ? {} : { cacheSize: options.cacheBytes }),
    ...(options.maxOpenFiles === undefined ? {} : { maxOpenFiles: options.maxOpenFiles }),
    ...(options.writeBufferBytes === undefined ? {} : { writeBufferSize: options.writeBufferBytes }),
  });
  try {
    await db.open();
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') throw lockedError(location, e);
    throw new EngineError('E_STORAGE', `cannot open ledger ${location}: ${String(e)}`, {}, e);
  }
  return db;
}

export const stateKey = (key: string): string => PREFIX.state + key;

const INLINE = 0;
const REFERENCED = 1;

function writeVersion(out: Buffer, version: Version): void {
  out.writeBigUInt64BE(BigInt(version.blockNum), 0);
  out.writeUInt32BE(version.txNum, 8);
}

function readVersion(buf: Buffer): Version {
  return { blockNum: Number(buf.readBigUInt64BE(0)), txNum: buf.readUInt32BE(8) };
}

/** A state entry holding its value. */
export function encodeState(value: Uint8Array, version: Version): Buffer {
  const out = Buffer.allocUnsafe(13 + value.length);
  writeVersion(out, version);
  out[12] = INLINE;
  out.set(value, 13);
  return out;
}

/** A state entry whose value is write `write` of the transaction at `version`, stored under `v/`. */
export function encodeStateRef(version: Version, write: number): Buffer {
  const out = Buffer.allocUnsafe(17);
  writeVersion(out, version);
  out[12] = REFERENCED;
  out.writeUInt32BE(write, 13);
  return out;
}

/** A state entry as stored: its value, or where its value is. */
export type StoredState = { version: Version } & ({ value: Buffer } | { valueKey: string });

export function decodeState(buf: Buffer): StoredState {
  const version = readVersion(buf);
  if (buf[12] === REFERENCED) return { version, valueKey: valueKey(version, buf.readUInt32BE(13)) };
  if (buf[12] !== INLINE) throw new EngineError('E_CHAIN_CORRUPT', 'a state entry has an unknown kind');
  return { version, value: Buffer.from(buf.subarray(13)) };
}

/** Where write `write` of the transaction at `version` keeps a large value. */
export function valueKey(version: Version, write: number): string {
  return `${PREFIX.value}${hex16(version.blockNum)}${hex8(version.txNum)}${hex8(write)}`;
}

const HISTORY_DELETE = 1;
const HISTORY_REFERENCED = 2;

/** A history entry: the write's kind and its value, or where its value is (`v/`). */
export function encodeHistory(isDelete: boolean, value: Uint8Array, write: number | undefined): Buffer {
  const flags = (isDelete ? HISTORY_DELETE : 0) | (write === undefined ? 0 : HISTORY_REFERENCED);
  if (write === undefined) {
    const out = Buffer.allocUnsafe(1 + value.length);
    out[0] = flags;
    out.set(value, 1);
    return out;
  }
  const out = Buffer.allocUnsafe(5);
  out[0] = flags;
  out.writeUInt32BE(write, 1);
  return out;
}

/** What every history entry of one transaction shares: its tx id and timestamp. */
export function encodePosition(txId: string, seconds: number, nanos: number): Buffer {
  const id = Buffer.from(txId, 'utf8');
  const out = Buffer.allocUnsafe(12 + id.length);
  out.writeBigInt64BE(BigInt(seconds), 0);
  out.writeUInt32BE(nanos, 8);
  id.copy(out, 12);
  return out;
}

export function decodePosition(buf: Buffer): { txId: string; seconds: number; nanos: number } {
  return {
    seconds: Number(buf.readBigInt64BE(0)),
    nanos: buf.readUInt32BE(8),
    txId: buf.toString('utf8', 12),
  };
}

export const positionKey = (version: Version): string =>
  `${PREFIX.position}${hex16(version.blockNum)}${hex8(version.txNum)}`;

export const VALIDATION_CODES = [
  'VALID',
  'MVCC_READ_CONFLICT',
  'PHANTOM_READ_CONFLICT',
  'DUPLICATE_TXID',
] as const satisfies readonly ValidationCode[];

/** The tx-id index entry: where the transaction is and whether it was valid. */
export function encodeTxLocation(blockNumber: number, txNumber: number, code: ValidationCode): Buffer {
  const out = Buffer.allocUnsafe(13);
  writeVersion(out, { blockNum: blockNumber, txNum: txNumber });
  out[12] = VALIDATION_CODES.indexOf(code);
  return out;
}

export function decodeTxLocation(buf: Buffer): {
  blockNumber: number;
  txNumber: number;
  validationCode: ValidationCode;
} {
  const { blockNum, txNum } = readVersion(buf);
  const validationCode = VALIDATION_CODES[buf[12] ?? -1];
  if (!validationCode) throw new EngineError('E_CHAIN_CORRUPT', 'a tx-id index entry has an unknown code');
  return { blockNumber: blockNum, txNumber: txNum, validationCode };
}

export function sameVersion(a: Version | null | undefined, b: Version | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.blockNum === b.blockNum && a.txNum === b.txNum;
}

/**
 * Byte (UTF-8) order of two keys: LevelDB's and Fabric's order, which differs from JS string order.
 * UTF-8 order is code point order, and UTF-16 code units give the same answer wherever no surrogate
 * is involved; keys are compared while sorting every block's write set, so those common cases are
 * decided without encoding, and anything touching a surrogate (lone ones encode as U+FFFD) is
 * compared as bytes.
 */
const SURROGATE = /[\ud800-\udfff]/;

/**
 * Sorts `entries` in place by key, in `compareKeys` order (UTF-8 bytes). When no key holds a
 * surrogate (nearly always), UTF-16 code-unit order is that order, so keys compare natively: about
 * five times faster than `compareKeys` over keys with long shared prefixes (a batch's index keys).
 */
export function sortByKey<T extends { readonly key: string }>(entries: T[]): T[] {
  if (entries.some((e) => SURROGATE.test(e.key))) return entries.sort((a, b) => compareKeys(a.key, b.key));
  return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // A high surrogate just before the split may pair with what follows in one key and not the other.
  if (i > 0 && isSurrogate(a.charCodeAt(i - 1))) return byteCompare(a, b);
  if (i === n) return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  if (isSurrogate(x) || isSurrogate(y)) return byteCompare(a, b);
  return x < y ? -1 : 1;
}

const isSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdfff;

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const hex16 = (n: number): string => n.toString(16).padStart(16, '0');
const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** Under one key's prefix, entries sort by version: oldest first, so newest-first is a reverse scan. */
export function historyKey(key: string, version: Version): string {
  return `${historyPrefix(key)}${hex16(version.blockNum)}${hex8(version.txNum)}`;
}

/** NUL doubled as NUL U+0001, then NUL NUL: no key's prefix runs into another key's entries. */
export function historyPrefix(key: string): string {
  return `${PREFIX.history}${key.replaceAll('\0', '\0\u0001')}\0\0`;
}

/** The version a history key ends with. */
export function historyVersion(historyKeyText: string): Version {
  const tail = historyKeyText.slice(-24);
  return { blockNum: parseInt(tail.slice(0, 16), 16), txNum: parseInt(tail.slice(16), 16) };
}

export const blockKey = (n: number): string => PREFIX.block + hex16(n);
export const txidKey = (txId: string): string => PREFIX.txid + txId;

/** Bounds of a range read over state keys; `lt: ''` means "to the end of the namespace", as in Fabric. */
export interface KeyRange {
  gte: string;
  lt?: string;
  lte?: string;
}

/**
 * Committed world state, read through one LevelDB snapshot when given one — so a simulation sees a
 * single consistent height however many commits happen while the contract runs — or the latest state.
 */
export class StateView {
  /** What every point read passes LevelDB: the snapshot, and whether blocks read join its cache. */
  private readonly reads: { snapshot?: Snapshot; fillCache?: false };

  constructor(
    readonly db: Db,
    readonly snapshot?: Snapshot,
    /**
     * Whether the blocks a point read loads join LevelDB's block cache (default true). A reader that
     * walks much of the ledger once (an export, engine/reader.ts) passes false, as LevelDB advises for
     * bulk reads, so as not to push out what the appends read.
     */
    fillCache = true,
  ) {
    this.reads = { ...(snapshot ? { snapshot } : {}), ...(fillCache ? {} : { fillCache: false as const }) };
  }

  /*
   * Point reads are synchronous LevelDB gets (memtable, block cache, bloom filters: microseconds),
   * which costs less than a round trip through the libuv thread pool; the methods stay async.
   */
  async get(key: string): Promise<VersionedValue | undefined> {
    return this.read(key);
  }

  async getMany(keys: readonly string[]): Promise<Array<VersionedValue | undefined>> {
    return keys.map((k) => this.read(k));
  }

  /** The version only: what commit-time validation compares (no value is fetched from `v/`). */
  version(key: string): Version | undefined {
    const raw = this.getRaw(stateKey(key));
    return raw === undefined ? undefined : decodeState(raw).version;
  }

  private read(key: string): VersionedValue | undefined {
    const raw = this.getRaw(stateKey(key));
    return raw === undefined ? undefined : this.resolve(decodeState(raw));
  }

  private getRaw(key: string): Buffer | undefined {
    return this.db.getSync(key, this.reads);
  }

  /** A stored value, fetched from `v/` when the entry refers there. */
  private resolve(stored: StoredState): VersionedValue {
    if ('value' in stored) return stored;
    return { version: stored.version, value: this.valueAt(stored.valueKey) };
  }

  private valueAt(key: string): Buffer {
    const value = this.getRaw(key);
    if (value === undefined) throw new EngineError('E_CHAIN_CORRUPT', `value ${key} is missing`);
    return value;
  }

  /** Keys in byte order within `range`; stop early by returning from the generator (closes the LevelDB iterator). */
  async *range(range: KeyRange): AsyncGenerator<VersionedKV> {
    for await (const [k, v] of this.db.iterator({ ...stateBounds(range), ...this.options() })) {
      yield this.entry(k, v);
    }
  }

  /**
   * The first `limit` entries of `range` (fewer at its end), as `range` yields them, read in batches
   * (`nextv`) instead of one asynchronous step per entry: a paginated query reads its whole page at
   * once. Held to `range` by test/engine/fast-paths.test.ts.
   */
  async rangeEntries(range: KeyRange, limit: number): Promise<VersionedKV[]> {
    const out: VersionedKV[] = [];
    const iterator = this.db.iterator({ ...stateBounds(range), ...this.options() });
    try {
      while (out.length < limit) {
        // A batch stops early past the iterator's byte budget; an empty one is the range's end.
        const batch = await iterator.nextv(limit - out.length);
        if (batch.length === 0) break;
        for (const [k, v] of batch) out.push(this.entry(k, v));
      }
    } finally {
      await iterator.close();
    }
    return out;
  }

  private entry(storedKey: string, stored: Buffer): VersionedKV {
    return { key: storedKey.slice(PREFIX.state.length), ...this.resolve(decodeState(stored)) };
  }

  /** A key's committed history, newest first (Fabric ≥ 2.0 order: block height, then position in block). */
  async history(key: string): Promise<HistoryRecord[]> {
    const prefix = historyPrefix(key);
    const out: HistoryRecord[] = [];
    for await (const [k, v] of this.db.iterator({
      gte: prefix,
      lt: nextPrefix(prefix),
      reverse: true,
      ...this.options(),
    })) {
      const version = historyVersion(k);
      const position = this.getRaw(positionKey(version));
      if (position === undefined)
        throw new EngineError('E_CHAIN_CORRUPT', `${positionKey(version)} is missing`);
      const isDelete = ((v[0] ?? 0) & HISTORY_DELETE) !== 0;
      const value =
        ((v[0] ?? 0) & HISTORY_REFERENCED) !== 0
          ? this.valueAt(valueKey(version, v.readUInt32BE(1)))
          : v.subarray(1);
      out.push({ ...decodePosition(position), isDelete, value: value.toString('base64') });
    }
    return out;
  }

  private options(): { snapshot?: Snapshot } {
    return this.snapshot ? { snapshot: this.snapshot } : {};
  }
}

/** LevelDB bounds of a range over state keys (`lt: ''` or none: to the end of the namespace). */
function stateBounds(range: KeyRange): { gte: string; lt?: string; lte?: string } {
  const bounds: { gte: string; lt?: string; lte?: string } = { gte: stateKey(range.gte) };
  if (range.lte !== undefined) bounds.lte = stateKey(range.lte);
  else if (range.lt) bounds.lt = stateKey(range.lt);
  else bounds.lt = nextPrefix(PREFIX.state);
  return bounds;
}

/** The smallest string greater than every string starting with `prefix` (prefixes here end in ASCII). */
export function nextPrefix(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
