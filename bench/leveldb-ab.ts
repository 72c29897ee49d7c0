/**
 * LevelDB settings A/B on a growing ledger: what the embedded ledger's LevelDB costs per receipt as the
 * ledger grows, for each setting, alternating. Each run appends the same signed receipts to a fresh
 * ledger (batches of 50, 4 in flight, pre-checked on the workers: the `embedded` suite's batch
 * scenario) and reports, per quarter of the run, CPU per receipt by thread name (/proc ticks: `main`,
 * `WorkerThread`, `libuv-worker` — LevelDB's writes and its compaction thread —, `V8Worker`) and bytes
 * the process wrote to disk per receipt (/proc/self/io, the log, flushes and compactions).
 *
 *   npx node dist/bench/leveldb-ab.js [--receipts 100000] [--write-buffer-mib 4,32] [--rounds 2] [--scratch DIR]
 *
 * Compactions lag the writes that cause them; a run's last quarter is the closest to the steady cost.
 */
import './quiet-logs.js';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { type AppendCall, appendCalls, drive, openBenchLedger } from './engine.js';
import { bytesWritten, median } from './harness.js';
import { threadCpuMsOf } from './http.js';
import { signedReceipts } from './receipts.js';

const BATCH = 50;
const CONCURRENCY = 4;
const QUARTERS = 4;
/** Receipts signed per round of signing: bounds what the signing workers hold at once. */
const SIGN_ROUND = 5000;
const THREADS = ['main', 'WorkerThread', 'libuv-worker', 'V8Worker'] as const;

interface Quarter {
  /** ms of CPU per receipt by thread name (THREADS, then `all`). */
  readonly cpu: Record<string, number>;
  /** KiB written to disk per receipt. */
  readonly writtenKiB: number;
}

function cpuBetween(before: Map<string, number>, after: Map<string, number>, receipts: number) {
  const out: Record<string, number> = { all: 0 };
  for (const [name, ms] of after) {
    const per = (ms - (before.get(name) ?? 0)) / receipts;
    out.all! += per;
    const known = THREADS.find((t) => name === t);
    out[known ?? 'other'] = (out[known ?? 'other'] ?? 0) + per;
  }
  return out;
}

/** One run: the calls appended to a fresh ledger with this write buffer, measured by quarter. */
async function run(
  calls: readonly AppendCall[],
  writeBufferMiB: number,
  scratch: string,
): Promise<Quarter[]> {
  const { append, close } = await openBenchLedger({
    scratch,
    preCheck: 'worker',
    writeBufferBytes: writeBufferMiB * 2 ** 20,
  });
  const quarters: Quarter[] = [];
  try {
    const size = Math.ceil(calls.length / QUARTERS);
    for (let q = 0; q < QUARTERS; q++) {
      const part = calls.slice(q * size, (q + 1) * size);
      const receipts = part.length * BATCH;
      const threads0 = threadCpuMsOf(process.pid);
      const written0 = bytesWritten();
      await drive(part.length, CONCURRENCY, (i) => append(part[i]!));
      quarters.push({
        cpu: cpuBetween(threads0, threadCpuMsOf(process.pid), receipts),
        writtenKiB: (bytesWritten() - written0) / receipts / 1024,
      });
    }
  } finally {
    await close();
  }
  return quarters;
}

function describe(q: Quarter): string {
  const cpu = ['all', ...THREADS].map((t) => `${t} ${(q.cpu[t] ?? 0).toFixed(3)}`).join(', ');
  return `${cpu} ms; written ${q.writtenKiB.toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      receipts: { type: 'string', default: '100000' },
      'write-buffer-mib': { type: 'string', default: '4,32' },
      rounds: { type: 'string', default: '2' },
      scratch: { type: 'string', default: tmpdir() },
    },
  });
  const total = Math.ceil(Number(values.receipts) / BATCH) * BATCH;
  const settings = values['write-buffer-mib'].split(',').map(Number);
  if (settings.some((s) => !Number.isInteger(s) || s <= 0))
    throw new Error('--write-buffer-mib: positive integers');
  const signed: string[] = [];
  for (let start = 0; start < total; start += SIGN_ROUND) {
    signed.push(...(await signedReceipts(Math.min(SIGN_ROUND, total - start))));
  }
  const calls = appendCalls(signed, BATCH);
  const results = new Map<number, Quarter[][]>(settings.map((s) => [s, []]));
  for (let round = 0; round < Number(values.rounds); round++) {
    // Alternate the order round by round, so neither setting always runs second.
    const order = round % 2 === 0 ? settings : [...settings].reverse();
    for (const mib of order) {
      const quarters = await run(calls, mib, values.scratch);
      results.get(mib)!.push(quarters);
      console.log(`round ${round + 1}, write buffer ${mib} MiB:`);
      for (const [i, q] of quarters.entries()) console.log(`  quarter ${i + 1}: ${describe(q)}`);
    }
  }
  console.log(`\nmedians of ${values.rounds} rounds, ${total} receipts per run (ms of CPU per receipt):`);
  for (const [mib, runs] of results) {
    for (let q = 0; q < QUARTERS; q++) {
      const pick = (f: (x: Quarter) => number) => median(runs.map((r) => f(r[q]!)));
      const cpu = Object.fromEntries(['all', ...THREADS].map((t) => [t, pick((x) => x.cpu[t] ?? 0)]));
      console.log(
        `  ${mib} MiB, quarter ${q + 1}: ${describe({ cpu, writtenKiB: pick((x) => x.writtenKiB) })}`,
      );
    }
  }
}

await main();
