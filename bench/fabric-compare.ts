/**
 * Raft against BFT in one run on the same machine (docs/performance.md, "Raft against BFT").
 *
 *   npx node dist/bench/fabric-compare.js --raft DIR --bft DIR [--repeats 3]
 *     [--single-receipts 400] [--single-concurrency 16] [--batch-receipts 2000] [--batch-concurrency 4]
 *
 * Both networks are up and deployed beforehand (network-config, each with its own FABRIC_NETWORK_DIR
 * and PORT_OFFSET). The shared machine's load changes by the minute, so the two are never measured
 * minutes apart: each repeat runs `bench/fabric.ts` for one round on raft, then on BFT, single
 * receipts, then the same for batches, and the ratios are taken per repeat (same minute, same load)
 * before their median. Prints the table, writes bench/results/fabric-compare-latest.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './harness.js';

const { values: opt } = parseArgs({
  options: {
    raft: { type: 'string' },
    bft: { type: 'string' },
    repeats: { type: 'string', default: '3' },
    'single-receipts': { type: 'string', default: '400' },
    'single-concurrency': { type: 'string', default: '16' },
    'batch-receipts': { type: 'string', default: '2000' },
    'batch-concurrency': { type: 'string', default: '4' },
  },
});
if (!opt.raft || !opt.bft) {
  console.error('usage: fabric-compare --raft NETWORK_DIR --bft NETWORK_DIR [--repeats N]');
  process.exit(2);
}
const networks = { raft: opt.raft, bft: opt.bft } as const;
type Network = keyof typeof networks;
type Mode = 'single' | 'batch';
const BENCH = join(import.meta.dirname, 'fabric.js');
const RESULTS = join('bench', 'results');

/** What one `bench/fabric.ts` run wrote (its fabric-latest.json), the fields compared here. */
interface Round {
  receiptsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cores: Record<string, number>;
  cpuMsPerReceipt: Record<string, number>;
}

function runOnce(network: Network, mode: Mode): Round {
  const args =
    mode === 'single'
      ? [
          '--mode',
          'single',
          '--receipts',
          opt['single-receipts']!,
          '--concurrency',
          opt['single-concurrency']!,
        ]
      : ['--batch', '100', '--receipts', opt['batch-receipts']!, '--concurrency', opt['batch-concurrency']!];
  const r = spawnSync(
    process.execPath,
    [BENCH, '--network', networks[network], '--rounds', '1', '--label', `compare-${network}`, ...args],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (r.status !== 0) throw new Error(`bench/fabric.ts on ${network} (${mode}) exited ${r.status}`);
  return JSON.parse(readFileSync(join(RESULTS, 'fabric-latest.json'), 'utf8')) as Round;
}

/** Sum of the CPU ms per receipt of the processes whose name starts with `prefix` (orderers, peers). */
function cpuOf(round: Round, prefix: string): number {
  return Object.entries(round.cpuMsPerReceipt)
    .filter(([name]) => name.startsWith(prefix))
    .reduce((sum, [, v]) => sum + v, 0);
}

const loadBefore = loadavg();
const rounds: Record<Mode, Record<Network, Round[]>> = {
  single: { raft: [], bft: [] },
  batch: { raft: [], bft: [] },
};
for (let i = 0; i < Number(opt.repeats); i++) {
  for (const mode of ['single', 'batch'] as const) {
    for (const network of ['raft', 'bft'] as const) {
      process.stdout.write(`# repeat ${i + 1}: ${network}, ${mode}\n`);
      rounds[mode][network].push(runOnce(network, mode));
    }
  }
}
const loadAfter = loadavg();

const summary = (['single', 'batch'] as const).map((mode) => {
  const of = (network: Network, f: (r: Round) => number) => median(rounds[mode][network].map(f));
  const ratio = (f: (r: Round) => number) =>
    median(rounds[mode].raft.map((r, i) => f(rounds[mode].bft[i]!) / f(r)));
  const side = (network: Network) => ({
    receiptsPerSecond: of(network, (r) => r.receiptsPerSecond),
    p50Ms: of(network, (r) => r.p50Ms),
    p99Ms: of(network, (r) => r.p99Ms),
    ordererCpuMsPerReceipt: of(network, (r) => cpuOf(r, 'orderer')),
    othersCores: of(network, (r) => r.cores['others'] ?? Number.NaN),
  });
  return {
    mode,
    raft: side('raft'),
    bft: side('bft'),
    bftOverRaft: {
      receiptsPerSecond: ratio((r) => r.receiptsPerSecond),
      p50Ms: ratio((r) => r.p50Ms),
      p99Ms: ratio((r) => r.p99Ms),
      ordererCpuMsPerReceipt: ratio((r) => cpuOf(r, 'orderer')),
    },
  };
});

const fmt = (n: number, d = 0) => n.toFixed(d);
process.stdout.write(
  '\nmode    network  receipts/s  p50 ms  p99 ms  orderer CPU ms/receipt  others (cores)\n',
);
for (const s of summary) {
  for (const network of ['raft', 'bft'] as const) {
    const x = s[network];
    process.stdout.write(
      `${s.mode.padEnd(8)}${network.padEnd(9)}${fmt(x.receiptsPerSecond).padStart(10)}${fmt(x.p50Ms).padStart(8)}` +
        `${fmt(x.p99Ms).padStart(8)}${fmt(x.ordererCpuMsPerReceipt, 2).padStart(24)}${fmt(x.othersCores, 2).padStart(16)}\n`,
    );
  }
  const q = s.bftOverRaft;
  process.stdout.write(
    `${s.mode.padEnd(8)}bft/raft ${fmt(q.receiptsPerSecond, 2).padStart(10)}${fmt(q.p50Ms, 2).padStart(8)}` +
      `${fmt(q.p99Ms, 2).padStart(8)}${fmt(q.ordererCpuMsPerReceipt, 2).padStart(24)}\n`,
  );
}
process.stdout.write(
  `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`,
);
mkdirSync(RESULTS, { recursive: true });
writeFileSync(
  join(RESULTS, 'fabric-compare-latest.json'),
  `${JSON.stringify({ date: new Date().toISOString(), repeats: Number(opt.repeats), loadBefore, loadAfter, summary, rounds }, null, 2)}\n`,
);
