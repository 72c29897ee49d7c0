/**
 * Steady load (issue 18, item 2): `torgo serve` fed one receipt per request at a fixed arrival rate
 * (default 150/s) by a fixed number of keep-alive clients (default 8), as a relay service feeds it.
 * Reports the gateway's CPU time per receipt (all its threads, from /proc) and the append latency,
 * p50/p99, counted from each request's scheduled arrival, so a stalled gateway cannot hide its queue
 * (no coordinated omission). Receipts are signed before the timed region.
 *
 * `--steady-rate`, `--steady-seconds`, `--steady-clients` set the load; `--steady-ledger-receipts N`
 * runs it on a ledger already holding N receipts (bulk-loaded into its state as the query suite does,
 * then compacted), to see what grows with the ledger's size (§12's soak). BENCH_SERVE_PROF=DIR profiles
 * the gateway's main thread over the timed runs only (bench/cpu-profile.cjs, started after the
 * warm-up and stopped after the last run: start-up and module loading stay out of it), written to
 * DIR/<pid>.cpuprofile (docs/performance.md §10).
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median, percentile, type Suite } from './harness.js';
import { parseReceipt } from '../core/index.js';
import {
  appenderToken,
  appenderWithKey,
  cpuMsOf,
  forkFloorServer,
  mainKernelMsOf,
  request,
  type ServeChild,
  startServe,
  stopChild,
  stopFloorServer,
  threadCpuMsOf,
} from './http.js';
import { BulkLoader, bulkStart } from './queries.js';
import { benchKey, signedReceipts } from './receipts.js';

export interface SteadyLoad {
  /** Receipts per second offered. */
  readonly rate: number;
  readonly seconds: number;
  /** Keep-alive connections (requests beyond them wait for a free one: counted in the latency). */
  readonly clients: number;
  /**
   * Appender tokens, each its own identity (default 1); receipts go to them in turn and the clients
   * are shared out among them. 8 tokens on 8 clients is the soak's shape: every identity sends one
   * request at a time, so nothing of one identity is ever in progress when its next receipt arrives.
   */
  readonly tokens?: number;
}

export interface SteadyRun {
  readonly receipts: number;
  readonly cpuMsPerReceipt: number;
  readonly p50: number;
  readonly p99: number;
  /** Receipts/s actually completed (below `rate` when the gateway cannot keep up). */
  readonly achieved: number;
  /** CPU per receipt (ms) by thread name (`main`, `libuv-worker`, …): where the process's CPU went. */
  readonly threads: Readonly<Record<string, number>>;
  /** Of the main thread's CPU per receipt (ms), its kernel part (wakes, socket writes, epoll). */
  readonly mainKernel: number;
  /** Mean receipts per ledger transaction and per block over the run (the gateway's metrics, /readyz). */
  readonly perTransaction: number;
  readonly perBlock: number;
}

/** One appender identity of the load: its token and its own keep-alive connections. */
interface Lane {
  readonly token: string;
  readonly agent: http.Agent;
}

/** Transactions (the gateway's receipts-per-transaction histogram) and blocks committed so far. */
export async function ledgerCounts(
  url: string,
  agent: http.Agent,
): Promise<{ transactions: number; blocks: number }> {
  const metrics = await request(agent, url, 'GET', '/metrics', '');
  const count = /^torgo_receipts_per_transaction_count (\d+)/m.exec(metrics.text);
  const ready = await request(agent, url, 'GET', '/readyz', '');
  return {
    transactions: Number(count?.[1] ?? Number.NaN),
    blocks: (JSON.parse(ready.text) as { height: number }).height,
  };
}

/**
 * Sends `receipts` at `rate`/s, to the lanes in turn; every answer must be 201. `counted`: the server is a
 * gateway, whose transactions and blocks are counted (`ledgerCounts`); the floor (`floorRuns`) has none.
 */
async function offer(
  url: string,
  lanes: readonly Lane[],
  receipts: readonly string[],
  rate: number,
  pid: number | undefined,
  counted = true,
): Promise<SteadyRun> {
  const noCounts = { transactions: Number.NaN, blocks: Number.NaN };
  const counts0 = counted ? await ledgerCounts(url, lanes[0]!.agent) : noCounts;
  const cpu0 = cpuMsOf(pid) ?? Number.NaN;
  const threads0 = threadCpuMsOf(pid);
  const kernel0 = mainKernelMsOf(pid) ?? Number.NaN;
  const start = performance.now();
  const latencies: number[] = [];
  const failures: string[] = [];
  const pending: Promise<void>[] = [];
  for (const [i, mu] of receipts.entries()) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const { agent, token } = lanes[i % lanes.length]!;
    pending.push(
      request(agent, url, 'POST', '/v1/receipts', token, mu, 'text/markdown').then((r) => {
        latencies.push(performance.now() - due);
        if (r.status !== 201) failures.push(`${r.status} ${r.text.slice(0, 200)}`);
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = performance.now() - start;
  const cpu = (cpuMsOf(pid) ?? Number.NaN) - cpu0;
  const mainKernel = ((mainKernelMsOf(pid) ?? Number.NaN) - kernel0) / receipts.length;
  const threads: Record<string, number> = {};
  for (const [name, ms] of threadCpuMsOf(pid)) {
    threads[name] = (ms - (threads0.get(name) ?? 0)) / receipts.length;
  }
  if (failures.length > 0) throw new Error(`${failures.length} steady appends failed: ${failures[0]}`);
  const counts = counted ? await ledgerCounts(url, lanes[0]!.agent) : noCounts;
  return {
    perTransaction: receipts.length / (counts.transactions - counts0.transactions),
    perBlock: receipts.length / (counts.blocks - counts0.blocks),
    receipts: receipts.length,
    cpuMsPerReceipt: cpu / receipts.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    achieved: (receipts.length * 1000) / elapsed,
    threads,
    mainKernel,
  };
}

const CPU_PROFILER = join(import.meta.dirname, '..', '..', 'bench', 'cpu-profile.cjs');
const PROBE = join(import.meta.dirname, '..', '..', 'bench', 'steady-probe.mjs');

export interface SteadyOptions {
  /** Sample the gateway's main thread over the timed runs into this directory. */
  readonly profileDir?: string | undefined;
  /**
   * Account the gateway's steady path over the timed runs (bench/steady-probe.mjs: hand-offs to other
   * threads by kind, main-thread CPU of the wrapped steps) into this JSON file. Not with `profileDir`.
   */
  readonly probeOut?: string | undefined;
  /** The gateway's environment (settings to compare side by side). */
  readonly env?: Readonly<Record<string, string>>;
  /** Bulk-load the ledger with this many receipts before the timed runs. */
  readonly ledgerReceipts?: number | undefined;
  /** Where the data directory goes (default the OS temp dir). */
  readonly scratch?: string | undefined;
  /** The `bin/torgo.js` to run (another tree's build, for an A/B); default this tree's. */
  readonly bin?: string | undefined;
  /** Node options for the gateway (V8 flags NODE_OPTIONS refuses, e.g. `--single-threaded-gc`). */
  readonly nodeArgs?: readonly string[] | undefined;
}

/**
 * Stops `serve`, writes `count` bulk receipts into its ledger's state (checked first against the
 * warm-up's contract-written receipts, then compacted: a ledger that grew over weeks), and starts
 * `torgo serve` again on the same data directory.
 */
async function fillLedger(
  dir: string,
  serve: ServeChild,
  options: Parameters<typeof startServe>[2],
  warmUp: readonly string[],
  count: number,
): Promise<ServeChild> {
  const ready = await request(new http.Agent(), serve.url, 'GET', '/readyz', '');
  const height = (JSON.parse(ready.text) as { height: number }).height;
  await stopChild(serve);
  const t0 = bulkStart(count);
  const probeIds = warmUp.slice(0, 20).map((mu) => parseReceipt(mu).document.fields.id);
  const loader = await BulkLoader.open(join(dir, 'data', 'ledger'), probeIds, warmUp[0]!, height, t0);
  try {
    const load = await loader.load(0, count);
    process.stderr.write(
      `bench: steady: ${count} receipts bulk-loaded in ${load.seconds.toFixed(0)} s, compacted in ${(load.compactedMs / 1000).toFixed(0)} s\n`,
    );
  } finally {
    await loader.close();
  }
  return startServe(dir, [], options);
}

/** The gateway's Node options and environment: the CPU profiler or the accounting probe preloaded, if asked. */
function instrumented(options: SteadyOptions, env: Readonly<Record<string, string>>) {
  if (options.profileDir) {
    return {
      nodeArgs: ['--require', CPU_PROFILER],
      env: { ...env, TORGO_CPU_PROFILE_DIR: options.profileDir },
    };
  }
  if (options.probeOut) {
    return {
      nodeArgs: ['--import', PROBE],
      env: {
        ...env,
        TORGO_PROBE_OUT: options.probeOut,
        // The classes it wraps are those of the build that runs (another tree's, for an A/B).
        TORGO_PROBE_DIST: options.bin
          ? join(options.bin, '..', '..', 'dist')
          : join(import.meta.dirname, '..'),
      },
    };
  }
  return { env, ...(options.nodeArgs?.length ? { nodeArgs: [...options.nodeArgs] } : {}) };
}

/**
 * A fresh `torgo serve`, an appender token and the bench key registered; runs `load` `runs` times.
 * With `profileDir`, the gateway's main thread is sampled over the timed runs only.
 */
/** The load's connections: one keep-alive agent per token, the clients shared out among them. */
function loadAgents(load: SteadyLoad): http.Agent[] {
  const tokens = load.tokens ?? 1;
  return Array.from(
    { length: tokens },
    () => new http.Agent({ keepAlive: true, maxSockets: Math.max(1, Math.round(load.clients / tokens)) }),
  );
}

export async function steadyRuns(load: SteadyLoad, runs: number, options: SteadyOptions = {}) {
  const { env = {}, ledgerReceipts } = options;
  const dir = await mkdtemp(join(options.scratch ?? tmpdir(), 'torgo-bench-steady-'));
  const tokens = load.tokens ?? 1;
  const agents = loadAgents(load);
  const agent = agents[0]!;
  const serveOptions = { bin: options.bin, ...instrumented(options, env) };
  let serve = await startServe(dir, [], serveOptions);
  // SIGUSR2 starts the sampling (or accounting), the next one writes it (bench/cpu-profile.cjs, steady-probe.mjs).
  const toggleProfile = async () => {
    if (!options.profileDir && !options.probeOut) return;
    serve.child.kill('SIGUSR2');
    await sleep(200);
  };
  try {
    const token = await appenderWithKey(agent, serve.url, serve.admin, 'bench', benchKey);
    const lanes: Lane[] = [{ token, agent }];
    for (let t = 1; t < tokens; t++) {
      lanes.push({
        token: await appenderToken(agent, serve.url, serve.admin, `bench-${t}`),
        agent: agents[t]!,
      });
    }
    const n = Math.max(1, Math.round(load.rate * load.seconds));
    // Warm-up (JIT, connections, key cache), then the timed runs.
    const warmUp = await signedReceipts(Math.min(n, 200));
    await offer(serve.url, lanes, warmUp, load.rate, serve.child.pid);
    if (ledgerReceipts) {
      for (const a of agents) a.destroy();
      serve = await fillLedger(dir, serve, serveOptions, warmUp, ledgerReceipts);
      const again = await signedReceipts(Math.min(n, 200));
      await offer(serve.url, lanes, again, load.rate, serve.child.pid);
    }
    const batches = [];
    for (let run = 0; run < runs; run++) batches.push(await signedReceipts(n));
    const results: SteadyRun[] = [];
    await toggleProfile();
    for (const receipts of batches) {
      results.push(await offer(serve.url, lanes, receipts, load.rate, serve.child.pid));
    }
    await toggleProfile();
    return results;
  } finally {
    await stopChild(serve);
    for (const a of agents) a.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

const FLOOR_SERVER = join(import.meta.dirname, 'floor-server.js');

/**
 * The floor of the steady suite (issue 18, item 2): bench/floor-server.ts — `node:http`, the receipt parsed
 * and verified by core, appended and `fdatasync`'d, nothing else — fed the steady suite's load (the same
 * receipts, rate, clients and pacing: `offer`), its CPU per receipt read from /proc as the gateway's is.
 * Measured in the same run as the gateway, it is the limit the gateway's CPU per receipt is read against:
 * what this machine charges any Node server for a durable, verified append at that arrival rate.
 */
export async function floorRuns(load: SteadyLoad, runs: number, scratch?: string): Promise<SteadyRun[]> {
  const dir = await mkdtemp(join(scratch ?? tmpdir(), 'torgo-bench-floor-'));
  const { child, url } = await forkFloorServer(FLOOR_SERVER, dir);
  // The connections the gateway's runs have.
  const agents = loadAgents(load);
  try {
    const lanes: Lane[] = agents.map((agent) => ({ agent, token: '' }));
    const n = Math.max(1, Math.round(load.rate * load.seconds));
    await offer(url, lanes, await signedReceipts(Math.min(n, 200)), load.rate, child.pid, false);
    const results: SteadyRun[] = [];
    for (let run = 0; run < runs; run++) {
      const receipts = await signedReceipts(n);
      results.push(await offer(url, lanes, receipts, load.rate, child.pid, false));
    }
    return results;
  } finally {
    await stopFloorServer(child);
    for (const a of agents) a.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Command-line options (node:util parseArgs) that shape a steady load, for the A/B and accounting scripts. */
export const steadyLoadArgs = {
  seconds: { type: 'string', default: '8' },
  rate: { type: 'string', default: '150' },
  clients: { type: 'string', default: '8' },
  tokens: { type: 'string', default: '1' },
} as const;

/** The load `steadyLoadArgs` parsed into. */
export function steadyLoadOf(values: {
  seconds: string;
  rate: string;
  clients: string;
  tokens: string;
}): SteadyLoad {
  return {
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    clients: Number(values.clients),
    tokens: Number(values.tokens),
  };
}

/** One line of medians over runs: CPU per receipt (by thread), receipts per transaction and block, p50/p99. */
export function steadySummary(runs: readonly SteadyRun[]): string {
  const m = (f: (r: SteadyRun) => number) => median(runs.map(f));
  return (
    `${m((r) => r.cpuMsPerReceipt).toFixed(2)} ms/receipt (${byThread(runs)}; main's kernel part ${m((r) => r.mainKernel).toFixed(2)}); ` +
    `per tx ${m((r) => r.perTransaction).toFixed(2)}, per block ${m((r) => r.perBlock).toFixed(2)}; ` +
    `p50 ${m((r) => r.p50).toFixed(1)} p99 ${m((r) => r.p99).toFixed(1)} ms; ${m((r) => r.achieved).toFixed(0)}/s`
  );
}

/** Median CPU per receipt of each thread name over the runs, largest first: "main 2.10, libuv-worker 0.40, …". */
export function byThread(results: readonly SteadyRun[]): string {
  const names = new Set(results.flatMap((r) => Object.keys(r.threads)));
  return [...names]
    .map((name) => [name, median(results.map((r) => r.threads[name] ?? 0))] as const)
    .filter(([, ms]) => ms >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
    .join(', ');
}

export const steadySuite: Suite = async ({ smoke, steady, scratch }) => {
  const load: SteadyLoad = {
    rate: steady?.rate ?? 150,
    seconds: smoke ? 0.2 : (steady?.seconds ?? 20),
    clients: steady?.clients ?? 8,
    tokens: steady?.tokens ?? 1,
  };
  const runs = smoke ? 1 : 3;
  const results = await steadyRuns(load, runs, {
    profileDir: process.env['BENCH_SERVE_PROF'],
    ledgerReceipts: steady?.ledgerReceipts,
    scratch,
  });
  // The floor at the same load, right after: what this machine charges for a durable, verified append.
  const floor = await floorRuns(load, runs, scratch);
  const floorMs = median(floor.map((r) => r.cpuMsPerReceipt));
  const gatewayMs = median(results.map((r) => r.cpuMsPerReceipt));
  const ledger = steady?.ledgerReceipts
    ? `, on a ledger of ${steady.ledgerReceipts.toLocaleString('en-US')} bulk-loaded receipts`
    : '';
  const identities = load.tokens === 1 ? '' : ` of ${load.tokens} tokens`;
  const what = `${load.rate}/s offered, ${load.clients} keep-alive clients${identities}, one receipt per request${ledger}, ${results[0]!.receipts} receipts per run, median of ${runs}`;
  return [
    {
      suite: 'steady',
      name: 'gateway CPU per receipt at a steady rate',
      value: gatewayMs,
      unit: 'ms',
      limit: { name: 'target', value: 1.5 },
      note: `${what}; torgo serve process CPU (all threads) / receipts; ${(gatewayMs / floorMs).toFixed(2)}× the floor below; by thread: ${byThread(results)}; receipts per transaction ${median(results.map((r) => r.perTransaction)).toFixed(2)}, per block ${median(results.map((r) => r.perBlock)).toFixed(2)}`,
    },
    {
      suite: 'steady',
      name: 'the floor: CPU per receipt of a bare durable verified append server, same load',
      value: floorMs,
      unit: 'ms',
      limit: { name: 'target', value: 1.5 },
      note: `bench/floor-server.ts: node:http, the .mu parsed and its ML-DSA-65 signature verified by core (native), appended to a file and fdatasync'd (one sync per group of arrivals), 201; no framework, auth, ledger, contract, blocks or log; the same receipts, rate and clients as above, right after; each run ${floor.map((r) => r.cpuMsPerReceipt.toFixed(2)).join(', ')} ms; p50 ${median(floor.map((r) => r.p50)).toFixed(1)} ms, p99 ${median(floor.map((r) => r.p99)).toFixed(1)} ms`,
    },
    {
      suite: 'steady',
      name: 'append latency p50 / p99 at a steady rate',
      value: median(results.map((r) => r.p99)),
      unit: 'ms (p99)',
      limit: { name: 'target p99', value: 50 },
      note: `p50 ${median(results.map((r) => r.p50)).toFixed(1)} ms; from each request's scheduled arrival; achieved ${median(results.map((r) => r.achieved)).toFixed(0)}/s`,
    },
  ];
};
