/**
 * The committer thread's CPU to hand one block's operations to LevelDB (docs/performance.md §4, eleventh
 * pass): classic-level's array batch (`db.batch(ops, options)`) against storage.ts `writeOps` (a chained
 * batch: one native `put` per operation), on the same blocks, alternating, on a fresh LevelDB. Blocks are
 * shaped as a batch of 50 receipts (per receipt a 5.35 KB value under `v/` and 14 small index, state and
 * history entries; then the ~95 KB stored block). Prints the calling thread's CPU µs per receipt
 * (`process.threadCpuUsage`), medians over the blocks; the write itself runs on LevelDB's thread and is
 * not counted.
 *
 *   npx node dist/bench/batch-form.js [--blocks 40] [--rounds 6] [--sync] [--dir /tmp]
 */
import './quiet-logs.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDb } from '../engine/state.js';
import { type BatchOp, writeOps } from '../engine/storage.js';
import { median } from './harness.js';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '6' },
    sync: { type: 'boolean', default: false },
    dir: { type: 'string', default: tmpdir() },
  },
});

const RECEIPTS = 50;

function blockOfReceipts(): BatchOp[] {
  const ops: BatchOp[] = [];
  for (let r = 0; r < RECEIPTS; r++) {
    ops.push({ type: 'put', key: `v/${randomBytes(12).toString('hex')}`, value: randomBytes(5350) });
    for (let k = 0; k < 14; k++) {
      ops.push({
        type: 'put',
        key: `s/\u0000idx${k}\u0000${randomBytes(20).toString('hex')}`,
        value: randomBytes(60),
      });
    }
  }
  ops.push({ type: 'put', key: `b/${randomBytes(8).toString('hex')}`, value: randomBytes(95_000) });
  return ops;
}

const threadMicros = (): number => {
  const { user, system } = process.threadCpuUsage();
  return user + system;
};

const dir = await mkdtemp(join(values.dir, 'torgo-batch-form-'));
const db = await openDb(join(dir, 'db'));
try {
  const blocks = Array.from({ length: Number(values.blocks) }, blockOfReceipts);
  const options = { sync: values.sync };
  const forms = {
    'db.batch(ops)': (ops: BatchOp[]) => db.batch(ops, options),
    'writeOps (chained)': (ops: BatchOp[]) => writeOps(db, ops, options),
  };
  const perReceipt = new Map<string, number[]>(Object.keys(forms).map((name) => [name, []]));
  for (let round = 0; round <= Number(values.rounds); round++) {
    const order = round % 2 === 0 ? Object.entries(forms) : Object.entries(forms).reverse();
    for (const ops of blocks) {
      for (const [name, write] of order) {
        const before = threadMicros();
        const written = write(ops);
        const spent = threadMicros() - before;
        await written;
        if (round > 0) perReceipt.get(name)!.push(spent / RECEIPTS); // round 0 warms up
      }
    }
  }
  const base = median(perReceipt.get('db.batch(ops)')!);
  for (const [name, samples] of perReceipt) {
    const m = median(samples);
    process.stdout.write(
      `${name.padEnd(20)} ${m.toFixed(1).padStart(6)} µs per receipt on the calling thread (${(m / base).toFixed(2)}×)\n`,
    );
  }
} finally {
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
