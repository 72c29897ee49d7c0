/**
 * Query pages on a ledger kept between runs, for A/B comparisons of the query path (the `queries`
 * suite builds and deletes its ledger each run). Build once, then measure with each code version in
 * turn on the same directory (the stored format does not change between them):
 *
 *   npx node dist/bench/query-ab.js build DIR [--receipts 100000]
 *   npx node dist/bench/query-ab.js measure DIR [--queries 300]
 *
 * `measure` prints the `queries` suite's rows (p99 / p50 wall, CPU per query p50 / p99) for each kind.
 */
import './quiet-logs.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openBenchLedger } from './engine.js';
import { appendViaContract, BulkLoader, bulkStart, measureQueries } from './queries.js';

const VIA_CONTRACT = 100;

async function build(dir: string, total: number): Promise<void> {
  const { probeIds, sample, height } = await appendViaContract(dir, VIA_CONTRACT);
  const bulk = total - VIA_CONTRACT;
  const t0 = bulkStart(bulk);
  const loader = await BulkLoader.open(join(dir, 'ledger'), probeIds, sample, height, t0);
  try {
    await loader.load(0, bulk);
  } finally {
    await loader.close();
  }
  await writeFile(join(dir, 'query-ab.json'), JSON.stringify({ total, bulk, t0 }));
}

async function measure(dir: string, queries: number): Promise<void> {
  const { total, bulk, t0 } = JSON.parse(await readFile(join(dir, 'query-ab.json'), 'utf8')) as {
    total: number;
    bulk: number;
    t0: number;
  };
  const bench = await openBenchLedger({ dir, keyRegistered: true });
  try {
    for (const row of await measureQueries(bench, total, t0, bulk, false, queries)) {
      console.log(`${row.name}: ${row.value.toFixed(2)} ${row.unit}; ${row.note}`);
    }
  } finally {
    await bench.close(true);
  }
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { receipts: { type: 'string', default: '100000' }, queries: { type: 'string', default: '300' } },
});
const [command, dir] = positionals;
if (!dir || (command !== 'build' && command !== 'measure')) {
  console.error('usage: query-ab.js build|measure DIR [--receipts N] [--queries N]');
  process.exit(2);
}
if (command === 'build') await build(dir, Number(values.receipts));
else await measure(dir, Number(values.queries));
