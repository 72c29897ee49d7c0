/**
 * An export beside appends (issue 18, item 2: "no interval over 100 ms"): `torgo serve` (child process,
 * embedded ledger) holding N receipts of one source (`--bundle-receipts`, default 20,000), fed one
 * receipt per request at a steady rate (`--rate`, default 150/s) by 8 keep-alive clients, each its own
 * identity, as the soak does; after a quiet lead-in, one `GET /v1/export` of that source runs under the
 * load; three such rounds on the same server (one in smoke mode), medians. Append latency is counted from each request's scheduled arrival (no coordinated omission) and
 * split by phase: before the export, during it, after it. Also the export's rate under the load and the
 * longest event-loop delay the gateway saw during the export (prom-client's `eventloop_lag_max`, reset
 * on each scrape): how long the export held the main thread at a stretch. Then the same rounds with the
 * CSV export of that source (`GET /v1/receipts?source=…`, `Accept: text/csv`) in place of the bundle.
 *
 * BENCH_SERVE_PROF=DIR samples the gateway's main thread over the export only (bench/cpu-profile.cjs),
 * written to DIR/<pid>.cpuprofile (the last round's). BENCH_SERVE_BIN=PATH runs another tree's `bin/torgo.js`
 * (an A/B); BENCH_SERVE_NODE_ARGS adds Node options to the gateway's command line (e.g. `--trace-gc`).
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fillSource } from './export.js';
import { median, percentile, type Row, type Suite } from './harness.js';
import {
  appenderToken,
  appenderWithKey,
  cpuMsOf,
  request,
  roleToken,
  type ServeChild,
  startServe,
  stopChild,
} from './http.js';
import { benchKey, signedReceipts } from './receipts.js';
import { exportOnce, exportWhenLogged, type Streamed, streamedGet } from './soak.js';

const SOURCE = 'export-load-relay';
const LANES = 8;
const LANE_SOURCE = (lane: number) => `export-load-lane-${lane}`;
const CPU_PROFILER = join(import.meta.dirname, '..', '..', 'bench', 'cpu-profile.cjs');

/** An export of SOURCE that the rounds run under the load: the bundle or the CSV. */
type Exporter = (serve: ServeChild, token: string, source: string) => Promise<Streamed>;

/** `GET /v1/receipts?source=…` as CSV: its bytes and rows (the header line not counted). */
const csvOnce: Exporter = (serve, token, source) => {
  let lines = 0;
  return streamedGet(serve, token, `/v1/receipts?source=${encodeURIComponent(source)}`, 'text/csv', {
    chunk(d) {
      for (let at = d.indexOf(0x0a); at !== -1; at = d.indexOf(0x0a, at + 1)) lines++;
    },
    total: () => lines - 1,
  });
};

/** One append: when it was due (ms, performance.now()) and how long after that it was answered. */
interface Sample {
  readonly due: number;
  readonly latency: number;
}

/** The gateway's longest event-loop delay since the last scrape (prom-client resets it on each), in ms. */
async function loopLagMaxMs(agent: http.Agent, url: string): Promise<number> {
  const metrics = await request(agent, url, 'GET', '/metrics', '');
  const m = /^torgo_nodejs_eventloop_lag_max_seconds (\S+)/m.exec(metrics.text);
  return Number(m?.[1] ?? Number.NaN) * 1000;
}

/**
 * Waits (at most a minute) until the gateway has used under 5% of a core for 2 s in a row: the fill's
 * compactions and the log builder's catching up stay out of the lead-in's baseline.
 */
async function settled(pid: number | undefined): Promise<void> {
  let quiet = 0;
  for (let s = 0; s < 60 && quiet < 2; s++) {
    const cpu0 = cpuMsOf(pid) ?? 0;
    await sleep(1000);
    quiet = (cpuMsOf(pid) ?? 0) - cpu0 < 50 ? quiet + 1 : 0;
  }
}

/** The worst p99 over windows of `ms` by due time (windows with at least 20 appends). */
function worstWindowP99(samples: readonly Sample[], ms: number): number {
  const windows = new Map<number, number[]>();
  for (const s of samples) {
    const w = Math.floor(s.due / ms);
    let l = windows.get(w);
    if (!l) {
      l = [];
      windows.set(w, l);
    }
    l.push(s.latency);
  }
  const p99s = [...windows.values()].filter((l) => l.length >= 20).map((l) => percentile(l, 99));
  return p99s.length ? Math.max(...p99s) : Number.NaN;
}

/**
 * p50, p99 and max of the samples, the worst p99 of their 1-s and 10-s windows (the soak's interval),
 * and how many took over 100 ms.
 */
function phase(samples: readonly Sample[]) {
  const latencies = samples.map((s) => s.latency);
  return {
    n: latencies.length,
    p50: latencies.length ? percentile(latencies, 50) : Number.NaN,
    p99: latencies.length ? percentile(latencies, 99) : Number.NaN,
    max: latencies.length ? Math.max(...latencies) : Number.NaN,
    worst1s: worstWindowP99(samples, 1_000),
    worst10s: worstWindowP99(samples, 10_000),
    over100: latencies.filter((l) => l > 100).length,
  };
}

/** What one round measured. */
interface Round {
  readonly seconds: number;
  readonly bytes: number;
  readonly before: ReturnType<typeof phase>;
  readonly during: ReturnType<typeof phase>;
  readonly after: ReturnType<typeof phase>;
  /** The gateway's longest event-loop delay during the export (ms). */
  readonly lagMs: number;
  /** The gateway's own time (access line) for the appends it answered during the export: p50, p99 (ms). */
  readonly served: { p50: number; p99: number; n: number };
}

/** The load's setting and the gateway under it. */
interface Setting {
  readonly serve: ServeChild;
  readonly agent: http.Agent;
  readonly lanes: readonly { agent: http.Agent; token: string }[];
  readonly auditor: string;
  readonly rate: number;
  readonly leadInMs: number;
  readonly tailMs: number;
  readonly total: number;
  /** The gateway's access lines for appends: when answered (epoch ms) and its own time (ms). */
  readonly served: readonly { at: number; ms: number }[];
  readonly profileDir: string | undefined;
}

/**
 * One round: appends at `rate` from `receipts` (taken as they are sent) for the lead-in, then an
 * export of SOURCE under the same load, then the tail.
 */
async function exportRound(s: Setting, receipts: Iterator<string>, exporter: Exporter): Promise<Round> {
  const samples: Sample[] = [];
  const failures: string[] = [];
  const start = performance.now();
  let stop = false;
  let exportStart = Number.NaN;
  let exportEnd = Number.NaN;
  let epoch = { from: Number.NaN, to: Number.NaN };
  let exported: { receipts: number; bytes: number } | undefined;
  let lagMs = Number.NaN;
  const exportRun = (async () => {
    try {
      await sleep(s.leadInMs);
      await loopLagMaxMs(s.agent, s.serve.url); // resets the gateway's maximum
      if (s.profileDir) s.serve.child.kill('SIGUSR2');
      exportStart = performance.now();
      const from = Date.now();
      const r = await exporter(s.serve, s.auditor, SOURCE);
      exportEnd = performance.now();
      epoch = { from, to: Date.now() };
      if (s.profileDir) s.serve.child.kill('SIGUSR2');
      lagMs = await loopLagMaxMs(s.agent, s.serve.url);
      if (!('bytes' in r)) throw new Error(`export under load: HTTP ${r.status}`);
      exported = r;
      await sleep(s.tailMs);
    } finally {
      stop = true;
    }
  })();
  const pending: Promise<void>[] = [];
  for (let i = 0; !stop; i++) {
    const due = start + (i * 1000) / s.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const next = receipts.next();
    if (next.done) throw new Error('export under load: the load receipts ran out');
    const lane = s.lanes[i % s.lanes.length]!;
    pending.push(
      request(lane.agent, s.serve.url, 'POST', '/v1/receipts', lane.token, next.value, 'text/markdown').then(
        (r) => {
          samples.push({ due: due - start, latency: performance.now() - due });
          if (r.status !== 201) failures.push(`${r.status} ${r.text.slice(0, 200)}`);
        },
      ),
    );
  }
  await exportRun;
  await Promise.all(pending);
  if (failures.length > 0) throw new Error(`${failures.length} appends failed: ${failures[0]}`);
  if (exported!.receipts !== s.total) throw new Error(`export: ${exported!.receipts} receipts of ${s.total}`);
  const from = exportStart - start;
  const to = exportEnd - start;
  const served = s.served.filter((a) => a.at >= epoch.from && a.at < epoch.to).map((a) => a.ms);
  return {
    seconds: (exportEnd - exportStart) / 1000,
    bytes: exported!.bytes,
    before: phase(samples.filter((x) => x.due >= 1000 && x.due < from)), // its first second warms up
    during: phase(samples.filter((x) => x.due >= from && x.due < to)),
    after: phase(samples.filter((x) => x.due >= to)),
    lagMs,
    served: {
      p50: served.length ? percentile(served, 50) : Number.NaN,
      p99: served.length ? percentile(served, 99) : Number.NaN,
      n: served.length,
    },
  };
}

const fmt = (p: ReturnType<typeof phase>) =>
  `${p.n} appends: p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(0)} ms, worst p99 of a 1-s window ${p.worst1s.toFixed(1)} ms, of a 10-s window ${p.worst10s.toFixed(1)} ms, ${p.over100} over 100 ms`;

export const exportLoadSuite: Suite = async ({ smoke, scratch, bundleReceipts, rate: rateOption }) => {
  const total = smoke ? 60 : (bundleReceipts ?? 20_000);
  const rate = smoke ? 40 : (rateOption ?? 150);
  const rounds = smoke ? 1 : 3;
  const leadInMs = smoke ? 2_000 : 8_000;
  const tailMs = smoke ? 500 : 3_000;
  // Enough receipts for every round's lead-in, its tail, and an export at a pessimistic 1,200 receipts/s
  // or for 10 s (20 s in a full run), whichever is longer: a loaded machine (npm test) is slow to start one.
  const exportAllowanceMs = Math.max((total / 1_200) * 1000, smoke ? 10_000 : 20_000);
  // Twice: the bundle's rounds, then the CSV's.
  const loadReceipts = Math.ceil((2 * rounds * rate * (leadInMs + tailMs + exportAllowanceMs)) / 1000);
  const dir = await mkdtemp(join(scratch ?? '/tmp', 'torgo-bench-export-load-'));
  const profileDir = process.env.BENCH_SERVE_PROF;
  // The gateway's own time per append (its access line: `time` when answered, `responseTime`): the
  // server's share of the latency, without the load generator's.
  const served: { at: number; ms: number }[] = [];
  const serve = await startServe(dir, [], {
    bin: process.env.BENCH_SERVE_BIN || undefined,
    onLog: (line) => {
      if (!line.includes('"request completed"') || !line.includes('"method":"POST","url":"/v1/receipts"'))
        return;
      const l = JSON.parse(line) as { time: number; responseTime: number };
      served.push({ at: l.time, ms: l.responseTime });
    },
    nodeArgs: [
      ...(profileDir ? ['--require', CPU_PROFILER] : []),
      ...(process.env.BENCH_SERVE_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
    ...(profileDir ? { env: { TORGO_CPU_PROFILE_DIR: profileDir } } : {}),
  });
  const agent = new http.Agent({ keepAlive: true });
  const laneAgents = Array.from({ length: LANES }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  try {
    const filler = await appenderWithKey(agent, serve.url, serve.admin, 'export-load-fill', benchKey);
    const tokens = await Promise.all(
      laneAgents.map((_, l) => appenderToken(agent, serve.url, serve.admin, `export-load-${l}`)),
    );
    const auditor = await roleToken(agent, serve.url, serve.admin, 'export-load-auditor', ['auditor']);
    await fillSource(agent, serve.url, filler, SOURCE, total);
    const load = await signedReceipts(loadReceipts, (i) => ({ source: LANE_SOURCE(i % LANES) }));
    // The log builder catches up with the fill before the clock starts (an export would wait for it).
    const caughtUp = await exportWhenLogged(serve, auditor, SOURCE);
    if (!('bytes' in caughtUp)) throw new Error(`export after the fill: HTTP ${caughtUp.status}`);
    const setting: Setting = {
      serve,
      agent,
      lanes: laneAgents.map((a, l) => ({ agent: a, token: tokens[l]! })),
      auditor,
      rate,
      leadInMs,
      tailMs,
      total,
      served,
      profileDir,
    };
    const receipts = load[Symbol.iterator]();
    const roundsOf = async (what: string, exporter: Exporter): Promise<Round[]> => {
      const results: Round[] = [];
      for (let k = 0; k < rounds; k++) {
        await settled(serve.child.pid);
        const r = await exportRound(setting, receipts, exporter);
        results.push(r);
        process.stderr.write(
          `export-load: ${what} round ${k + 1}: ${total} receipts (${(r.bytes / 2 ** 20).toFixed(1)} MiB) in ${r.seconds.toFixed(1)} s under ${rate}/s of appends\n  before: ${fmt(r.before)}\n  during: ${fmt(r.during)}\n  after:  ${fmt(r.after)}\n  longest event-loop delay during the export: ${r.lagMs.toFixed(1)} ms; the gateway's own time per append during it: p50 ${r.served.p50.toFixed(1)} ms, p99 ${r.served.p99.toFixed(1)} ms (${r.served.n})\n`,
        );
      }
      return results;
    };
    const results = await roundsOf('bundle', exportOnce);
    const csv = await roundsOf('CSV', csvOnce);
    const each = (f: (r: Round) => number, digits = 1, of = results) =>
      of.map((r) => f(r).toFixed(digits)).join(', ');
    const mid = (f: (r: Round) => number, of = results) => median(of.map(f));
    const note = `${total.toLocaleString('en-US')} receipts (${(results[0]!.bytes / 2 ** 20).toFixed(1)} MiB) of one source exported while ${LANES} clients append ${rate}/s, one receipt per request; median of ${rounds} rounds`;
    const csvNote = `${total.toLocaleString('en-US')} rows (${(csv[0]!.bytes / 2 ** 20).toFixed(1)} MiB) of the same source as CSV (Accept: text/csv) under the same load; median of ${rounds} rounds`;
    return [
      {
        suite: 'export-load',
        name: 'GET /v1/export under a steady append load',
        value: mid((r) => total / r.seconds),
        unit: 'receipts/s',
        note: `${note}; each: ${each((r) => total / r.seconds, 0)}`,
        limit: { name: 'target', value: 2_000 },
      },
      {
        suite: 'export-load',
        name: "append p99 during the export (from each request's scheduled arrival)",
        value: mid((r) => r.during.p99),
        unit: 'ms',
        limit: { name: 'target', value: 50 },
        note: `each: ${each((r) => r.during.p99)}; p50 ${each((r) => r.during.p50)}; before the export p99 ${each((r) => r.before.p99)}, after ${each((r) => r.after.p99)}`,
      },
      {
        suite: 'export-load',
        name: 'appends over 100 ms during the export',
        value: mid((r) => r.during.over100),
        unit: 'appends',
        note: `each: ${each((r) => r.during.over100, 0)} of ${each((r) => r.during.n, 0)}; before the export ${each((r) => r.before.over100, 0)}; worst request ${each((r) => r.during.max, 0)} ms`,
      },
      {
        suite: 'export-load',
        name: "the gateway's own time per append during the export, p99 (access line)",
        value: mid((r) => r.served.p99),
        unit: 'ms',
        note: `each: ${each((r) => r.served.p99)}; p50 ${each((r) => r.served.p50)}`,
      },
      {
        suite: 'export-load',
        name: 'longest event-loop delay during the export (prom-client, the gateway)',
        value: mid((r) => r.lagMs),
        unit: 'ms',
        note: `each: ${each((r) => r.lagMs)}: how long the gateway's main thread was held at a stretch`,
      },
      {
        suite: 'export-load',
        name: 'GET /v1/receipts as CSV under a steady append load',
        value: mid((r) => total / r.seconds, csv),
        unit: 'rows/s',
        note: `${csvNote}; each: ${each((r) => total / r.seconds, 0, csv)}`,
      },
      {
        suite: 'export-load',
        name: "append p99 during the CSV export (from each request's scheduled arrival)",
        value: mid((r) => r.during.p99, csv),
        unit: 'ms',
        limit: { name: 'target', value: 50 },
        note: `each: ${each((r) => r.during.p99, 1, csv)}; p50 ${each((r) => r.during.p50, 1, csv)}; over 100 ms ${each((r) => r.during.over100, 0, csv)} of ${each((r) => r.during.n, 0, csv)}; longest event-loop delay ${each((r) => r.lagMs, 1, csv)} ms; the gateway's own time p99 ${each((r) => r.served.p99, 1, csv)} ms`,
      },
    ] satisfies Row[];
  } finally {
    agent.destroy();
    for (const a of laneAgents) a.destroy();
    await stopChild(serve);
    await rm(dir, { recursive: true, force: true });
  }
};
