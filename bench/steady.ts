/**
 * Steady load (issue 18, item 2): `torgo serve` fed one receipt per request at a fixed arrival rate
 * (default 150/s) by a fixed number of keep-alive clients (default 8), as a relay service feeds it.
 * Reports the gateway's CPU time per receipt (all its threads, from /proc) and the append latency,
 * p50/p99, counted from each request's scheduled arrival, so a stalled gateway cannot hide its queue
 * (no coordinated omission). Receipts are signed before the timed region.
 *
 * `--steady-rate`, `--steady-seconds`, `--steady-clients` set the load; BENCH_SERVE_PROF=DIR profiles
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
import { appenderWithKey, cpuMsOf, request, startServe, stopChild } from './http.js';
import { benchKey, signedReceipts } from './receipts.js';

export interface SteadyLoad {
  /** Receipts per second offered. */
  readonly rate: number;
  readonly seconds: number;
  /** Keep-alive connections (requests beyond them wait for a free one: counted in the latency). */
  readonly clients: number;
}

export interface SteadyRun {
  readonly receipts: number;
  readonly cpuMsPerReceipt: number;
  readonly p50: number;
  readonly p99: number;
  /** Receipts/s actually completed (below `rate` when the gateway cannot keep up). */
  readonly achieved: number;
}

/** Sends `receipts` at `rate`/s over `agent`; every answer must be 201. */
async function offer(
  url: string,
  token: string,
  agent: http.Agent,
  receipts: readonly string[],
  rate: number,
  pid: number | undefined,
): Promise<SteadyRun> {
  const cpu0 = cpuMsOf(pid) ?? Number.NaN;
  const start = performance.now();
  const latencies: number[] = [];
  const failures: string[] = [];
  const pending: Promise<void>[] = [];
  for (const [i, mu] of receipts.entries()) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
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
  if (failures.length > 0) throw new Error(`${failures.length} steady appends failed: ${failures[0]}`);
  return {
    receipts: receipts.length,
    cpuMsPerReceipt: cpu / receipts.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    achieved: (receipts.length * 1000) / elapsed,
  };
}

const CPU_PROFILER = join(import.meta.dirname, '..', '..', 'bench', 'cpu-profile.cjs');

/**
 * A fresh `torgo serve`, an appender token and the bench key registered; runs `load` `runs` times.
 * With `profileDir`, the gateway's main thread is sampled over the timed runs only.
 */
export async function steadyRuns(
  load: SteadyLoad,
  runs: number,
  profileDir?: string,
  env: Readonly<Record<string, string>> = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'torgo-bench-steady-'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: load.clients });
  const serve = await startServe(
    dir,
    [],
    profileDir
      ? { nodeArgs: ['--require', CPU_PROFILER], env: { ...env, TORGO_CPU_PROFILE_DIR: profileDir } }
      : { env },
  );
  // SIGUSR2 starts the sampling, the next one writes the profile (bench/cpu-profile.cjs).
  const toggleProfile = async () => {
    if (!profileDir) return;
    serve.child.kill('SIGUSR2');
    await sleep(200);
  };
  try {
    const token = await appenderWithKey(agent, serve.url, serve.admin, 'bench', benchKey);
    const n = Math.max(1, Math.round(load.rate * load.seconds));
    // Warm-up (JIT, connections, key cache), then the timed runs.
    await offer(serve.url, token, agent, await signedReceipts(Math.min(n, 200)), load.rate, serve.child.pid);
    const batches = [];
    for (let run = 0; run < runs; run++) batches.push(await signedReceipts(n));
    const results: SteadyRun[] = [];
    await toggleProfile();
    for (const receipts of batches) {
      results.push(await offer(serve.url, token, agent, receipts, load.rate, serve.child.pid));
    }
    await toggleProfile();
    return results;
  } finally {
    await stopChild(serve);
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

export const steadySuite: Suite = async ({ smoke, steady }) => {
  const load: SteadyLoad = {
    rate: steady?.rate ?? 150,
    seconds: smoke ? 0.2 : (steady?.seconds ?? 20),
    clients: steady?.clients ?? 8,
  };
  const runs = smoke ? 1 : 3;
  const results = await steadyRuns(load, runs, process.env['BENCH_SERVE_PROF']);
  const what = `${load.rate}/s offered, ${load.clients} keep-alive clients, one receipt per request, ${results[0]!.receipts} receipts per run, median of ${runs}`;
  return [
    {
      suite: 'steady',
      name: 'gateway CPU per receipt at a steady rate',
      value: median(results.map((r) => r.cpuMsPerReceipt)),
      unit: 'ms',
      limit: { name: 'target', value: 1.5 },
      note: `${what}; torgo serve process CPU (all threads) / receipts`,
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
