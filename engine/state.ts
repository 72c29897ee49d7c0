/**
 * The LevelDB layout of one ledger and the read side of its world state.
 *
 * One LevelDB database, UTF-8 string keys under fixed prefixes, byte values:
 *
 * | key                                        | value                                              |
 * |--------------------------------------------|----------------------------------------------------|
 * | `s/<key>`                                  | version (block u64 BE, tx u32 BE) ‖ value bytes    |
 * | `h/<hex(key)>!<block:16 hex><tx:8 hex>`    | JSON {txId, seconds, nanos, isDelete, value(b64)}  |
 * | `b/<block number:16 hex>`                  | the block, canonical JSON                          |
 * | `t/<txId>`                                 | JSON {blockNumber, txNumber, validationCode}       |
 * | `m/height`                                 | number of blocks, decimal                          |
 *
 * State keys keep LevelDB's byte order (UTF-8 order = code point order), which is the order a Fabric
 * peer's LevelDB state database returns range scans in. A version is Fabric's height: the block and
 * position in the block of the transaction that last wrote the key.
 */
import { Level } from 'level';
import { EngineError } from './errors.js';

export type Db = Level<string, Buffer>;
export type Snapshot = ReturnType<Db['snapshot']>;

export const PREFIX = { state: 's/', history: 'h/', block: 'b/', txid: 't/', meta: 'm/' } as const;
export const HEIGHT_KEY = `${PREFIX.meta}height`;

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

/** One entry of a key's history, as stored. */
export interface HistoryRecord {
  txId: string;
  seconds: number;
  nanos: number;
  isDelete: boolean;
  /** Base64 of the value written (empty for a delete). */
  value: string;
}

/** Open (creating if needed) the LevelDB at `location`; a second opener, in any process, gets E_LOCKED. */
export async function openDb(location: string): Promise<Db> {
  const db = new Level<string, Buffer>(location, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  try {
    await db.open();
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new EngineError(
        'E_LOCKED',
        `ledger ${location} is already open (by this or another process)`,
        {},
        e,
      );
    }
    throw new EngineError('E_STORAGE', `cannot open ledger ${location}: ${String(e)}`, {}, e);
  }
  return db;
}

export const stateKey = (key: string): string => PREFIX.state + key;

export function encodeState(value: Uint8Array, version: Version): Buffer {
  const out = Buffer.allocUnsafe(12 + value.length);
  out.writeBigUInt64BE(BigInt(version.blockNum), 0);
  out.writeUInt32BE(version.txNum, 8);
  out.set(value, 12);
  return out;
}

export function decodeState(buf: Buffer): VersionedValue {
  return {
    version: { blockNum: Number(buf.readBigUInt64BE(0)), txNum: buf.readUInt32BE(8) },
    value: Buffer.from(buf.subarray(12)),
  };
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

/** Under one key's prefix, entries sort by version: oldest first, so newest-first is a reverse scan. */
export function historyKey(key: string, version: Version): string {
  return `${historyPrefix(key)}${hex16(version.blockNum)}${version.txNum.toString(16).padStart(8, '0')}`;
}

/** Hex keeps arbitrary keys (NUL, `!`) from running into each other's prefixes. */
export function historyPrefix(key: string): string {
  return `${PREFIX.history}${Buffer.from(key, 'utf8').toString('hex')}!`;
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
  constructor(
    readonly db: Db,
    readonly snapshot?: Snapshot,
  ) {}

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

  private read(key: string): VersionedValue | undefined {
    const raw = this.snapshot
      ? this.db.getSync(stateKey(key), { snapshot: this.snapshot })
      : this.db.getSync(stateKey(key));
    return raw === undefined ? undefined : decodeState(raw);
  }

  /** Keys in byte order within `range`; stop early by returning from the generator (closes the LevelDB iterator). */
  async *range(range: KeyRange): AsyncGenerator<VersionedKV> {
    const bounds: { gte: string; lt?: string; lte?: string } = { gte: stateKey(range.gte) };
    if (range.lte !== undefined) bounds.lte = stateKey(range.lte);
    else if (range.lt) bounds.lt = stateKey(range.lt);
    else bounds.lt = nextPrefix(PREFIX.state);
    for await (const [k, v] of this.db.iterator({ ...bounds, ...this.options() })) {
      yield { key: k.slice(PREFIX.state.length), ...decodeState(v) };
    }
  }

  /** A key's committed history, newest first (Fabric ≥ 2.0 order: block height, then position in block). */
  async history(key: string): Promise<HistoryRecord[]> {
    const prefix = historyPrefix(key);
    const out: HistoryRecord[] = [];
    for await (const v of this.db.values({
      gte: prefix,
      lt: nextPrefix(prefix),
      reverse: true,
      ...this.options(),
    })) {
      out.push(JSON.parse(v.toString('utf8')) as HistoryRecord);
    }
    return out;
  }

  private options(): { snapshot?: Snapshot } {
    return this.snapshot ? { snapshot: this.snapshot } : {};
  }
}

/** The smallest string greater than every string starting with `prefix` (prefixes here end in ASCII). */
export function nextPrefix(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
