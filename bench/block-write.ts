/**
 * What one block's LevelDB write costs by thread at a trickle (docs/performance.md §10, eighth round):
 * batches shaped like a one-receipt block (19 puts, ~10 KB: a 5 KB value, the ~3.8 KB stored block, index
 * and history entries) written one at a time with a pause between them, with or without `sync`, on
 * a fresh LevelDB; prints CPU µs per batch by thread from /proc (Linux), over `--batches` batches.
 *
 *   npx node dist/bench/block-write.js [--sync] [--pause-ms 6] [--batches 1000] [--dir /tmp]
 */
import './quiet-logs.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { openDb } from '../engine/state.js';
import { threadCpuMsOf } from './http.js';

const { values } = parseArgs({
  options: {
    sync: { type: 'boolean', default: false },
    'pause-ms': { type: 'string', default: '6' },
    batches: { type: 'string', default: '1000' },
    dir: { type: 'string', default: tmpdir() },
  },
});

/** The puts of block `n`: sizes as the steady suite's one-receipt blocks (not their content). */
function blockLike(n: number): { type: 'put'; key: string; value: Buffer }[] {
  const bytes = (length: number) => Buffer.alloc(length, n % 251);
  const num = String(n).padStart(12, '0');
  const ops = [
    { type: 'put' as const, key: `v/${num}00000000`, value: bytes(5200) },
    { type: 'put' as const, key: `t/${'a'.repeat(64)}${n}`, value: bytes(20) },
  ];
  for (let i = 0; i < 15; i++) {
    ops.push({ type: 'put', key: `h/idx~${i}~source~subject~${'x'.repeat(40)}${n}`, value: bytes(60) });
  }
  ops.push({ type: 'put', key: `b/${num}`, value: bytes(3800) });
  ops.push({ type: 'put', key: 'm/height', value: Buffer.from(String(n)) });
  return ops;
}

const dir = await mkdtemp(join(values.dir, 'torgo-block-write-'));
const db = await openDb(dir);
const pauseMs = Number(values['pause-ms']);
const count = Number(values.batches);
let n = 0;
try {
  for (let i = 0; i < 100; i++) await db.batch(blockLike(n++), { sync: values.sync });
  const before = threadCpuMsOf(process.pid);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    await db.batch(blockLike(n++), { sync: values.sync });
    if (pauseMs > 0) await sleep(pauseMs);
  }
  const wall = (performance.now() - start) / count;
  const per = [...threadCpuMsOf(process.pid)]
    .map(([name, ms]) => [name, ((ms - (before.get(name) ?? 0)) * 1000) / count] as const)
    .filter(([, us]) => us >= 1)
    .map(([name, us]) => `${name} ${us.toFixed(0)}`)
    .join(', ');
  process.stdout.write(
    `sync ${values.sync}, pause ${pauseMs} ms: CPU µs per batch by thread: ${per}; wall ${wall.toFixed(2)} ms per batch\n`,
  );
} finally {
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
