/**
 * What one query allocates, step by step, on a ledger built by `query-ab.js build` (docs/performance.md
 * §11, seventh pass). Run with `--expose-gc`: every query starts after a full collection, and a young
 * generation large enough that none runs inside it (`--min-semi-space-size=64`), so the deltas of
 * `process.memoryUsage().arrayBuffers` (bytes outside V8's heap that only a collection frees: what
 * starts V8's mark-compacts through external-memory pressure) and of V8's used heap are what the
 * query allocated:
 *
 *   npx node --expose-gc --min-semi-space-size=64 dist/bench/query-alloc.js DIR [--queries 200]
 *
 * Per kind, medians per query: the contract path (`evaluate`: LevelDB's reads, counted by wrapping
 * classic-level's point read and iterator, the contract's page, the engine) and the gateway's JSON page
 * (`receiptPageOfParts` + `writeReceiptPage` into a reused buffer, as gateway/http/page-buffers.ts lends).
 */
import './quiet-logs.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { Level } from 'level';
import { derivedMaxOpenFiles } from '../gateway/ledger/embedded/open-files.js';
import { receiptPageOfParts, writeReceiptPage } from '../gateway/ledger/page.js';
import { openBenchLedger } from './engine.js';
import { median } from './harness.js';
import { queryKinds } from './queries.js';

/** LevelDB values handed to JavaScript since the last reset: point reads and iterator entries. */
const reads = { gets: 0, getBytes: 0, entries: 0, entryBytes: 0 };

type Proto = Record<string, (...args: unknown[]) => unknown>;

/** Counts what classic-level's synchronous point read and its iterators' batches hand back. */
function countReads(): void {
  const db = Level.prototype as unknown as Proto;
  const getSync = db['_getSync']!;
  db['_getSync'] = function (this: unknown, ...args: unknown[]) {
    const value = getSync.apply(this, args) as Uint8Array | undefined;
    if (value) {
      reads.gets++;
      reads.getBytes += value.byteLength;
    }
    return value;
  };
  const iteratorOf = db['_iterator']!;
  db['_iterator'] = function (this: unknown, ...args: unknown[]) {
    const it = iteratorOf.apply(this, args) as Proto;
    for (const name of ['_next', '_nextv']) {
      const step = it[name]!.bind(it);
      it[name] = async (...a: unknown[]) => {
        const got = (await step(...a)) as unknown;
        const entries = name === '_next' ? (got === undefined ? [] : [got]) : (got as unknown[]);
        for (const e of entries) {
          reads.entries++;
          for (const part of Array.isArray(e) ? e : [e])
            if (part instanceof Uint8Array) reads.entryBytes += part.byteLength;
        }
        return got;
      };
    }
    return it;
  };
}

const gc = (globalThis as { gc?: () => void }).gc;
const external = () => process.memoryUsage().arrayBuffers;
const heap = () => getHeapStatistics().used_heap_size;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { queries: { type: 'string', default: '200' } },
  });
  const dir = positionals[0];
  if (!dir || !gc) {
    console.error('usage: node --expose-gc --min-semi-space-size=64 query-alloc.js DIR [--queries N]');
    process.exit(2);
  }
  countReads();
  const { bulk, t0 } = JSON.parse(await readFile(join(dir, 'query-ab.json'), 'utf8')) as {
    bulk: number;
    t0: number;
  };
  const bench = await openBenchLedger({
    dir,
    keyRegistered: true,
    maxOpenFiles: await derivedMaxOpenFiles(),
  });
  const out = Buffer.allocUnsafeSlow(4 * 2 ** 20);
  try {
    const n = Number(values.queries);
    for (const kind of await queryKinds(bench, bulk, t0, false)) {
      const rows: Record<string, number[]> = {};
      const add = (name: string, v: number) => {
        rows[name] = [...(rows[name] ?? []), v];
      };
      for (let k = 0; k < n; k++) {
        const [fcn, arg] = await kind.arg(k);
        gc();
        Object.assign(reads, { gets: 0, getBytes: 0, entries: 0, entryBytes: 0 });
        const [e0, h0] = [external(), heap()];
        const answer = await bench.ledger.evaluate(bench.auditor, fcn, [arg]);
        const [e1, h1] = [external(), heap()];
        if (fcn === 'queryReceipts') {
          // As the gateway reads a page: in the engine's parts (gateway/ledger/audit.ts).
          const page = receiptPageOfParts(answer.parts);
          writeReceiptPage(page.receipts, page.bookmark || null, () => out);
        }
        const [e2, h2] = [external(), heap()];
        add('contract path, external bytes', e1 - e0);
        add('  LevelDB point reads (values handed back)', reads.gets);
        add('  LevelDB point reads, bytes', reads.getBytes);
        add('  LevelDB iterator entries', reads.entries);
        add('  LevelDB iterator entries, value bytes', reads.entryBytes);
        add(
          "  the contract's answer, bytes",
          answer.parts.reduce((n, p) => n + p.byteLength, 0),
        );
        add('contract path, V8 heap bytes', h1 - h0);
        add("gateway's JSON page, external bytes", e2 - e1);
        add("gateway's JSON page, V8 heap bytes", h2 - h1);
      }
      console.log(`${kind.name} (${n} queries, medians per query):`);
      for (const [name, v] of Object.entries(rows)) console.log(`  ${name}: ${median(v).toFixed(0)}`);
    }
  } finally {
    await bench.close(true);
  }
}

await main();
