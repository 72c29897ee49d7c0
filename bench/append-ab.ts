/**
 * Embedded appends for A/B comparisons of process-wide settings (V8's young generation, LevelDB's block
 * cache): the `embedded` suite's single-receipt and batch scenarios, reported as CPU time per receipt
 * (the process's, all threads, and the main thread's) and the collections V8 made, which a loaded
 * machine inflates far less than receipts/s. Run it alternately with each setting:
 *
 *   npx node [--max-semi-space-size=N] dist/bench/append-ab.js [--receipts 1500] [--runs 1] [--scratch DIR]
 *     [--precheck worker|thread|none] [--only 'c=64,batch']
 *
 * `--precheck` (default `worker`, what the embedded gateway does): how receipts are checked before the
 * ledger (bench/engine.ts `PreCheck`); alternate `worker` and `thread` to measure the parse's move.
 */
import './quiet-logs.js';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { appendCalls, drive, openBenchLedger, type PreCheck, verifyOneThread } from './engine.js';
import { collectionSummary, observeCollections } from './gc.js';
import { median } from './harness.js';
import { threadCpuMsOf } from './http.js';
import { signedReceipts } from './receipts.js';

interface Scenario {
  readonly name: string;
  readonly concurrency: number;
  readonly batch: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'append single, c=16', concurrency: 16, batch: 1 },
  { name: 'append single, c=64', concurrency: 64, batch: 1 },
  { name: 'append batch of 50, c=4', concurrency: 4, batch: 50 },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      receipts: { type: 'string', default: '1500' },
      runs: { type: 'string', default: '1' },
      scratch: { type: 'string', default: tmpdir() },
      precheck: { type: 'string', default: 'worker' },
      only: { type: 'string' },
    },
  });
  // `--only 'c=64,batch'`: the scenarios whose name holds one of these.
  const only = values.only?.split(',');
  const scenarios = SCENARIOS.filter((s) => !only || only.some((part) => s.name.includes(part)));
  const receipts = Number(values.receipts);
  const preCheck = values.precheck as PreCheck;
  const { append, close } = await openBenchLedger({ scratch: values.scratch, preCheck });
  try {
    const warm = appendCalls(await signedReceipts(400), 1);
    await drive(warm.length, 16, (i) => append(warm[i]!));
    for (const s of scenarios) {
      const cpu: number[] = [];
      const main: number[] = [];
      const ratios: number[] = [];
      for (let run = 0; run < Number(values.runs); run++) {
        const calls = appendCalls(await signedReceipts(receipts), s.batch);
        const raw = verifyOneThread(false); // the yardstick, next to the run
        const started = performance.now();
        const observed = observeCollections();
        const cpu0 = process.cpuUsage();
        const main0 = process.threadCpuUsage();
        const threads0 = threadCpuMsOf(process.pid);
        await drive(calls.length, s.concurrency, (i) => append(calls[i]!));
        const used = process.cpuUsage(cpu0);
        const usedMain = process.threadCpuUsage(main0);
        const byThread = perReceipt(threads0, threadCpuMsOf(process.pid), receipts);
        const rate = (receipts * 1000) / (performance.now() - started);
        await new Promise((resolve) => setImmediate(resolve)); // the observer's last entries
        observed.stop();
        cpu.push((used.user + used.system) / 1000 / receipts);
        main.push((usedMain.user + usedMain.system) / 1000 / receipts);
        ratios.push(rate / raw);
        console.log(
          `${s.name} (pre-check ${preCheck}) run ${run + 1}: ${rate.toFixed(0)} receipts/s, ${ratios.at(-1)!.toFixed(2)}× of 1-thread verify (${raw.toFixed(0)}/s); CPU ${cpu.at(-1)!.toFixed(3)} ms/receipt (main thread ${main.at(-1)!.toFixed(3)}; by thread name, /proc ticks: ${byThread}); ${collectionSummary(observed.collections, 'major')}, ${collectionSummary(observed.collections, 'minor')}`,
        );
      }
      console.log(
        `${s.name} (pre-check ${preCheck}): CPU p50 ${median(cpu).toFixed(3)} ms/receipt, main thread ${median(main).toFixed(3)}; ratio to 1-thread verify p50 ${median(ratios).toFixed(2)}`,
      );
    }
  } finally {
    await close();
  }
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  console.log(`new space at the end ${((newSpace?.space_size ?? 0) / 2 ** 20).toFixed(0)} MiB`);
}

/** CPU per receipt (ms) by thread name between two `threadCpuMsOf` readings, largest first. */
function perReceipt(before: Map<string, number>, after: Map<string, number>, receipts: number): string {
  return [...after]
    .map(([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / receipts] as const)
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${ms.toFixed(3)}`)
    .join(', ');
}

await main();
