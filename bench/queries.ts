/**
 * Queries on a large ledger (default 1,000,000 receipts; `--ledger-receipts N`): by id, by source
 * and time window (first page and a deep page), by subject; p50/p99 of `evaluate` through the
 * contract (fabric-shim's dispatcher, the embedded engine, LevelDB), one query at a time, up to the
 * answer's bytes — what the gateway takes (it writes the API's JSON from them, gateway/ledger/page.ts);
 * the engine decodes them to a string only if asked (`EvaluateResult.result`, read after the timing).
 * Target: p99 ≤ 10 ms (issue 14). Without `--ledger-receipts`, one run grows the ledger through
 * 10,000, 100,000 and 1,000,000 receipts and measures at each (cost growth), then grows a
 * transparency log through the same sizes and times its inclusion and consistency proofs.
 *
 * Population, honestly: signing a million ML-DSA receipts takes ~20 minutes of CPU here, and
 * appending them through the contract as long again, so
 * 1. the first receipts (`VIA_CONTRACT`) are appended through the real contract, in batches of 100;
 * 2. the rest are written by `loadReceipts` straight into the engine's state, in the contract's
 *    exact layout (record `receipt!<id>` as sorted-key JSON, six `idx!…` keys) stored as the engine
 *    stores it (the record once under `v/`, referenced from state), and before a byte
 *    of it is trusted the loader re-derives the state of the contract-written receipts and must
 *    match what the contract wrote, key for key and byte for byte;
 * 3. bulk receipts are real `.mu` files of the usual size whose signature line is borrowed from a
 *    signed receipt — it does not verify, and queries never verify.
 * The bulk part has no blocks or history behind it (queries read neither), so `verifyChain` would
 * rightly reject this ledger: it exists for this benchmark and is deleted after it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indexKeys } from '../chaincode/indexes.js';
import { jsonBytes } from '../chaincode/json.js';
import { encodeBookmark } from '../chaincode/queries.js';
import { type ReceiptRecord, receiptStateKey } from '../chaincode/receipts.js';
import { formatTime } from '../chaincode/time.js';
import { newUlid, parseReceipt, receiptDigest, utf8 } from '../core/index.js';
import {
  encodeState,
  encodeStateRef,
  LARGE_VALUE,
  openDb,
  StateView,
  stateKey,
  valueKey,
} from '../engine/state.js';
import { defaultStartFlags } from '../cli/young-generation.js';
import { derivedMaxOpenFiles } from '../gateway/ledger/embedded/open-files.js';
import { LogStore } from '../gateway/logbuilder/store.js';
import { receiptEntry } from './chains.js';
import { drive, openBenchLedger } from './engine.js';
import { type BenchOptions, median, percentile, type Row, type Suite, timed } from './harness.js';
import { receiptText, signedReceipts } from './receipts.js';
import { serveUntilReady } from './start.js';

const SOURCES = 100;
const SUBJECTS = 10_000;
const SPAN_DAYS = 30;
const DAY = 86_400;
const VIA_CONTRACT = 10_000;

const sourceOf = (i: number) => `icu-relay-${String(i % SOURCES).padStart(3, '0')}`;
const subjectOf = (i: number) => `urn:torgo:subject:${(i * 7) % SUBJECTS}`;

interface Party {
  mspId: string;
  id: string;
}

/** The state a contract append of `mu` writes (receipts.ts appendOne), as [state key, value]. */
export function receiptState(
  mu: string,
  submitter: Party,
  txId: string,
  committedAt: string,
): [string, Uint8Array][] {
  const r = parseReceipt(mu);
  const f = r.document.fields;
  const record: ReceiptRecord = {
    id: f.id,
    mu,
    digest: r.digest,
    source: f.source,
    operation: f.operation,
    subject: f.subject,
    occurredAt: f.occurredAt,
    signerKeyIds: r.signatures.map((s) => s.keyId),
    submitter,
    txId,
    committedAt,
  };
  const idBytes = utf8(f.id);
  return [
    [receiptStateKey(f.id), jsonBytes(record)],
    ...indexKeys(f, committedAt, f.id).map((k): [string, Uint8Array] => [k, idBytes]),
  ];
}

/** A faster `receiptState` for texts built here: the digest without a full parse. */
function bulkState(
  fields: { id: string; source: string; operation: string; subject: string; occurredAt: string },
  mu: string,
  signerKeyIds: string[],
  submitter: Party,
  txId: string,
  committedAt: string,
): [string, Uint8Array][] {
  const record: ReceiptRecord = {
    ...fields,
    mu,
    digest: receiptDigest(utf8(mu)),
    signerKeyIds,
    submitter,
    txId,
    committedAt,
  };
  const idBytes = utf8(fields.id);
  return [
    [receiptStateKey(fields.id), jsonBytes(record)],
    ...indexKeys(fields, committedAt, fields.id).map((k): [string, Uint8Array] => [k, idBytes]),
  ];
}

interface Probe {
  id: string;
  source: string;
  subject: string;
  committedAt: string;
}

/** Ledger sizes measured in one run: the cost growth of issue 14 (each step grows the same ledger). */
function sizesOf(smoke: boolean, ledgerReceipts: number | undefined): number[] {
  if (ledgerReceipts !== undefined) return [ledgerReceipts];
  return smoke ? [200, 400] : [10_000, 100_000, 1_000_000];
}

/** Receipts arrive at a constant rate: a million over SPAN_DAYS. */
export const SECONDS_PER_RECEIPT = (SPAN_DAYS * DAY) / 1_000_000;

/**
 * The suite, run in a process with `torgo serve`'s default V8 flags (cli/young-generation.ts: the young
 * generation's size and single-threaded GC decide a query's tail, docs/performance.md §11, eleventh
 * pass): this process when it has them, else a child (bench/queries-child.ts) that answers its rows.
 */
export const querySuite: Suite = async (options) => {
  const flags = defaultStartFlags();
  if (flags.every((f) => process.execArgv.includes(f))) return queryRows(options);
  const child = spawn(
    process.execPath,
    [...flags, fileURLToPath(new URL('./queries-child.js', import.meta.url)), JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0)
    throw new Error(`the query suite's process (${flags.join(' ')}) ended with ${signal ?? code}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '[]') as Row[];
};

/** The suite's rows, measured in this process. */
export async function queryRows({ smoke, ledgerReceipts, scratch = tmpdir() }: BenchOptions): Promise<Row[]> {
  const flags = process.execArgv.filter((a) => a.startsWith('--')).join(' ') || "Node's defaults";
  const sizes = sizesOf(smoke, ledgerReceipts);
  const maxOpenFiles = await derivedMaxOpenFiles();
  const viaContract = Math.min(sizes[0]!, smoke ? 100 : VIA_CONTRACT);
  const rows: Row[] = [];
  const dir = await mkdtemp(join(scratch, 'torgo-bench-queries-'));
  try {
    // 1. Through the contract.
    const { appended, probeIds, sample, height } = await appendViaContract(dir, viaContract);
    const finalBulk = sizes[sizes.length - 1]! - viaContract;
    const t0 = bulkStart(finalBulk);
    const loader = await BulkLoader.open(join(dir, 'ledger'), probeIds, sample, height, t0);
    let loaded = 0;
    try {
      for (const total of sizes) {
        const bulk = total - viaContract;
        const load = await loader.load(loaded, bulk);
        loaded = bulk;
        rows.push({
          suite: 'queries',
          name: `ledger of ${total.toLocaleString('en-US')}: ${viaContract.toLocaleString('en-US')} via the contract + ${bulk.toLocaleString('en-US')} bulk-loaded`,
          value: load.seconds + appended.ms / 1000,
          unit: 's to populate',
          note: `contract appends ${((viaContract * 1000) / appended.ms).toFixed(0)} receipts/s; loader checked against ${probeIds.length} contract-written receipts; then compacted in ${(load.compactedMs / 1000).toFixed(0)} s`,
        });
        await loader.close();
        // As a gateway opens it: embedded.maxOpenFiles derived from this process's open-file limit.
        const bench = await openBenchLedger({ dir, keyRegistered: true, maxOpenFiles });
        try {
          for (const row of await measureQueries(bench, total, t0, bulk, smoke))
            rows.push({
              ...row,
              note: `${row.note}; ${maxOpenFiles} table files open at most; V8: ${flags}`,
            });
        } finally {
          await bench.close(true);
        }
        if (total !== sizes[sizes.length - 1]) await loader.reopen();
      }
    } finally {
      await loader.close();
    }
    rows.push(...(await measureProofs(dir, sizes, smoke)));
    rows.push(await measureColdStart(dir, sizes[sizes.length - 1]!, smoke));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

/** When the first bulk receipt was committed: `bulk` receipts later, an hour before now. */
export function bulkStart(bulk: number): number {
  return Math.floor(Date.now() / 1000) - Math.ceil(bulk * SECONDS_PER_RECEIPT) - 3600;
}

/**
 * The ledger's first `viaContract` receipts, signed and appended through the contract (batches of
 * 100, 4 at a time). Only what later steps need is kept: the receipts themselves stay out of the
 * heap the queries run in (a large live heap means long mark-compact pauses, which would be this
 * harness's latency, not the ledger's).
 */
export async function appendViaContract(
  dir: string,
  viaContract: number,
): Promise<{ appended: { ms: number }; probeIds: string[]; sample: string; height: number }> {
  const bench = await openBenchLedger({ dir });
  const signed = await signedReceipts(viaContract, (i) => ({
    source: sourceOf(i),
    subject: subjectOf(i),
  }));
  const batches = Array.from({ length: Math.ceil(signed.length / 100) }, (_, b) =>
    JSON.stringify(signed.slice(b * 100, (b + 1) * 100)),
  );
  const appended = await timed(() =>
    drive(batches.length, 4, (b) => bench.ledger.submit(bench.appender, 'appendReceipts', [batches[b]!])),
  );
  const probeIds = signed
    .filter((_, i) => i % Math.max(1, Math.floor(viaContract / 50)) === 0)
    .map((mu) => parseReceipt(mu).document.fields.id);
  const height = bench.ledger.height;
  await bench.close(true);
  return { appended: { ms: appended.ms }, probeIds, sample: signed[0]!, height };
}

/**
 * Writes bulk receipts into the ledger's state; first checks it derives the contract's own state.
 * Also fills the steady suite's ledger (steady.ts `--steady-ledger-receipts`).
 */
export class BulkLoader {
  private constructor(
    private db: Awaited<ReturnType<typeof openDb>> | undefined,
    private readonly location: string,
    private readonly submitter: Party,
    private readonly signatureBlock: string,
    private readonly signerKeyIds: string[],
    private readonly height: number,
    private readonly t0: number,
  ) {}

  static async open(
    location: string,
    probeIds: readonly string[],
    sample: string,
    height: number,
    t0: number,
  ) {
    const db = await openDb(location);
    let submitter: Party = { mspId: '', id: '' };
    // The loader must reproduce the contract's state for those receipts, byte for byte.
    const state = new StateView(db);
    for (const id of probeIds) {
      const stored = await state.get(receiptStateKey(id));
      if (!stored) throw new Error(`contract state for ${id} is missing`);
      const record = JSON.parse(Buffer.from(stored.value).toString('utf8')) as ReceiptRecord;
      submitter = record.submitter;
      for (const [key, value] of receiptState(record.mu, record.submitter, record.txId, record.committedAt)) {
        const written = await state.get(key);
        if (!written || !Buffer.from(value).equals(written.value)) {
          throw new Error(`bulk loader disagrees with the contract on ${JSON.stringify(key)}`);
        }
      }
    }
    const signature = parseReceipt(sample).signatures;
    return new BulkLoader(
      db,
      location,
      submitter,
      sample.slice(sample.indexOf('\n— ')),
      signature.map((s) => s.keyId),
      height,
      t0,
    );
  }

  /**
   * Bulk receipts [from, to), committed at a constant rate from t0, in source/subject rotation; then
   * compaction, unless `compact` is false (what LevelDB's background compaction then costs is measured).
   */
  async load(from: number, to: number, compact = true): Promise<{ seconds: number; compactedMs: number }> {
    const db = this.db!;
    const started = performance.now();
    const CHUNK = 1000;
    for (let start = from; start < to; start += CHUNK) {
      const ops: { type: 'put'; key: string; value: Buffer }[] = [];
      for (let i = start; i < Math.min(to, start + CHUNK); i++) {
        const seconds = this.t0 + Math.floor(i * SECONDS_PER_RECEIPT);
        const committedAt = formatTime(seconds, (i % 1000) * 1000);
        const fields = {
          id: newUlid(seconds * 1000),
          source: sourceOf(i),
          operation: 'vitals.forward',
          subject: subjectOf(i),
          occurredAt: new Date((seconds - 5) * 1000).toISOString(),
        };
        const mu = `${receiptText(i, fields)}${this.signatureBlock}`;
        // As the engine stores a transaction's writes (engine/storage.ts): large values once under
        // v/, referenced from state. Bulk receipt i is write set i % 500 of a block past the tip.
        const version = { blockNum: this.height + Math.floor(i / 500), txNum: i % 500 };
        const writes = bulkState(fields, mu, this.signerKeyIds, this.submitter, `bulk-${i}`, committedAt);
        for (const [write, [key, value]] of writes.entries()) {
          if (value.length < LARGE_VALUE) {
            ops.push({ type: 'put', key: stateKey(key), value: encodeState(value, version) });
            continue;
          }
          ops.push({ type: 'put', key: valueKey(version, write), value: Buffer.from(value) });
          ops.push({ type: 'put', key: stateKey(key), value: encodeStateRef(version, write) });
        }
      }
      await db.batch(ops, { sync: start + CHUNK >= to });
    }
    // A ledger that grew over months is compacted; one written in two minutes is still
    // compacting, and those background compactions would be measured as query latency.
    if (!compact) return { seconds: (performance.now() - started) / 1000, compactedMs: 0 };
    const level = db as unknown as { compactRange(start: string, end: string): Promise<void> };
    const compacted = await timed(() => level.compactRange('\u0000', '\uffff'));
    return { seconds: (performance.now() - started - compacted.ms) / 1000, compactedMs: compacted.ms };
  }

  async reopen(): Promise<void> {
    this.db = await openDb(this.location);
  }

  async close(): Promise<void> {
    await this.db?.close();
    this.db = undefined;
  }
}

const VIEW_START = Buffer.from('{"committedAt":');

/**
 * The receipts in a contract page, counted in its bytes: every view starts `{"committedAt":`, which no
 * JSON string can hold (its `"` would be escaped) and no nested object starts with. Decoding the
 * ~280 KB answer to a string and parsing it, as this harness did, leaves a large-object-space string
 * per query; the mark-compacts those brought were this harness's latency, not the ledger's (§11).
 */
function receiptsIn(parts: readonly Uint8Array[]): number {
  let n = 0;
  // In the parts the engine answers (a view is one part: chaincode/queries.ts), as the gateway reads
  // them: concatenating them would be a fresh page-sized buffer per query, which the gateway never makes.
  for (const part of parts) {
    const page = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    for (let at = page.indexOf(VIEW_START); at >= 0; at = page.indexOf(VIEW_START, at + VIEW_START.length))
      n++;
  }
  return n;
}

/** One timed query, as `measureQueries` reports it to a trace (query-ab.ts `--gc`). */
export interface QuerySpan {
  kind: string;
  /** performance.now() at the call and at the answer, ms. */
  start: number;
  end: number;
  /** CPU time of the process (every thread: GC helpers, LevelDB's) and of the main thread, ms. */
  cpuMs: number;
  mainMs: number;
}

/** One kind of query the suite measures: its name and, for the k-th query, the call. */
export interface QueryKind {
  readonly name: string;
  readonly arg: (k: number) => Promise<[fcn: string, arg: string]>;
}

/**
 * The suite's kinds of query on the reopened ledger of `total` receipts (bulk ones from t0 on), on
 * probes read back through the contract's own index.
 */
export async function queryKinds(
  bench: Awaited<ReturnType<typeof openBenchLedger>>,
  bulk: number,
  t0: number,
  smoke: boolean,
): Promise<QueryKind[]> {
  const { ledger, auditor } = bench;
  const evaluate = (fcn: string, arg: string) => ledger.evaluate(auditor, fcn, [arg]);
  // Probes: receipts spread over the ledger, read back through the contract's own index.
  const probes: Probe[] = [];
  const probeRuns = smoke ? 4 : 40;
  const span = Math.max(1, Math.floor(bulk * SECONDS_PER_RECEIPT));
  for (let p = 0; p < probeRuns; p++) {
    const source = sourceOf(p * 7);
    const from = new Date((t0 + Math.floor((p * span) / probeRuns)) * 1000).toISOString();
    const answer = await evaluate(
      'queryReceipts',
      JSON.stringify({ by: 'source', value: source, from, pageSize: 100 }),
    );
    const page = JSON.parse(answer.result) as { receipts: ReceiptRecord[] };
    // The timed loop counts receipts in the bytes; it must count what parsing finds.
    if (receiptsIn(answer.parts) !== page.receipts.length)
      throw new Error(`receiptsIn counted ${receiptsIn(answer.parts)} of ${page.receipts.length} receipts`);
    for (const r of page.receipts)
      probes.push({ id: r.id, source: r.source, subject: r.subject, committedAt: r.committedAt });
  }
  if (probes.length === 0) throw new Error('the query suite found no receipts');
  const pick = (k: number) => probes[(k * 7919) % probes.length]!;
  const windowOf = (p: Probe) => {
    const at = Date.parse(p.committedAt);
    return {
      from: new Date(at - 5 * DAY * 1000).toISOString(),
      to: new Date(at + 5 * DAY * 1000).toISOString(),
    };
  };
  return [
    { name: 'by id (getReceipt)', arg: async (k) => ['getReceipt', pick(k).id] },
    {
      name: 'by source + 10-day window, first page of 50',
      arg: async (k) => [
        'queryReceipts',
        JSON.stringify({ by: 'source', value: pick(k).source, ...windowOf(pick(k)), pageSize: 50 }),
      ],
    },
    {
      name: 'by source + 10-day window, deep page of 50',
      // The bookmark the contract hands out for the page that starts at a receipt near the
      // window's end: ~90% of the window's receipts lie before it.
      arg: async (k) => {
        const p = pick(k);
        const w = windowOf(p);
        const deepAt = new Date(Date.parse(w.from) + 9 * DAY * 1000).toISOString();
        const q = { by: 'source', value: p.source, from: deepAt, to: w.to, pageSize: 1 };
        const first = JSON.parse((await evaluate('queryReceipts', JSON.stringify(q))).result) as {
          receipts: ReceiptRecord[];
        };
        const r = first.receipts[0] ?? p;
        const key = indexKeys(
          { source: r.source, subject: r.subject, operation: 'vitals.forward' },
          r.committedAt,
          r.id,
        )[0]!;
        return [
          'queryReceipts',
          JSON.stringify({
            by: 'source',
            value: p.source,
            ...w,
            pageSize: 50,
            bookmark: encodeBookmark(key),
          }),
        ];
      },
    },
    {
      name: 'by subject, first page of 50 (newest first)',
      arg: async (k) => [
        'queryReceipts',
        JSON.stringify({ by: 'subject', value: pick(k).subject, order: 'desc', pageSize: 50 }),
      ],
    },
  ];
}

/** Queries, one at a time, on the reopened ledger of `total` receipts (bulk ones from t0 on). */
export async function measureQueries(
  bench: Awaited<ReturnType<typeof openBenchLedger>>,
  total: number,
  t0: number,
  bulk: number,
  smoke: boolean,
  n = smoke ? 10 : 1000,
  trace?: (span: QuerySpan) => void,
): Promise<Row[]> {
  const rows: Row[] = [];
  const { ledger, auditor } = bench;
  const evaluate = (fcn: string, arg: string) => ledger.evaluate(auditor, fcn, [arg]);
  const kinds = await queryKinds(bench, bulk, t0, smoke);
  for (const kind of kinds) {
    const latencies: number[] = [];
    const cpu: number[] = [];
    const mainCpu: number[] = [];
    let returned = 0;
    for (let k = 0; k < n; k++) {
      const [fcn, arg] = await kind.arg(k);
      const c = process.cpuUsage();
      const m = process.threadCpuUsage();
      const t = performance.now();
      const out = await evaluate(fcn, arg);
      const end = performance.now();
      latencies.push(end - t);
      const used = process.cpuUsage(c);
      const usedMain = process.threadCpuUsage(m);
      cpu.push((used.user + used.system) / 1000);
      mainCpu.push((usedMain.user + usedMain.system) / 1000);
      trace?.({
        kind: kind.name,
        start: t,
        end,
        cpuMs: cpu[cpu.length - 1]!,
        mainMs: mainCpu[mainCpu.length - 1]!,
      });
      returned += fcn === 'getReceipt' ? 1 : receiptsIn(out.parts);
    }
    rows.push({
      suite: 'queries',
      name: `${kind.name}, ${total.toLocaleString('en-US')} receipts, p99`,
      value: percentile(latencies, 99),
      unit: 'ms',
      limit: { name: 'target', value: 10 },
      note: `p50 ${median(latencies).toFixed(2)} ms; CPU per query p50 ${median(cpu).toFixed(2)} / p99 ${percentile(cpu, 99).toFixed(2)} ms (main thread ${median(mainCpu).toFixed(2)} / ${percentile(mainCpu, 99).toFixed(2)}); ${(returned / n).toFixed(1)} receipts per answer; ${n} queries on ${total.toLocaleString('en-US')} receipts`,
    });
  }
  return rows;
}

/**
 * Proof cost as the log grows: one transparency log (LogStore, as the log builder appends it, 500
 * entries per block, chained) grown through `sizes`; at each, inclusion proofs of random leaves and
 * consistency proofs from random earlier sizes, one at a time.
 */
async function measureProofs(dir: string, sizes: readonly number[], smoke: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const store = await LogStore.open(join(dir, 'log-proofs'));
  try {
    let block = 0;
    const last = sizes[sizes.length - 1]!;
    for (const size of sizes) {
      while (store.size < size) {
        const from = store.size;
        const count = Math.min(500, size - from);
        await store.appendBlock(
          block++,
          Array.from({ length: count }, (_, i) => receiptEntry(from + i, last, true)),
        );
      }
      const n = smoke ? 20 : 1000;
      for (const [name, proof] of [
        ['inclusion proof', (k: number) => store.inclusionProof((k * 7919) % size, size)],
        ['consistency proof', (k: number) => store.consistencyProof(1 + ((k * 7919) % (size - 1)), size)],
      ] as const) {
        const latencies: number[] = [];
        for (let k = 0; k < n; k++) {
          const t = performance.now();
          await proof(k);
          latencies.push(performance.now() - t);
        }
        rows.push({
          suite: 'queries',
          name: `${name}, log of ${size.toLocaleString('en-US')}, p99`,
          value: percentile(latencies, 99),
          unit: 'ms',
          note: `p50 ${median(latencies).toFixed(3)} ms; ${n} proofs, one at a time`,
        });
      }
    }
  } finally {
    await store.close();
  }
  return rows;
}

/**
 * Cold start at the largest size: `torgo serve` on a data directory holding the query ledger (every
 * receipt in world state, LevelDB compacted) and a transparency log of as many entries (the proof
 * suite's log, moved to `<data>/log/tree`), from spawn to the first `/readyz` 200. The log's entries
 * are synthetic, not the ledger's blocks: its next block lies past the ledger's height, so the log
 * builder waits for blocks that would come next, as a caught-up gateway does. A first start (wallet,
 * tokens and the operator key are created) is not counted; then three starts, median.
 */
async function measureColdStart(dir: string, total: number, smoke: boolean): Promise<Row> {
  await mkdir(join(dir, 'log'), { recursive: true, mode: 0o700 });
  await rename(join(dir, 'log-proofs'), join(dir, 'log', 'tree'));
  const first = await serveUntilReady(dir);
  const runs: { ms: number; cpuMs: number | undefined }[] = [];
  for (let i = 0; i < (smoke ? 1 : 3); i++) runs.push(await serveUntilReady(dir));
  const cpu = runs.map((r) => r.cpuMs).filter((ms) => ms !== undefined);
  return {
    suite: 'queries',
    name: `\`torgo serve\` to \`/readyz\` 200, ledger and log of ${total.toLocaleString('en-US')} receipts`,
    value: median(runs.map((r) => r.ms)),
    unit: 'ms',
    limit: { name: 'target', value: 2000 },
    note: `median of ${runs.length} (${runs.map((r) => r.ms.toFixed(0)).join(', ')} ms); server CPU to ready ${cpu.length ? `${median(cpu).toFixed(0)} ms` : 'n/a'}; first start (creates wallet, tokens, operator key) ${first.ms.toFixed(0)} ms`,
  };
}
