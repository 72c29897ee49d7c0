/**
 * Steady load A/B (docs/performance.md §10): `steadyRuns` of two builds of `torgo serve` one after the
 * other, alternating (A, B, B, A, …), each a fresh gateway at the steady suite's shape; prints CPU per
 * receipt (all threads and by thread, /proc), receipts per transaction / block, p50/p99, the load average.
 *
 *   npx node dist/bench/steady-ab.js --a /work/base/bin/torgo.js [--b bin/torgo.js] [--rounds 3]
 *     [--seconds 8] [--runs 3] [--rate 150] [--clients 8] [--tokens 1] [--a-env K=V,K=V] [--b-env K=V]
 *     [--a-node='--flag …'] [--b-node='--flag …']
 *   npx node dist/bench/steady-ab.js --sweep 'TORGO_APPEND_WINDOW_MS=10;TORGO_APPEND_WINDOW_MS=20' [--b …]
 *
 * With only `--a-env`/`--b-env` (same build), it compares two settings of one build; `--a-node`/`--b-node`
 * give each gateway Node options (V8 flags that NODE_OPTIONS refuses).
 * `--sweep 'K=V;K=V;…'` compares any number of settings of one build (`--b`, default this tree's),
 * in turn and in reverse every other round (a window-length table, docs/performance.md §10).
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
    'a-node': { type: 'string', default: '' },
    'b-node': { type: 'string', default: '' },
    sweep: { type: 'string' },
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
/** "--flag --flag" as Node options. */
function argsOf(spec: string): string[] {
  return spec.split(/\s+/).filter(Boolean);
}
const load = steadyLoadOf(values);
/** Each variant: a label, a build and its environment. */
const variants: {
  label: string;
  bin: string | undefined;
  env: Record<string, string>;
  nodeArgs?: string[];
}[] = values.sweep
  ? values.sweep.split(';').map((spec) => ({ label: spec || '(defaults)', bin: values.b, env: envOf(spec) }))
  : [
      { label: 'A', bin: values.a, env: envOf(values['a-env']), nodeArgs: argsOf(values['a-node']) },
      { label: 'B', bin: values.b, env: envOf(values['b-env']), nodeArgs: argsOf(values['b-node']) },
    ];
const all: SteadyRun[][] = variants.map(() => []);
for (let round = 0; round < Number(values.rounds); round++) {
  const order = variants.map((_, i) => i);
  if (round % 2 === 1) order.reverse();
  for (const i of order) {
    const load1 = loadavg()[0]!.toFixed(1);
    const { label, bin, env, nodeArgs } = variants[i]!;
    const runs = await steadyRuns(load, Number(values.runs), { bin, env, nodeArgs });
    all[i]!.push(...runs);
    process.stdout.write(`round ${round} ${label} load ${load1}: ${steadySummary(runs)}\n`);
  }
}
for (const [i, { label }] of variants.entries()) {
  process.stdout.write(`${label}: ${steadySummary(all[i]!)}\n`);
}
