/**
 * npm run bench [-- --smoke] [-- --only SUITE,…] [-- --ledger-receipts N] [-- --bundle-receipts N]
 * [-- --relay-backlog N] [-- --scratch DIR] [-- --steady-rate N --steady-seconds N --steady-clients N --steady-tokens N --steady-ledger-receipts N]
 * [-- --minutes N] [-- --rate R] [-- --export-at MIN]: runs the suites, prints the table and writes
 * bench/results/latest.{md,json} (and a dated copy). The soak runs only when named
 * (`--only soak`) or in smoke mode. Method and figures: docs/performance.md.
 */
import './quiet-logs.js';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleSuite } from './bundle.js';
import { chainsSuite } from './chains.js';
import { cryptoSuite } from './crypto.js';
import { engineSuite } from './engine.js';
import { exportSuite } from './export.js';
import { exportLoadSuite } from './export-load.js';
import {
  type BenchOptions,
  environment,
  procStat,
  type Row,
  type Suite,
  TICK_MS,
  writeResults,
} from './harness.js';
import { httpSuite } from './http.js';
import { querySuite } from './queries.js';
import { relaySuite } from './relay.js';
import { soakSuite } from './soak.js';
import { startSuite } from './start.js';
import { steadySuite } from './steady.js';
import { storageSuite } from './storage.js';
import { tlsSuite } from './tls.js';

export const SUITES: Record<string, Suite> = {
  'ml-dsa': cryptoSuite,
  embedded: engineSuite,
  http: httpSuite,
  steady: steadySuite,
  tls: tlsSuite,
  queries: querySuite,
  bundle: bundleSuite,
  export: exportSuite,
  'export-load': exportLoadSuite,
  start: startSuite,
  chains: chainsSuite,
  relay: relaySuite,
  storage: storageSuite,
  soak: soakSuite,
};

/** Suites a full run leaves out unless named with --only: they take as long as they are told to. */
const ON_REQUEST = new Set(['soak']);

/**
 * CPU time of this process's children that have ended and been waited for (their own ended children
 * included), ms, from /proc (Linux; 0 elsewhere): `torgo serve`, the query suite's process, `torgo verify`…
 */
function endedChildrenCpuMs(): number {
  const f = procStat('/proc/self/stat')?.fields;
  return f ? (Number(f[13]) + Number(f[14])) * TICK_MS : 0;
}

/** CPU time all cores spent outside idle since boot, in ms. */
function systemBusyMs(): number {
  return cpus().reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}

export async function runBenchmarks(
  options: BenchOptions & { only?: string[]; resultsDir: string },
): Promise<string> {
  const env = environment();
  if (Number(process.versions.node.split('.')[0]) < 24) {
    process.stderr.write(
      `bench: Node ${process.version}: run it with \`npm run bench\` (the pinned Node 24)\n`,
    );
  }
  const rows: Row[] = [];
  for (const [name, suite] of Object.entries(SUITES)) {
    if (options.only ? !options.only.includes(name) : ON_REQUEST.has(name) && !options.smoke) continue;
    process.stderr.write(`bench: ${name}…\n`);
    const started = performance.now();
    const busy0 = systemBusyMs();
    const self0 = process.cpuUsage();
    const children0 = endedChildrenCpuMs();
    rows.push(...(await suite(options)));
    const wall = performance.now() - started;
    const self = process.cpuUsage(self0);
    const outside =
      systemBusyMs() - busy0 - (self.user + self.system) / 1000 - (endedChildrenCpuMs() - children0);
    rows.push({
      suite: name,
      name: 'CPU used outside this process and its children while the suite ran',
      value: (100 * Math.max(0, outside)) / (wall * cpus().length),
      unit: '% of the machine',
      note: "other processes competing with the figures above (the children the suite started and stopped, torgo serve, torgo verify, the query suite's process…, not counted); rerun when high",
    });
    process.stderr.write(`bench: ${name} took ${(wall / 1000).toFixed(0)} s\n`);
  }
  return writeResults(options.resultsDir, { ...env, mode: options.smoke ? 'smoke' : 'full' }, rows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean' },
      only: { type: 'string' },
      'ledger-receipts': { type: 'string' },
      'bundle-receipts': { type: 'string' },
      'relay-backlog': { type: 'string' },
      scratch: { type: 'string' },
      'steady-rate': { type: 'string' },
      'steady-seconds': { type: 'string' },
      'steady-clients': { type: 'string' },
      'steady-tokens': { type: 'string' },
      'steady-ledger-receipts': { type: 'string' },
      minutes: { type: 'string' },
      rate: { type: 'string' },
      'export-at': { type: 'string' },
    },
  });
  const count = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const ledgerReceipts = count('ledger-receipts', values['ledger-receipts']);
  const bundleReceipts = count('bundle-receipts', values['bundle-receipts']);
  const relayBacklog = count('relay-backlog', values['relay-backlog']);
  const steady = {
    ...(values['steady-rate'] ? { rate: count('steady-rate', values['steady-rate'])! } : {}),
    ...(values['steady-seconds'] ? { seconds: count('steady-seconds', values['steady-seconds'])! } : {}),
    ...(values['steady-clients'] ? { clients: count('steady-clients', values['steady-clients'])! } : {}),
    ...(values['steady-tokens'] ? { tokens: count('steady-tokens', values['steady-tokens'])! } : {}),
    ...(values['steady-ledger-receipts']
      ? { ledgerReceipts: count('steady-ledger-receipts', values['steady-ledger-receipts'])! }
      : {}),
  };
  const positive = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const minutes = positive('minutes', values.minutes);
  const rate = positive('rate', values.rate);
  const exportAt = positive('export-at', values['export-at']);
  const md = await runBenchmarks({
    steady,
    smoke: Boolean(values.smoke),
    ...(values.only ? { only: values.only.split(',') } : {}),
    ...(ledgerReceipts ? { ledgerReceipts } : {}),
    ...(bundleReceipts ? { bundleReceipts } : {}),
    ...(relayBacklog ? { relayBacklog } : {}),
    ...(minutes ? { minutes } : {}),
    ...(rate ? { rate } : {}),
    ...(exportAt ? { exportAtMinutes: exportAt } : {}),
    scratch: values.scratch ?? tmpdir(),
    resultsDir: join(import.meta.dirname, '..', '..', 'bench', 'results'),
  });
  process.stdout.write(md);
}
