/**
 * Value-store split A/B (issue 14 rows 1–2, issue 18 item 2): does keeping the large, append-only entries
 * (`v/` receipt records, `b/` stored blocks: monotonic keys) in a LevelDB of their own cut what LevelDB
 * costs per receipt, against the current single database where they share level-0 files and compactions
 * with the random keys (`s/`, `h/`, `t/`)?
 *
 *   npx node dist/bench/store-ab.js [--receipts 50000] [--rounds 2] [--scratch DIR] [--stats]
 *     [--layouts single,split,segment]
 *
 * `--stats` prints each database's `leveldb.stats` (compactions by level) at the end of each run.
 *
 * Each run writes the same blocks (batches of 50, one block at a time, every batch with sync as the
 * committer does) to a fresh directory, in one of these layouts:
 * - `single`: one batch per block into one LevelDB (storage format 2's layout);
 * - `split`: the block's `v/` and `b/` entries into a second LevelDB (sync) first, then the rest (sync);
 *   there the block is keyed `v/<block:16 hex>`, so that the value store's keys only ever rise;
 * - `segment`: the block's `v/` and `b/` values appended to one file (`fdatasync`), then the rest into
 *   LevelDB with a 16-byte pointer in place of each (sync): a value log (docs/performance.md §4, twelfth
 *   pass). Default layouts: `single,split`.
 * Per receipt, by quarter of the run: CPU of LevelDB's threads (`libuv-worker`: writes and compaction,
 * /proc ticks), of the whole process, and bytes written to disk (/proc/self/io).
 *
 * The entries are shaped as §4 sixth pass measured the embedded suite's (16 puts, ~9.1 KB per receipt:
 * a 5.35 KB record under `v/`, a 1.9 KB share of a ~95 KB block, 13 small entries of which 12 have random
 * keys); values are base64 of random bytes (signatures and hashes compress as badly). Synthetic, not the
 * suite's signed receipts: it isolates the layout, with identical keys and values in both layouts.
 */
import './quiet-logs.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDb } from '../engine/state.js';
import { bytesWritten, median } from './harness.js';
import { threadCpuMsOf } from './http.js';

const BATCH = 50;
const QUARTERS = 4;
const SMALL_RANDOM = 6;

type Layout = 'single' | 'split' | 'segment';
interface Op {
  readonly type: 'put';
  readonly key: string;
  readonly value: Buffer;
}
interface Quarter {
  readonly leveldbMs: number;
  readonly allMs: number;
  readonly writtenKiB: number;
}

function text(bytes: number): Buffer {
  return Buffer.from(
    randomBytes(Math.ceil((bytes * 3) / 4))
      .toString('base64')
      .slice(0, bytes),
  );
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Block `n`'s entries: the large monotonic ones (`v/`, `b/`) and the rest. Deterministic in shape. */
function blockOps(n: number): { large: Op[]; rest: Op[] } {
  const large: Op[] = [];
  const rest: Op[] = [];
  for (let tx = 0; tx < BATCH; tx++) {
    const pos = hex(n, 16) + hex(tx, 8);
    large.push({ type: 'put', key: `v/${pos}${hex(0, 8)}`, value: text(5350) });
    rest.push({ type: 'put', key: `p/${pos}`, value: text(80) });
    rest.push({ type: 'put', key: `t/${randomBytes(32).toString('hex')}`, value: text(9) });
    for (let i = 0; i < SMALL_RANDOM; i++) {
      const key = `receipt\u0000${randomBytes(16).toString('hex')}`;
      rest.push({ type: 'put', key: `s/${key}`, value: text(150) });
      rest.push({ type: 'put', key: `h/${key}\u0000\u0000${pos}`, value: text(150) });
    }
  }
  large.push({ type: 'put', key: `b/${hex(n, 16)}`, value: text(1900 * BATCH) });
  rest.push({ type: 'put', key: 'm/height', value: Buffer.from(String(n + 1)) });
  return { large, rest };
}

/**
 * In the value store, `b/<n>` as `v/<n>`: sorting before block n's values, so that every key of the store
 * rises with the block (with two prefixes, each flushed file would span `b/…`–`v/…` and overlap them all).
 */
function monotonic(op: Op): Op {
  return op.key.startsWith('b/') ? { ...op, key: `v/${op.key.slice(2)}` } : op;
}

function cpu(): { leveldb: number; all: number } {
  let leveldb = 0;
  let all = 0;
  for (const [name, ms] of threadCpuMsOf(process.pid)) {
    all += ms;
    if (name === 'libuv-worker') leveldb += ms;
  }
  return { leveldb, all };
}

async function run(layout: Layout, receipts: number, scratch: string, stats: boolean): Promise<Quarter[]> {
  const dir = mkdtempSync(join(scratch, `store-ab-${layout}-`));
  const main = await openDb(join(dir, 'ledger'));
  const values = layout === 'split' ? await openDb(join(dir, 'values')) : main;
  const segment = layout === 'segment' ? await open(join(dir, 'values.seg'), 'a') : undefined;
  let end = 0;
  const blocks = Math.ceil(receipts / BATCH);
  const perQuarter = Math.ceil(blocks / QUARTERS);
  const out: Quarter[] = [];
  try {
    for (let q = 0; q < QUARTERS; q++) {
      const from = q * perQuarter;
      const to = Math.min(blocks, from + perQuarter);
      const ops = Array.from({ length: to - from }, (_, i) => blockOps(from + i));
      const c0 = cpu();
      const w0 = bytesWritten();
      for (const { large, rest } of ops) {
        if (layout === 'single') {
          await main.batch([...large, ...rest], { sync: true });
        } else if (segment) {
          const bytes = Buffer.concat(large.map((op) => op.value));
          await segment.write(bytes);
          await segment.datasync();
          const pointers: Op[] = [];
          let at = end;
          for (const op of large) {
            const p = Buffer.alloc(16);
            p.writeBigUInt64BE(BigInt(at), 0);
            p.writeUInt32BE(op.value.length, 8);
            pointers.push({ type: 'put', key: op.key, value: p });
            at += op.value.length;
          }
          end = at;
          await main.batch([...pointers, ...rest], { sync: true });
        } else {
          await values.batch(large.map(monotonic), { sync: true });
          await main.batch(rest, { sync: true });
        }
      }
      const c1 = cpu();
      const n = (to - from) * BATCH;
      out.push({
        leveldbMs: (c1.leveldb - c0.leveldb) / n,
        allMs: (c1.all - c0.all) / n,
        writtenKiB: (bytesWritten() - w0) / 1024 / n,
      });
    }
    if (stats) {
      console.log(`${layout} ledger:\n${main.getProperty('leveldb.stats')}`);
      if (values !== main) console.log(`${layout} values:\n${values.getProperty('leveldb.stats')}`);
    }
  } finally {
    await main.close();
    await segment?.close();
    if (values !== main) await values.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      receipts: { type: 'string', default: '50000' },
      rounds: { type: 'string', default: '2' },
      scratch: { type: 'string', default: tmpdir() },
      stats: { type: 'boolean', default: false },
      layouts: { type: 'string' },
    },
  });
  const receipts = Number(args.receipts);
  const rounds = Number(args.rounds);
  const results: Record<Layout, Quarter[][]> = { single: [], split: [], segment: [] };
  const layouts = (args.layouts ?? 'single,split').split(',') as Layout[];
  const unknown = layouts.filter((l) => !(l in results));
  if (unknown.length > 0)
    throw new Error(`--layouts: unknown ${unknown.join(', ')} (single, split, segment)`);
  for (let r = 0; r < rounds; r++) {
    const order: Layout[] = r % 2 === 0 ? layouts : [...layouts].reverse();
    for (const layout of order) {
      const quarters = await run(layout, receipts, args.scratch, args.stats);
      results[layout].push(quarters);
      const fmt = quarters
        .map((q) => `${q.leveldbMs.toFixed(3)}/${q.allMs.toFixed(3)} ms ${q.writtenKiB.toFixed(1)} KiB`)
        .join(' | ');
      console.log(
        `round ${r + 1} ${layout.padEnd(6)} ${fmt}  (load ${readFileSync('/proc/loadavg', 'utf8').trim()})`,
      );
    }
  }
  console.log('\nmedian per receipt by quarter: LevelDB threads / whole process CPU, KiB written to disk');
  for (const layout of layouts) {
    const cells = Array.from({ length: QUARTERS }, (_, q) => {
      const at = results[layout].map((runQ) => runQ[q]!);
      return `${median(at.map((x) => x.leveldbMs)).toFixed(3)}/${median(at.map((x) => x.allMs)).toFixed(3)} ms ${median(at.map((x) => x.writtenKiB)).toFixed(1)} KiB`;
    });
    console.log(`${layout.padEnd(6)} ${cells.join(' | ')}`);
  }
}

await main();
