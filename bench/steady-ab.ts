/**
 * Steady load A/B (docs/performance.md §10): `steadyRuns` of two builds of `torgo serve` one after the
 * other, alternating (A, B, B, A, …), each a fresh gateway at the steady suite's shape; prints CPU per
 * receipt (all threads and by thread, /proc), receipts per transaction / block, p50/p99, the load average.
 *
 *   npx node dist/bench/steady-ab.js --a /work/base/bin/torgo.js [--b bin/torgo.js] [--rounds 3]
 *     [--seconds 8] [--runs 3] [--rate 150] [--clients 8] [--tokens 1] [--a-env K=V,K=V] [--b-env K=V]
 *
 * With only `--a-env`/`--b-env` (same build), it compares two settings of one build.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { type SteadyRun, steadyLoadArgs, steadyLoadOf, steadyRuns, steadySummary } from './steady.js';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    ...steadyLoadArgs,
    'a-env': { type: 'string', default: '' },
    'b-env': { type: 'string', default: '' },
  },
});
/** "K=V,K=V" as an environment. */
function envOf(spec: string): Record<string, string> {
  return Object.fromEntries(
    spec
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}
const envs = { A: envOf(values['a-env']), B: envOf(values['b-env']) } as const;
const load = steadyLoadOf(values);
const builds = { A: values.a, B: values.b } as const;
const all: Record<'A' | 'B', SteadyRun[]> = { A: [], B: [] };
for (let round = 0; round < Number(values.rounds); round++) {
  const order: ('A' | 'B')[] = round % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
  for (const which of order) {
    const load1 = loadavg()[0]!.toFixed(1);
    const runs = await steadyRuns(load, Number(values.runs), { bin: builds[which], env: envs[which] });
    all[which].push(...runs);
    process.stdout.write(`round ${round} ${which} load ${load1}: ${steadySummary(runs)}\n`);
  }
}
for (const which of ['A', 'B'] as const) process.stdout.write(`${which}: ${steadySummary(all[which])}\n`);
