/**
 * Accounting of the steady path (docs/performance.md §10, sixth round): one `steadyRuns` of a build with
 * bench/steady-probe.mjs preloaded, printed per receipt: the CPU of each kind of event-loop wake, hand-offs
 * to other threads by kind, the CPU inside each wrapped step, and the /proc CPU by thread of the same runs.
 *
 *   npx node dist/bench/steady-account.js [--bin other/bin/torgo.js] [--seconds 8] [--runs 2] [--tokens 1]
 *     [--promises] [--sites Timeout,Immediate]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { steadyLoadArgs, steadyLoadOf, steadyRuns, steadySummary } from './steady.js';

const { values } = parseArgs({
  options: {
    bin: { type: 'string' },
    runs: { type: 'string', default: '2' },
    ...steadyLoadArgs,
    promises: { type: 'boolean', default: false },
    /** Count where async resources of these types are created (comma-separated, e.g. Timeout,TickObject). */
    sites: { type: 'string', default: '' },
  },
});
const probeOut = join(await mkdtemp(join(tmpdir(), 'torgo-probe-')), 'probe.json');
const load1 = loadavg()[0]!.toFixed(1);
const runs = await steadyRuns(steadyLoadOf(values), Number(values.runs), {
  bin: values.bin,
  probeOut,
  env: { TORGO_PROBE_SITES: values.sites, ...(values.promises ? { TORGO_PROBE_PROMISES: '1' } : {}) },
});
const receipts = runs.reduce((n, r) => n + r.receipts, 0);
const probe = JSON.parse(readFileSync(probeOut, 'utf8')) as {
  counts: Record<string, number>;
  cpuUs: Record<string, number>;
  processCpuUs: number;
  quantilesUs: Record<string, { p50: number; p90: number; p99: number; max: number }>;
  wakes: Record<string, number>;
  wakeCpuUs: Record<string, number>;
};
const line = (name: string, per: number, unit: string) =>
  process.stdout.write(`${per.toFixed(3).padStart(9)} ${unit.padEnd(6)} ${name}\n`);
process.stdout.write(`${receipts} receipts, load ${load1}; /proc: ${steadySummary(runs)}\n`);
line('process CPU (cpuUsage, probe on)', probe.processCpuUs / 1000 / receipts, 'ms');
process.stdout.write('per receipt, CPU by what woke the event loop (wakes per receipt):\n');
for (const [name, us] of Object.entries(probe.wakeCpuUs)) {
  line(`${name} (${((probe.wakes[name] ?? 0) / receipts).toFixed(2)} wakes)`, us / receipts, 'µs');
}
process.stdout.write('per receipt, counts:\n');
for (const [name, n] of Object.entries(probe.counts)) line(name, n / receipts, 'x');
process.stdout.write('per receipt, CPU inside (process-wide while the step runs on the main thread):\n');
for (const [name, us] of Object.entries(probe.cpuUs)) {
  const q = probe.quantilesUs[name];
  line(
    `${name}${q ? ` (per call p50 ${q.p50}, p90 ${q.p90}, p99 ${q.p99}, max ${q.max} µs)` : ''}`,
    us / receipts,
    'µs',
  );
}
