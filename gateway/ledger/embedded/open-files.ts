/**
 * How many table files the embedded ledger's LevelDB keeps open (`embedded.maxOpenFiles`), derived from
 * the process's open-file limit unless configured (docs/operations.md, docs/performance.md §11 sixth pass).
 *
 * What a table cache costs in descriptors is LevelDB's own arithmetic (classic-level 3 bundles LevelDB
 * 1.20, util/env_posix.cc and db/db_impl.cc), and it bounds what a larger cache can do to the process:
 * - the cache holds `maxOpenFiles − 10` tables (10 are left for the log, manifest and lock);
 * - on 64-bit POSIX the first 1000 tables the process opens are memory-mapped and their descriptors
 *   closed at once: they hold none;
 * - the next ones keep a descriptor each, up to a fifth of the soft limit read when LevelDB starts,
 *   process-wide (both of the gateway's LevelDBs share it);
 * - beyond that a cached table opens and closes its file for every block it reads: a syscall pair per
 *   read, and a read that fails (EMFILE) whenever the rest of the process has used every descriptor.
 * So a cache of up to `1010 + soft/5` tables never holds more than a fifth of the limit and never opens
 * a file to read; four fifths stay for everything else (the gateway itself holds ~30 at rest: libuv,
 * stdio, both LevelDBs' log, manifest and lock; then one per HTTP connection, the verification workers'
 * loops, the relay's and Fabric clients' sockets), and that is the reserve this module keeps.
 */
import { readFile } from 'node:fs/promises';
// LevelDB's own figures, written once in the engine (the module alone: it loads nothing else).
// LEVELDB_MAX_OPEN_FILES is also the config's maximum; LevelDB's default is kept where the limit
// cannot be read (not Linux) or leaves no room.
import {
  LEVELDB_DEFAULT_MAX_OPEN_FILES as DEFAULT_MAX_OPEN_FILES,
  LEVELDB_MAX_OPEN_FILES,
  LEVELDB_NON_TABLE_FILES,
} from '../../../engine/tables.js';
import { ConfigError } from '../../config.js';

export { DEFAULT_MAX_OPEN_FILES, LEVELDB_MAX_OPEN_FILES };
/** Tables LevelDB memory-maps, holding no descriptor (64-bit POSIX; MaxMmaps in env_posix.cc). */
export const LEVELDB_MAPPED_TABLES = 1000;
/**
 * The derived default's ceiling: memory. An open table keeps its index and filter blocks in memory
 * (6.5 KiB of compressed index and 7.4 KiB of filter per 2 MiB table at a million receipts; ~40 KiB of
 * anonymous RSS per table measured, docs/performance.md §11 sixth pass), so 5000 open tables cost at most
 * ~200 MiB, reached by a ledger of ~10 GB (~1.8 million receipts); beyond, the cache holds most tables and
 * an operator with the memory configures more.
 */
export const DERIVED_MAX_OPEN_FILES_CEILING = 5000;
/**
 * Descriptors the rest of the gateway needs at the least before LevelDB may hold any for tables: ~30 at
 * rest (measured), the verification workers' loops, and room for a few hundred connections. Below a soft
 * limit of ~640 LevelDB's fifth would leave less than this, and the table cache stays at the mapped 1000.
 */
export const RESERVED_DESCRIPTORS = 512;

/** Where the effective value came from. */
export type MaxOpenFilesSource = 'configured' | 'derived' | 'default';

export interface TableFileBudget {
  /** The value LevelDB is opened with. */
  readonly maxOpenFiles: number;
  readonly source: MaxOpenFilesSource;
  /** The soft open-file limit it was derived from or checked against; undefined when unknown. */
  readonly softLimit: number | undefined;
  /** Most tables the limit lets LevelDB keep open without reopening a file per read. */
  readonly allowed: number;
}

/**
 * The soft RLIMIT_NOFILE from /proc/self/limits' text (`Max open files  <soft>  <hard>  files`):
 * Infinity for `unlimited`, undefined when the text has no such line (not Linux, or unreadable).
 * Node raises the soft limit to the hard one as it starts (checked on Node 24), so this is the hard one too.
 */
export function parseSoftOpenFileLimit(limitsText: string): number | undefined {
  const line = /^Max open files\s+(\S+)\s+\S+/m.exec(limitsText);
  if (!line) return undefined;
  if (line[1] === 'unlimited') return Number.POSITIVE_INFINITY;
  const soft = Number(line[1]);
  return Number.isSafeInteger(soft) && soft >= 0 ? soft : undefined;
}

/** Most table files LevelDB can keep open under a soft limit without a per-read open (module comment). */
export function tablesAllowedBy(softLimit: number | undefined): number {
  if (softLimit === undefined) return DEFAULT_MAX_OPEN_FILES;
  const fifth = Math.floor(Math.min(softLimit, Number.MAX_SAFE_INTEGER) / 5);
  const withDescriptor = softLimit - fifth >= RESERVED_DESCRIPTORS ? fifth : 0;
  return Math.min(LEVELDB_MAX_OPEN_FILES, LEVELDB_NON_TABLE_FILES + LEVELDB_MAPPED_TABLES + withDescriptor);
}

/**
 * The effective `maxOpenFiles`: `configured` (0: derive) checked against the soft limit, or derived from
 * it: what it allows, at most the ceiling, never below LevelDB's default (mapped tables hold no
 * descriptor, so 1000 is safe under any limit). An unknown limit (undefined) derives LevelDB's default
 * and accepts any configured value.
 */
export function tableFileBudget(configured: number, softLimit: number | undefined): TableFileBudget {
  const allowed = tablesAllowedBy(softLimit);
  if (configured === 0) {
    if (softLimit === undefined) {
      return { maxOpenFiles: DEFAULT_MAX_OPEN_FILES, source: 'default', softLimit, allowed };
    }
    const derived = Math.max(DEFAULT_MAX_OPEN_FILES, Math.min(allowed, DERIVED_MAX_OPEN_FILES_CEILING));
    return { maxOpenFiles: derived, source: 'derived', softLimit, allowed };
  }
  if (softLimit !== undefined && configured > allowed) {
    throw new ConfigError(
      `embedded.maxOpenFiles ${configured} is more than the open-file limit allows: the soft limit is ${softLimit}, ` +
        `and LevelDB keeps at most a fifth of it (${Math.floor(softLimit / 5)}) open beside the ${LEVELDB_MAPPED_TABLES} ` +
        `tables it maps, so at most ${allowed}; beyond that it reopens a table file for every read. ` +
        `Raise the limit (ulimit -n, systemd LimitNOFILE) or set embedded.maxOpenFiles ≤ ${allowed} (0: derive it)`,
    );
  }
  return { maxOpenFiles: configured, source: 'configured', softLimit, allowed };
}

/** This process's soft open-file limit (Linux: /proc/self/limits); undefined elsewhere or unreadable. */
export async function readSoftOpenFileLimit(): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    return parseSoftOpenFileLimit(await readFile('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/** What a gateway with `embedded.maxOpenFiles` 0 opens its ledger with in this process (benchmarks). */
export async function derivedMaxOpenFiles(): Promise<number> {
  return tableFileBudget(0, await readSoftOpenFileLimit()).maxOpenFiles;
}
