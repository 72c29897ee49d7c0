/**
 * The HTTP suite's two gateway scenarios (`POST /v1/receipts` at c=64, `POST /v1/receipts/batch` of 50 at
 * c=4) accounted per receipt by thread of `torgo serve` (/proc/<pid>/task/<tid>/stat), next to the engine
 * alone (appendReceipt c=64 and appendReceipts of 50 c=4 in this process, no pre-check: what http.ts
 * compares against) in the same minutes. With `--bin` given twice or more, the builds alternate round by
 * round (an A/B of two worktrees); with `--prof DIR`, each gateway's main thread is sampled over the timed
 * regions only (bench/cpu-profile.cjs) and its profile summarised by area.
 *
 *   npx node dist/bench/http-account.js [--bin /work/base/bin/torgo.js --bin bin/torgo.js] [--rounds 3]
 *     [--receipts 600] [--batch-receipts 1000] [--prof DIR] [--no-engine]
 */
import './quiet-logs.js';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { drive, makeReceipts, openBenchLedger } from './engine.js';
import { median } from './harness.js';
import {
  appendedInBatch,
  appenderWithKey,
  createdOne,
  loadChecked,
  request,
  startServe,
  stopChild,
  threadCpuMsOf,
} from './http.js';
import { benchKey } from './receipts.js';

const { values } = parseArgs({
  options: {
    bin: { type: 'string', multiple: true },
    /** One per --bin, in order: `NAME=VALUE[,NAME=VALUE]` added to that gateway's environment ('' for none). */
    env: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '3' },
    receipts: { type: 'string', default: '600' },
    'batch-receipts': { type: 'string', default: '1000' },
    prof: { type: 'string' },
    'no-engine': { type: 'boolean', default: false },
  },
});
const bins = (values.bin ?? [join(import.meta.dirname, '..', '..', 'bin', 'torgo.js')]).map((b) =>
  resolve(b),
);
const envs = bins.map((_, i) =>
  Object.fromEntries(
    (values.env?.[i] ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  ),
);
const rounds = Number(values.rounds);
const single = Number(values.receipts);
const batchTotal = Number(values['batch-receipts']);
const BATCH = 50;
/** Single receipts appended before the timed regions (the engine's warm-up too). */
const WARM = 1200;
const CPU_PROFILER = join(import.meta.dirname, '..', '..', 'bench', 'cpu-profile.cjs');

type Threads = Map<string, number>;
/** µs per receipt by thread name, between two /proc readings. */
function perReceipt(before: Threads, after: Threads, receipts: number): Threads {
  const out: Threads = new Map();
  for (const [name, ms] of after) out.set(name, ((ms - (before.get(name) ?? 0)) * 1000) / receipts);
  return out;
}
/** Thread names folded into the groups a reader can tell apart. */
function grouped(t: Threads): Record<string, number> {
  const g: Record<string, number> = { all: 0, main: 0, workers: 0, libuv: 0, v8: 0, other: 0 };
  for (const [name, us] of t) {
    g['all']! += us;
    if (name === 'main') g['main']! += us;
    else if (/V8|DelayedTask/.test(name)) g['v8']! += us;
    else if (/^WorkerThread/.test(name)) g['workers']! += us;
    else if (/libuv/.test(name)) g['libuv']! += us;
    else g['other']! += us;
    g[`(${name})`] = (g[`(${name})`] ?? 0) + us;
  }
  return g;
}

const results = new Map<string, Record<string, number>[]>();
function record(key: string, g: Record<string, number>): void {
  const list = results.get(key) ?? [];
  list.push(g);
  results.set(key, list);
}

/** Stops the sampler of `pid` and renames its profile after the scenario `key`, once written. */
async function savedProfile(dir: string, pid: number, key: string): Promise<void> {
  process.kill(pid, 'SIGUSR2');
  const file = join(dir, `${pid}.cpuprofile`);
  for (let i = 0; i < 200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 200));
  renameSync(file, join(dir, `${key.replaceAll(/[^a-z0-9]+/gi, '-')}.cpuprofile`));
}

async function gatewayRound(
  bin: string,
  env: Record<string, string>,
  label: string,
  round: number,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'torgo-bench-account-'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const prof = values.prof;
  const serve = await startServe(dir, [], {
    bin,
    env: { ...env, ...(prof ? { TORGO_CPU_PROFILE_DIR: join(prof, `${label}-${round}`) } : {}) },
    ...(prof ? { nodeArgs: ['--require', CPU_PROFILER] } : {}),
  });
  const pid = serve.child.pid;
  try {
    const token = await appenderWithKey(agent, serve.url, serve.admin, 'account', benchKey);
    // Warm-up as http.ts's runs before c=64 warm its gateway: connections, JIT, caches, a heap of that age.
    const warm = makeReceipts(WARM);
    await drive(warm.length, 16, (i) =>
      request(agent, serve.url, 'POST', '/v1/receipts', token, warm[i]!, 'text/markdown'),
    );
    const warmBatch = makeReceipts(4 * BATCH);
    await drive(4, 4, (i) =>
      request(
        agent,
        serve.url,
        'POST',
        '/v1/receipts/batch',
        token,
        JSON.stringify({ receipts: warmBatch.slice(i * BATCH, (i + 1) * BATCH) }),
      ),
    );
    const timed = async (key: string, receipts: number, run: () => Promise<unknown>) => {
      if (prof) serve.child.kill('SIGUSR2');
      const before = threadCpuMsOf(pid);
      const t = performance.now();
      await run();
      const ms = performance.now() - t;
      const g = grouped(perReceipt(before, threadCpuMsOf(pid), receipts));
      g['rate'] = (receipts * 1000) / ms;
      if (prof) await savedProfile(join(prof, `${label}-${round}`), pid!, key);
      record(`${key} ${label}`, g);
    };
    const bodies = makeReceipts(single).map((mu) => Buffer.from(mu));
    await timed('single c=64', single, () =>
      loadChecked(
        {
          url: serve.url,
          token,
          path: '/v1/receipts',
          type: 'text/markdown',
          bodies,
          connections: 64,
          client: 'raw',
        },
        single,
        createdOne,
      ),
    );
    const all = makeReceipts(batchTotal);
    const batches = Array.from({ length: batchTotal / BATCH }, (_, i) =>
      Buffer.from(JSON.stringify({ receipts: all.slice(i * BATCH, (i + 1) * BATCH) })),
    );
    await timed('batch 50 c=4', batchTotal, () =>
      loadChecked(
        {
          url: serve.url,
          token,
          path: '/v1/receipts/batch',
          type: 'application/json',
          bodies: batches,
          connections: 4,
          client: 'raw',
        },
        batchTotal,
        (status, text) => appendedInBatch(status, text, BATCH),
      ),
    );
  } finally {
    await stopChild(serve);
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

async function engineRound(): Promise<void> {
  const bench = await openBenchLedger();
  try {
    const warm = makeReceipts(WARM);
    await drive(warm.length, 16, (i) => bench.ledger.submit(bench.appender, 'appendReceipt', [warm[i]!]));
    const receipts = makeReceipts(single);
    let before = threadCpuMsOf(process.pid);
    let t = performance.now();
    await drive(single, 64, (i) => bench.ledger.submit(bench.appender, 'appendReceipt', [receipts[i]!]));
    let g = grouped(perReceipt(before, threadCpuMsOf(process.pid), single));
    g['rate'] = (single * 1000) / (performance.now() - t);
    record('single c=64 engine', g);
    const all = makeReceipts(batchTotal);
    const batches = Array.from({ length: batchTotal / BATCH }, (_, i) =>
      all.slice(i * BATCH, (i + 1) * BATCH),
    );
    before = threadCpuMsOf(process.pid);
    t = performance.now();
    // The batch's JSON inside the timed region, as http.ts has it.
    await drive(batches.length, 4, (i) =>
      bench.ledger.submit(bench.appender, 'appendReceipts', [JSON.stringify(batches[i]!)]),
    );
    g = grouped(perReceipt(before, threadCpuMsOf(process.pid), batchTotal));
    g['rate'] = (batchTotal * 1000) / (performance.now() - t);
    record('batch 50 c=4 engine', g);
  } finally {
    await bench.close();
  }
}

const labels = bins.map((_, i) => (bins.length === 1 ? 'gateway' : `gw${i}`));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? bins.map((_, i) => i) : bins.map((_, i) => i).reverse();
  for (const i of order) await gatewayRound(bins[i]!, envs[i]!, labels[i]!, round);
  if (!values['no-engine']) await engineRound();
  process.stderr.write(
    `round ${round + 1} done, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
  );
}
for (const [i, b] of bins.entries()) process.stdout.write(`${labels[i]}: ${b} ${values.env?.[i] ?? ''}\n`);
const cols = ['all', 'main', 'workers', 'libuv', 'v8', 'other', 'rate'];
process.stdout.write(`\nmedian of ${rounds} (µs CPU per receipt by thread; rate receipts/s)\n`);
process.stdout.write(`${'scenario'.padEnd(26)}${cols.map((c) => c.padStart(9)).join('')}   runs(all)\n`);
for (const [key, list] of [...results].sort()) {
  const med = cols.map((c) => median(list.map((g) => g[c]!)));
  process.stdout.write(
    `${key.padEnd(26)}${med.map((v) => v.toFixed(0).padStart(9)).join('')}   ${list.map((g) => g['all']!.toFixed(0)).join('/')}\n`,
  );
  if (process.env['ACCOUNT_THREADS']) {
    const names = Object.keys(list[0]!).filter((k) => k.startsWith('('));
    process.stdout.write(
      `    ${names.map((k) => `${k} ${median(list.map((g) => g[k] ?? 0)).toFixed(0)}`).join(', ')}\n`,
    );
  }
}
