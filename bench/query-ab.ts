/**
 * Query pages on a ledger kept between runs, for A/B comparisons of the query path (the `queries`
 * suite builds and deletes its ledger each run). Build once, then measure with each code version in
 * turn on the same directory (the stored format does not change between them):
 *
 *   npx node dist/bench/query-ab.js build DIR [--receipts 100000]
 *   npx node dist/bench/query-ab.js measure DIR [--queries 300] [--gc] [--warm] [--cache-mib N] [--max-open-files N|derived]
 *
 * `measure` prints the `queries` suite's rows (p99 / p50 wall, CPU per query p50 / p99) for each kind.
 * With `--gc` it also says, per kind, how much of the slowest 1% and 5% of queries ran during V8
 * garbage collections (PerformanceObserver `gc` entries overlapping each query), by collection kind.
 * `--warm` runs the same queries once untimed first (a gateway that has run a while: its tables open).
 * `--cache-mib` sets LevelDB's block cache (default LevelDB's 8 MiB), `--max-open-files` the table files
 * it keeps open (default 1000; `derived`: the gateway's default, from this process's open-file limit); the
 * table files open, the anonymous and file-backed RSS before closing, the new space's size, those settings and the RSS are printed at the end.
 */
import './quiet-logs.js';
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { derivedMaxOpenFiles } from '../gateway/ledger/embedded/open-files.js';
import { openBenchLedger } from './engine.js';
import { type Collection, collectionSummary, observeCollections } from './gc.js';
import { mappedTableFiles, median, percentile } from './harness.js';
import { appendViaContract, BulkLoader, bulkStart, measureQueries, type QuerySpan } from './queries.js';

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

/**
 * The table files LevelDB holds open (Linux /proc): mapped (no descriptor) and read through a
 * descriptor, and the process's anonymous and file-backed RSS — what the open tables cost.
 */
async function openTables(): Promise<string> {
  const fds = await readdir('/proc/self/fd');
  let withFd = 0;
  for (const fd of fds) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.endsWith('.ldb')) withFd++;
  }
  const status = await readFile('/proc/self/status', 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return `${mappedTableFiles('self')} tables mapped, ${withFd} with a descriptor; RssAnon ${(kib('RssAnon') / 1024).toFixed(0)} MiB, RssFile ${(kib('RssFile') / 1024).toFixed(0)} MiB`;
}

/** GC pause inside one query, ms, by collection kind. */
function pauseIn(span: QuerySpan, collections: readonly Collection[]): Record<Collection['kind'], number> {
  const out = { minor: 0, major: 0, incremental: 0, weak: 0 };
  for (const c of collections) {
    const overlap = Math.min(span.end, c.end) - Math.max(span.start, c.start);
    if (overlap > 0) out[c.kind] += overlap;
  }
  return out;
}

/** Per kind: the slowest 1% / 5% of queries against the rest, and the GC pause inside each group. */
function gcReport(spans: readonly QuerySpan[], collections: readonly Collection[]): string[] {
  const lines: string[] = [];
  for (const kind of new Set(spans.map((s) => s.kind))) {
    const mine = spans.filter((s) => s.kind === kind);
    const wall = mine.map((s) => s.end - s.start);
    for (const p of [99, 95]) {
      const cut = percentile(wall, p);
      const slow = mine.filter((s) => s.end - s.start >= cut);
      const fast = mine.filter((s) => s.end - s.start < cut);
      const describe = (group: readonly QuerySpan[]) => {
        const pauses = group.map((s) => pauseIn(s, collections));
        const withMajor = pauses.filter((g) => g.major > 0).length;
        const withMinor = pauses.filter((g) => g.minor > 0).length;
        const gcMs = pauses.map((g) => g.major + g.minor + g.incremental + g.weak);
        return `${group.length} queries: wall p50 ${median(group.map((s) => s.end - s.start)).toFixed(2)} ms, CPU p50 ${median(group.map((s) => s.cpuMs)).toFixed(2)} ms (main thread ${median(group.map((s) => s.mainMs)).toFixed(2)}), GC pause inside p50 ${median(gcMs).toFixed(2)} ms (sum ${gcMs.reduce((a, b) => a + b, 0).toFixed(1)}); with a major GC ${withMajor}, with a minor GC ${withMinor}`;
      };
      lines.push(`${kind}: slowest ${100 - p}% (≥ ${cut.toFixed(2)} ms) ${describe(slow)}`);
      lines.push(`${kind}:   the rest ${describe(fast)}`);
    }
  }
  lines.push(
    `collections: ${collectionSummary(collections, 'major')}, ${collectionSummary(collections, 'minor')}, over ${spans.length} queries`,
  );
  return lines;
}

async function measure(
  dir: string,
  queries: number,
  gc: boolean,
  warm: boolean,
  cacheMiB?: number,
  maxOpenFiles?: number,
): Promise<void> {
  const { total, bulk, t0 } = JSON.parse(await readFile(join(dir, 'query-ab.json'), 'utf8')) as {
    total: number;
    bulk: number;
    t0: number;
  };
  const bench = await openBenchLedger({
    dir,
    keyRegistered: true,
    ...(cacheMiB === undefined ? {} : { cacheBytes: cacheMiB * 2 ** 20 }),
    ...(maxOpenFiles === undefined ? {} : { maxOpenFiles }),
  });
  const spans: QuerySpan[] = [];
  const observed = gc ? observeCollections() : undefined;
  let tables = '';
  try {
    // A gateway that has run a while has its tables open: an untimed pass of the same queries first.
    if (warm) await measureQueries(bench, total, t0, bulk, false, queries);
    const rows = await measureQueries(bench, total, t0, bulk, false, queries, (s) => spans.push(s));
    for (const row of rows) console.log(`${row.name}: ${row.value.toFixed(2)} ${row.unit}; ${row.note}`);
    tables = await openTables();
  } finally {
    await bench.close(true);
  }
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  console.log(
    `new space at the end ${((newSpace?.space_size ?? 0) / 2 ** 20).toFixed(0)} MiB; LevelDB block cache ${cacheMiB ?? 8} MiB, ${maxOpenFiles ?? 1000} open files; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB; before closing: ${tables}`,
  );
  if (observed) {
    await new Promise((resolve) => setImmediate(resolve)); // the observer's last entries
    observed.stop();
    for (const line of gcReport(spans, observed.collections)) console.log(line);
  }
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    receipts: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '300' },
    gc: { type: 'boolean', default: false },
    warm: { type: 'boolean', default: false },
    'cache-mib': { type: 'string' },
    'max-open-files': { type: 'string' },
  },
});
const [command, dir] = positionals;
if (!dir || (command !== 'build' && command !== 'measure')) {
  console.error(
    'usage: query-ab.js build|measure DIR [--receipts N] [--queries N] [--gc] [--warm] [--cache-mib N] [--max-open-files N|derived]',
  );
  process.exit(2);
}
if (command === 'build') await build(dir, Number(values.receipts));
else {
  const cacheMiB = values['cache-mib'] === undefined ? undefined : Number(values['cache-mib']);
  // `derived`: what a gateway derives from this process's open-file limit (embedded.maxOpenFiles 0).
  const asked = values['max-open-files'];
  const maxOpenFiles =
    asked === undefined ? undefined : asked === 'derived' ? await derivedMaxOpenFiles() : Number(asked);
  await measure(dir, Number(values.queries), values.gc, values.warm, cacheMiB, maxOpenFiles);
}
