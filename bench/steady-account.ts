/**
 * Accounting of the steady path (docs/performance.md §10, sixth round): one `steadyRuns` of a build with
 * bench/steady-probe.mjs preloaded, printed per receipt: hand-offs to other threads by kind, the
 * main thread's CPU inside each wrapped step, and the /proc CPU by thread of the same runs.
 *
 *   npx node dist/bench/steady-account.js [--bin other/bin/torgo.js] [--seconds 8] [--runs 2] [--tokens 1] [--promises]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './harness.js';
import { byThread, steadyRuns } from './steady.js';

const { values } = parseArgs({
  options: {
    bin: { type: 'string' },
    seconds: { type: 'string', default: '8' },
    runs: { type: 'string', default: '2' },
    rate: { type: 'string', default: '150' },
    clients: { type: 'string', default: '8' },
    tokens: { type: 'string', default: '1' },
    promises: { type: 'boolean', default: false },
    /** Count where async resources of these types are created (comma-separated, e.g. Timeout,TickObject). */
    sites: { type: 'string', default: '' },
  },
});
const probeOut = join(await mkdtemp(join(tmpdir(), 'torgo-probe-')), 'probe.json');
const load1 = loadavg()[0]!.toFixed(1);
const runs = await steadyRuns(
  {
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    clients: Number(values.clients),
    tokens: Number(values.tokens),
  },
  Number(values.runs),
  {
    bin: values.bin,
    probeOut,
    env: { TORGO_PROBE_SITES: values.sites, ...(values.promises ? { TORGO_PROBE_PROMISES: '1' } : {}) },
  },
);
const receipts = runs.reduce((n, r) => n + r.receipts, 0);
const probe = JSON.parse(readFileSync(probeOut, 'utf8')) as {
  counts: Record<string, number>;
  cpuUs: Record<string, number>;
  mainCpuUs: number;
  quantilesUs: Record<string, { p50: number; p90: number; p99: number; max: number }>;
  wakes: Record<string, number>;
  wakeCpuUs: Record<string, number>;
};
const line = (name: string, per: number, unit: string) =>
  process.stdout.write(`${per.toFixed(3).padStart(9)} ${unit.padEnd(6)} ${name}\n`);
process.stdout.write(
  `${receipts} receipts, load ${load1}; /proc per receipt: ${median(runs.map((r) => r.cpuMsPerReceipt)).toFixed(2)} ms (${byThread(runs)}); ` +
    `per tx ${median(runs.map((r) => r.perTransaction)).toFixed(2)}, per block ${median(runs.map((r) => r.perBlock)).toFixed(2)}; ` +
    `p50 ${median(runs.map((r) => r.p50)).toFixed(1)} p99 ${median(runs.map((r) => r.p99)).toFixed(1)} ms\n`,
);
line('process CPU (cpuUsage, probe on)', probe.mainCpuUs / 1000 / receipts, 'ms');
process.stdout.write('per receipt, CPU by what woke the event loop (wakes per receipt):\n');
for (const [name, us] of Object.entries(probe.wakeCpuUs)) {
  line(`${name} (${((probe.wakes[name] ?? 0) / receipts).toFixed(2)} wakes)`, us / receipts, 'µs');
}
process.stdout.write('per receipt, counts:\n');
for (const [name, n] of Object.entries(probe.counts)) line(name, n / receipts, 'x');
process.stdout.write('per receipt, main-thread CPU inside:\n');
for (const [name, us] of Object.entries(probe.cpuUs)) {
  const q = probe.quantilesUs[name];
  line(
    `${name}${q ? ` (per call p50 ${q.p50}, p90 ${q.p90}, p99 ${q.p99}, max ${q.max} µs)` : ''}`,
    us / receipts,
    'µs',
  );
}
