/**
 * The ledger's table files opened once, in the background, right after the ledger opens.
 *
 * LevelDB opens a table file the first time a read needs it: it reads the file's footer, index block
 * and filter block, and keeps the table in its table cache (`maxOpenFiles − 10` tables). A ledger of
 * a million receipts has ~2,800 tables of 2 MiB. A page of 50 receipts reads 50 records spread over
 * the ledger, so a freshly opened ledger paid for those opens inside its queries for as long as a
 * query could still meet a table not yet opened. With the tables opened first, the p99 of the first
 * 1,000 first pages at a million receipts was 0.79× (6.3 against 8.1 ms, medians of 7 alternating
 * rounds; docs/performance.md §11, tenth pass). RocksDB opens every table
 * when the database opens (`max_open_files = -1`); LevelDB has no such option, so the ledger does it
 * itself, off its open path: a point read of each table's smallest key, 32 tables per `getMany` on
 * two of libuv's threads, without filling the block cache. Nothing waits for it; it stops when the ledger
 * closes, and a read that fails ends it (the same read would fail for a query, and is reported there).
 *
 * Which tables: LevelDB's `leveldb.sstables` property lists them level by level, newest level first,
 * each with its smallest and largest key. At most as many as the table cache holds are opened (more
 * would only evict the first ones), newest levels first: recent receipts are the ones asked for most.
 */
import type { Db } from './state.js';

/** LevelDB's table cache holds `max_open_files` minus these (kNumNonTableCacheFiles, db_impl.cc). */
export const LEVELDB_NON_TABLE_FILES = 10;
/** LevelDB's default `max_open_files`, used when the ledger is opened without one. */
export const LEVELDB_DEFAULT_MAX_OPEN_FILES = 1000;
/** LevelDB clips `max_open_files` to at least this and at most LEVELDB_MAX_OPEN_FILES (SanitizeOptions, db_impl.cc). */
const LEVELDB_MIN_OPEN_FILES = 64 + LEVELDB_NON_TABLE_FILES;
export const LEVELDB_MAX_OPEN_FILES = 50_000;
/** Reads in flight at once: two of libuv's four threads, leaving the rest to the ledger's work. */
const IN_FLIGHT = 2;
/** Tables per read (one `getMany`): ~4 ms of a libuv thread, and a main-thread turn per 32 tables. */
const PER_READ = 32;

/** What opening the tables did, once it ended. */
export interface TableOpening {
  /** Tables LevelDB listed. */
  readonly tables: number;
  /** Tables read (each opened, if it was not open yet). */
  readonly opened: number;
  /** Wall time from the start, ms. */
  readonly ms: number;
  /** Ended early because the ledger closed. */
  readonly stopped: boolean;
  /** The read that failed and ended it, if one did. */
  readonly error?: string;
}

/**
 * The smallest key of every table in LevelDB's `leveldb.sstables` property, in its order (level 0
 * first). Each table is a line ` <number>:<size>['<smallest>' @ <seq> : <type> .. '<largest>' @ …]`
 * (Version::DebugString, db/version_set.cc), keys escaped by LevelDB's EscapeString: bytes outside
 * printable ASCII as `\xNN`, everything else as itself. A line in another shape is skipped.
 */
export function smallestKeysOfTables(sstables: string): Buffer[] {
  const keys: Buffer[] = [];
  for (const m of sstables.matchAll(/^ *\d+:\d+\['(.*?)' @ \d+ : \d+ \.\. '/gm))
    keys.push(unescapeKey(m[1]!));
  return keys;
}

/** The bytes of a key as EscapeString printed it. */
function unescapeKey(printed: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < printed.length; i++) {
    if (printed[i] === '\\' && printed[i + 1] === 'x' && /^[0-9a-f]{2}$/.test(printed.slice(i + 2, i + 4))) {
      bytes.push(Number.parseInt(printed.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      bytes.push(printed.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** Opening the tables of `db`, started by `TableOpener.start`. */
export class TableOpener {
  private stopping = false;
  /** Resolves when every table is read, the ledger closed, or a read failed; never rejects. */
  readonly done: Promise<TableOpening>;

  private constructor(db: Db, keys: readonly Buffer[], tables: number) {
    const started = performance.now();
    let next = 0;
    let opened = 0;
    let failure: unknown;
    let stopped = false;
    const readEach = async (): Promise<void> => {
      while (!this.stopping && next < keys.length) {
        const some = keys.slice(next, next + PER_READ);
        next += some.length;
        try {
          await db.getMany<Buffer, Buffer>(some, { keyEncoding: 'buffer', fillCache: false });
        } catch (e) {
          // The other reader stops too, and `done` waits for its read in flight.
          failure ??= e;
          this.stopping = true;
          return;
        }
        opened += some.length;
      }
      if (this.stopping && failure === undefined && next < keys.length) stopped = true;
    };
    this.done = Promise.all(Array.from({ length: IN_FLIGHT }, readEach)).then(() => ({
      tables,
      opened,
      ms: performance.now() - started,
      stopped,
      ...(failure === undefined ? {} : { error: String(failure) }),
    }));
  }

  /**
   * Starts opening the tables of `db`, opened with `maxOpenFiles`: its table cache holds that many,
   * clipped as LevelDB clips it, minus 10.
   */
  static start(db: Db, maxOpenFiles: number = LEVELDB_DEFAULT_MAX_OPEN_FILES): TableOpener {
    const keys = smallestKeysOfTables(db.getProperty('leveldb.sstables'));
    const clipped = Math.min(Math.max(maxOpenFiles, LEVELDB_MIN_OPEN_FILES), LEVELDB_MAX_OPEN_FILES);
    const capacity = clipped - LEVELDB_NON_TABLE_FILES;
    return new TableOpener(db, keys.slice(0, capacity), keys.length);
  }

  /** Issues no more reads; resolves once those in flight are done (before the ledger closes LevelDB). */
  stop(): Promise<TableOpening> {
    this.stopping = true;
    return this.done;
  }
}
