/**
 * What a LevelDB store holds, by key prefix (`torgo ledger stats`, the `storage` benchmark): entries,
 * key and value bytes as stored (before LevelDB's block compression), LevelDB's own estimate of the
 * disk each prefix takes, and the bytes of the directory's files — the last two before and, when
 * asked, after a full compaction (which rewrites the store; the owner must have it closed).
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import { EngineError } from './errors.js';
import { nextPrefix } from './state.js';

/** A class of entries: every key starting with `prefix` that no longer listed prefix claims. */
export interface StoreClass {
  readonly name: string;
  readonly prefix: string;
}

export interface ClassSize {
  readonly name: string;
  readonly entries: number;
  readonly keyBytes: number;
  readonly valueBytes: number;
  /** LevelDB's estimate of the disk its key range takes (compressed tables; not the write-ahead log). */
  readonly diskBytes: number;
}

export interface StoreSize {
  readonly classes: ClassSize[];
  /** Every file of the store's directory: tables, write-ahead log, manifest. */
  readonly fileBytes: number;
  /** The same after compacting the whole key range, if asked for. */
  readonly compacted?: { readonly classes: ClassSize[]; readonly fileBytes: number };
}

type ApproximateSize = { approximateSize(start: string, end: string): Promise<number> };
type CompactRange = { compactRange(start: string, end: string): Promise<void> };

/** Measure the LevelDB store at `location` (not open elsewhere: E_LOCKED otherwise). */
export async function measureStore(
  location: string,
  classes: readonly StoreClass[],
  options: { compact?: boolean } = {},
): Promise<StoreSize> {
  const db = new Level<string, Buffer>(location, {
    keyEncoding: 'utf8',
    valueEncoding: 'buffer',
    createIfMissing: false,
  });
  try {
    await db.open();
  } catch (e) {
    const code =
      (e as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED' ? 'E_LOCKED' : 'E_STORAGE';
    throw new EngineError(code, `cannot open ${location}: ${String(e)}`, {}, e);
  }
  try {
    const counted = await countEntries(db, classes);
    const measure = async () => ({
      classes: await withDisk(db, classes, counted),
      fileBytes: await directoryBytes(location),
    });
    const before = await measure();
    if (!options.compact) return before;
    await (db as unknown as CompactRange).compactRange('\u0000', '\uffff');
    return { ...before, compacted: await measure() };
  } finally {
    await db.close();
  }
}

type Counted = Map<string, { entries: number; keyBytes: number; valueBytes: number }>;

/** The class of `key`: the longest listed prefix it starts with, else "other". */
function classOf(key: string, byLength: readonly StoreClass[]): string {
  for (const c of byLength) if (key.startsWith(c.prefix)) return c.name;
  return 'other';
}

async function countEntries(db: Level<string, Buffer>, classes: readonly StoreClass[]): Promise<Counted> {
  const byLength = [...classes].sort((a, b) => b.prefix.length - a.prefix.length);
  const counted: Counted = new Map();
  for (const c of [...classes, { name: 'other', prefix: '' }]) {
    counted.set(c.name, { entries: 0, keyBytes: 0, valueBytes: 0 });
  }
  for await (const [k, v] of db.iterator()) {
    const c = counted.get(classOf(k, byLength))!;
    c.entries++;
    c.keyBytes += Buffer.byteLength(k, 'utf8');
    c.valueBytes += v.length;
  }
  return counted;
}

/** Disk estimates per class: a prefix's range, less the ranges of longer prefixes nested in it. */
async function withDisk(
  db: Level<string, Buffer>,
  classes: readonly StoreClass[],
  counted: Counted,
): Promise<ClassSize[]> {
  const level = db as unknown as ApproximateSize;
  const range = new Map<string, number>();
  for (const c of classes) range.set(c.name, await level.approximateSize(c.prefix, nextPrefix(c.prefix)));
  const out: ClassSize[] = [];
  for (const c of classes) {
    const nested = classes.filter((n) => n !== c && n.prefix.startsWith(c.prefix));
    const diskBytes = Math.max(0, range.get(c.name)! - nested.reduce((s, n) => s + range.get(n.name)!, 0));
    out.push({ name: c.name, ...counted.get(c.name)!, diskBytes });
  }
  const other = counted.get('other')!;
  if (other.entries > 0) out.push({ name: 'other', ...other, diskBytes: 0 });
  return out;
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(path.join(dir, name))).size;
  return total;
}
