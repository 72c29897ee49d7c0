/**
 * Embedded append, durable (one fsync per block): receipts/s and p50/p99 latency at concurrency 1,
 * 16 and 64, single receipts and batches, next to the limits measured in the same run:
 *
 * - native ML-DSA-65 verify on one thread — the issue's yardstick: the contract verifies every
 *   signature, so a process that only verified, on one core, would do this many receipts/s;
 * - the same on every core (worker threads), since the contract's checks now use them too;
 * - one fsync'd LevelDB write at a time: at c=1 every append waits for its own block, so this
 *   bounds c=1 whatever the CPU does.
 *
 * The notes give the main thread's busy time per receipt (event-loop utilisation × elapsed / n):
 * the ledger's single-threaded part, the one that caps throughput once verification is elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditContracts } from '../chaincode/contract.js';
import {
  type PublicKey,
  parseReceipt,
  publicKeyToPem,
  RECEIPT_CONTEXT,
  ReceiptHandOff,
  utf8,
  verifyReceiptSignatures,
} from '../core/index.js';
import type { MlDsaBackend } from '../core/crypto/mldsa.js';
import { pooledMlDsa } from '../core/crypto/verify-pool.js';
import { nativeBackend } from '../core/crypto/native.js';
import { EmbeddedLedger } from '../engine/index.js';
import { WRITE_BUFFER_BYTES } from '../engine/ledger.js';
import { openDb } from '../engine/state.js';
import { preVerify } from '../gateway/append/verify.js';
import { median, opsPerSecond, percentile, type Row, type Suite, timed } from './harness.js';
import { benchKey, makeReceipts, signedReceipts } from './receipts.js';

export { makeReceipts } from './receipts.js';

/**
 * What is done with a receipt before the ledger sees it. `worker`: what the embedded gateway does
 * (gateway/append/verify.ts `preVerify`): the parse and the signature checks on the verification workers,
 * the parse handed over to the contract, whose own signature checks then find the memo; `thread`: the same
 * with the parse on this thread (the gateway before issue 14's fifth pass); `none`: nothing, the contract
 * parses and verifies alone (its checks on the workers, no memo: the embedded suite before that pass).
 */
export type PreCheck = 'worker' | 'thread' | 'none';

/** One ledger call of an append scenario: `appendReceipt` of one receipt, or `appendReceipts` of a batch. */
export interface AppendCall {
  readonly fcn: 'appendReceipt' | 'appendReceipts';
  readonly arg: string;
  readonly receipts: readonly string[];
}

/** The calls appending `receipts`, `batch` per call; the batch argument is built here, outside timed regions. */
export function appendCalls(receipts: readonly string[], batch: number): AppendCall[] {
  if (batch === 1) return receipts.map((r) => ({ fcn: 'appendReceipt', arg: r, receipts: [r] }));
  return Array.from({ length: Math.ceil(receipts.length / batch) }, (_, i) => {
    const slice = receipts.slice(i * batch, (i + 1) * batch);
    return { fcn: 'appendReceipts', arg: JSON.stringify(slice), receipts: slice };
  });
}

const benchPublicKey: PublicKey = { alg: benchKey.alg, publicKey: benchKey.publicKey, keyId: benchKey.keyId };

export async function openBenchLedger(
  options: {
    scratch?: string;
    dir?: string;
    keyRegistered?: boolean;
    /** The contract's backend (default: the platform's on the worker pool, with the memo when pre-checking). */
    mlDsa?: MlDsaBackend;
    /** Default `none`. */
    preCheck?: PreCheck;
    /** LevelDB's block cache, bytes (default LevelDB's 8 MiB). */
    cacheBytes?: number;
    /** Table files LevelDB keeps open (default LevelDB's 1000). */
    maxOpenFiles?: number;
    /** LevelDB's write buffer, bytes (default the engine's, 32 MiB). */
    writeBufferBytes?: number;
  } = {},
): Promise<{
  ledger: EmbeddedLedger;
  appender: Awaited<ReturnType<EmbeddedLedger['createIdentity']>>;
  auditor: Awaited<ReturnType<EmbeddedLedger['createIdentity']>>;
  /** Pre-checks `call`'s receipts as `preCheck` says, then submits it. */
  append: (call: AppendCall) => Promise<unknown>;
  dir: string;
  close: (keep?: boolean) => Promise<void>;
}> {
  const dir = options.dir ?? (await mkdtemp(join(options.scratch ?? tmpdir(), 'torgo-bench-')));
  // As the embedded gateway runs the contract: its checks on worker threads; the memo and the
  // hand-over of parses only where receipts are pre-checked, as the gateway does.
  const preCheck = options.preCheck ?? 'none';
  const pooled = options.mlDsa ? undefined : pooledMlDsa({ memo: preCheck !== 'none' });
  const mlDsa = options.mlDsa ?? pooled!;
  const handOff = preCheck === 'none' ? undefined : new ReceiptHandOff();
  const checkReceipt = preCheck === 'worker' ? pooled?.checkReceipt : undefined;
  const resolveKey = async (keyId: string) => (keyId === benchKey.keyId ? benchPublicKey : undefined);
  const contracts = auditContracts(mlDsa, handOff);
  const ledger = await EmbeddedLedger.open({
    dir,
    contracts,
    chaincodeLogLevel: 'ERROR',
    ...(options.cacheBytes === undefined ? {} : { cacheBytes: options.cacheBytes }),
    ...(options.maxOpenFiles === undefined ? {} : { maxOpenFiles: options.maxOpenFiles }),
    ...(options.writeBufferBytes === undefined ? {} : { writeBufferBytes: options.writeBufferBytes }),
  });
  const appender = await ledger.createIdentity({
    mspId: 'Org1MSP',
    name: 'bench',
    attrs: { 'torgo.role': 'appender' },
  });
  const auditor = await ledger.createIdentity({
    mspId: 'Org1MSP',
    name: 'bench-auditor',
    attrs: { 'torgo.role': 'auditor' },
  });
  // A ledger reopened by the query suite has it already.
  if (!options.keyRegistered) {
    await ledger.submit(appender, 'registerKey', [publicKeyToPem(benchKey), 'bench']);
  }
  const append = async (call: AppendCall): Promise<unknown> => {
    if (handOff) {
      await Promise.all(call.receipts.map((r) => preVerify(resolveKey, r, mlDsa, handOff, checkReceipt)));
    }
    return ledger.submit(appender, call.fcn, [call.arg]);
  };
  return {
    ledger,
    appender,
    auditor,
    append,
    dir,
    close: async (keep = false) => {
      await ledger.close();
      if (!keep) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The floor of a durable append on this design, for rows 14.1–14.2 (docs/performance.md §5, "The floors"):
 * each receipt parsed and its signature checked on the verification workers, exactly as the embedded
 * gateway's pre-check does (`pooledMlDsa(…).checkReceipt`: the same workers, parse and answer), then its
 * `.mu` bytes put under its id in one LevelDB batch per call, synced, with the engine's LevelDB settings
 * (concurrent calls share syncs, as LevelDB groups writers). Nothing else: no contract, state, indexes,
 * history, blocks, hash chain or log. A ledger of this design cannot append faster than this; what the
 * ledger's rows reach over what this reaches is what the ledger's own work costs.
 */
export async function openFloor(
  scratch: string,
): Promise<{ append: (call: AppendCall) => Promise<void>; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(scratch, 'torgo-bench-floor-'));
  const db = await openDb(join(dir, 'floor'), { writeBufferBytes: WRITE_BUFFER_BYTES });
  const pooled = pooledMlDsa({ memo: false });
  const keys = new Map([[benchKey.keyId, benchPublicKey]]);
  return {
    append: async (call) => {
      const checks = await Promise.all(call.receipts.map((r) => pooled.checkReceipt(r, keys)));
      await db.batch(
        checks.map((c) => {
          if (c.verdict !== 'valid') throw new Error(`the floor refused a bench receipt: ${c.verdict}`);
          return { type: 'put' as const, key: `r/${c.receipt.document.fields.id}`, value: Buffer.from(c.mu) };
        }),
        { sync: true },
      );
    },
    close: async () => {
      await db.close();
      await pooled.pool?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `total` operations with at most `concurrency` in flight; returns per-op latencies (ms) and elapsed ms. */
export async function drive(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ latencies: number[]; elapsed: number }> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, elapsed: performance.now() - start };
}

/** Raw native verify of one receipt signature on one thread (no memo, no pool). */
export function verifyOneThread(smoke: boolean): number {
  const r = parseReceipt(makeReceipts(1)[0]!);
  const message = utf8(r.text);
  const signature = r.signatures[0]!.signature;
  return opsPerSecond(
    () => nativeBackend.verify('ML-DSA-65', benchKey.publicKey, message, signature, RECEIPT_CONTEXT),
    smoke ? 1 : 5,
    smoke ? 5 : 300,
  );
}

/**
 * Raw native verify on every core: the worker pool kept busy with `n` jobs per run. (Imported
 * lazily so this suite also runs against trees from before the pool, for before/after figures:
 * there it reports NaN.)
 */
export async function verifyAllCores(smoke: boolean): Promise<number> {
  const loaded = await import('../core/crypto/verify-pool.js').catch(() => undefined);
  if (!loaded) return Number.NaN;
  const { VerifyPool } = loaded;
  const r = parseReceipt(makeReceipts(1)[0]!);
  const job = {
    alg: 'ML-DSA-65' as const,
    publicKey: benchKey.publicKey,
    message: utf8(r.text),
    signature: r.signatures[0]!.signature,
    context: RECEIPT_CONTEXT,
  };
  const pool = new VerifyPool(
    availableParallelism(),
    'native',
    nativeBackend,
    new URL('../core/crypto/verify-worker.js', import.meta.url),
  );
  try {
    const n = smoke ? 50 : 8000;
    const rates: number[] = [];
    for (let run = 0; run < (smoke ? 1 : 4); run++) {
      const { ms, value } = await timed(() => Promise.all(Array.from({ length: n }, () => pool.verify(job))));
      if (!value.every(Boolean)) throw new Error('the pool rejected a valid signature');
      if (run > 0 || smoke) rates.push((n * 1000) / ms); // run 0 starts the workers
    }
    return median(rates);
  } finally {
    await pool.close();
  }
}

/** Sequential fsync'd LevelDB writes of one block's size: what c=1 can never beat. */
async function fsyncRate(scratch: string, smoke: boolean): Promise<number> {
  const dir = await mkdtemp(join(scratch, 'torgo-bench-fsync-'));
  const db = await openDb(join(dir, 'ledger'));
  try {
    const value = randomBytes(20_000);
    const n = smoke ? 10 : 400;
    const { ms } = await timed(async () => {
      for (let i = 0; i < n; i++) await db.batch([{ type: 'put', key: `k${i}`, value }], { sync: true });
    });
    return (n * 1000) / ms;
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const engineSuite: Suite = async ({ smoke, scratch = tmpdir() }) => {
  const rows: Row[] = [];
  const runs = smoke ? 1 : 3;
  const verify1 = verifyOneThread(smoke);
  const verifyAll = await verifyAllCores(smoke);
  const fsync = await fsyncRate(scratch, smoke);
  const cores = availableParallelism();
  rows.push(
    { suite: 'embedded', name: 'limit: native ML-DSA-65 verify, 1 thread', value: verify1, unit: 'ops/s' },
    {
      suite: 'embedded',
      name: `limit: native ML-DSA-65 verify, ${cores} threads`,
      value: verifyAll,
      unit: 'ops/s',
    },
    {
      suite: 'embedded',
      name: "limit: fsync'd 20 KB LevelDB write, one at a time",
      value: fsync,
      unit: 'ops/s',
    },
  );
  const note = (p50: number, p99: number, mainUs: number, rate: number, extra = ''): string =>
    `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; main thread ${mainUs.toFixed(0)} µs/receipt; ` +
    `${(rate / verifyAll).toFixed(2)}× of ${cores}-thread verify${extra}`;

  // Receipts pre-checked as the embedded gateway does (PreCheck `worker`), so that the rows measure the
  // ledger a gateway drives (docs/performance.md §4, fifth pass).
  const { ledger, append, close } = await openBenchLedger({ scratch, preCheck: 'worker' });
  const floor = await openFloor(scratch);
  try {
    // Warm-up: JIT, the worker pool, LevelDB's first files.
    const warm = appendCalls(await signedReceipts(smoke ? 8 : 400), 1);
    await drive(warm.length, 16, (i) => append(warm[i]!));
    await drive(warm.length, 16, (i) => floor.append(warm[i]!));

    // `floor`: the scenario is run on the floor too (openFloor), on the same calls, next to each of its runs on the ledger.
    const scenarios: { name: string; concurrency: number; batch: number; receipts: number; floor?: true }[] =
      [
        { name: 'append single, c=1', concurrency: 1, batch: 1, receipts: smoke ? 10 : 400 },
        { name: 'append single, c=16', concurrency: 16, batch: 1, receipts: smoke ? 20 : 1500 },
        { name: 'append single, c=64', concurrency: 64, batch: 1, receipts: smoke ? 20 : 1500, floor: true },
        {
          name: 'append batch of 50, c=4',
          concurrency: 4,
          batch: 50,
          receipts: smoke ? 20 : 3000,
          floor: true,
        },
        { name: 'append batch of 100, c=4', concurrency: 4, batch: 100, receipts: smoke ? 20 : 3000 },
      ];
    const floorRate = async (n: number, concurrency: number, calls: AppendCall[]): Promise<number> => {
      const { ms } = await timed(() => drive(calls.length, concurrency, (i) => floor.append(calls[i]!)));
      return (n * 1000) / ms;
    };
    for (const s of scenarios) {
      const batch = smoke ? Math.min(s.batch, 5) : s.batch;
      const results: {
        rate: number;
        p50: number;
        p99: number;
        mainUs: number;
        blocks: number;
        raw: number;
        floor: number;
      }[] = [];
      for (let run = 0; run < runs; run++) {
        const receipts = await signedReceipts(s.receipts);
        // The limit again next to each run: on a shared VM it moves by a third within minutes, so one
        // measurement at the start made the ratios of later rows a figure of when it was taken.
        const raw = verifyOneThread(smoke);
        // Client work (building the argument) stays outside the timed region.
        const calls = appendCalls(receipts, batch);
        // The floor's run before the ledger's in every other run, so that neither always goes first.
        const floorFirst =
          s.floor && run % 2 === 1 ? await floorRate(receipts.length, s.concurrency, calls) : undefined;
        const h0 = ledger.height;
        const { value, ms, mainMs } = await timed(() =>
          drive(calls.length, s.concurrency, (i) => append(calls[i]!)),
        );
        results.push({
          rate: (receipts.length * 1000) / ms,
          p50: percentile(value.latencies, 50),
          p99: percentile(value.latencies, 99),
          mainUs: (mainMs * 1000) / receipts.length,
          blocks: ((ledger.height - h0) * 100) / calls.length,
          raw,
          floor: s.floor
            ? (floorFirst ?? (await floorRate(receipts.length, s.concurrency, calls)))
            : Number.NaN,
        });
      }
      const m = (f: (r: (typeof results)[number]) => number) => median(results.map(f));
      const ratios = results.map((r) => (r.rate / r.raw).toFixed(2)).join(', ');
      rows.push({
        suite: 'embedded',
        name: s.name,
        value: m((r) => r.rate),
        unit: 'receipts/s',
        limit: { name: 'native verify, 1 thread, next to each run', value: m((r) => r.raw) },
        ratio: m((r) => r.rate / r.raw),
        note: note(
          m((r) => r.p50),
          m((r) => r.p99),
          m((r) => r.mainUs),
          m((r) => r.rate),
          `; ${m((r) => r.blocks).toFixed(1)} blocks per 100 tx${s.concurrency === 1 ? `; fsync bound ${Math.round(fsync * batch)}/s` : ''}` +
            `; runs' ratios to their own limit ${ratios}` +
            (s.floor ? `; ${m((r) => r.rate / r.floor).toFixed(2)}× of the floor in the same runs` : ''),
        ),
      });
      if (s.floor) {
        rows.push({
          suite: 'embedded',
          name: `floor: parse + verify on the workers + synced write, ${s.name.replace('append ', '')}`,
          value: m((r) => r.floor),
          unit: 'receipts/s',
          limit: { name: 'native verify, 1 thread, next to each run', value: m((r) => r.raw) },
          ratio: m((r) => r.floor / r.raw),
          note:
            'no contract, state, indexes, history, blocks or log (bench/engine.ts openFloor); ' +
            `runs' ratios to their own limit ${results.map((r) => (r.floor / r.raw).toFixed(2)).join(', ')}`,
        });
      }
    }
  } finally {
    await close();
    await floor.close();
  }
  rows.push(
    ...(await memoRows(scratch, smoke ? { batch: 5, total: 20, runs } : { batch: 50, total: 3000, runs })),
  );
  return rows;
};

/**
 * What the verification memo saves where the gateway keeps it: each batch is pre-verified on the main
 * thread (as gateway/append/verify.ts does) and then appended, the contract verifying every signature
 * again with the same backend — with the memo (a hit) and without it (a second verification), in
 * alternate runs on fresh ledgers.
 */
export async function memoRows(
  scratch: string,
  { batch, total, runs }: { batch: number; total: number; runs: number },
): Promise<Row[]> {
  const warmup = Math.min(200, total);
  const rates: Record<'memo' | 'none', number[]> = { memo: [], none: [] };
  for (let run = 0; run < runs; run++) {
    for (const kind of ['memo', 'none'] as const) {
      const mlDsa = pooledMlDsa({ memo: kind === 'memo' });
      const { ledger, appender, close } = await openBenchLedger({ scratch, mlDsa });
      try {
        const warm = await signedReceipts(warmup);
        await drive(warm.length, 16, (i) => ledger.submit(appender, 'appendReceipt', [warm[i]!]));
        const receipts = await signedReceipts(total);
        const batches = Array.from({ length: Math.ceil(total / batch) }, (_, i) =>
          receipts.slice(i * batch, (i + 1) * batch),
        );
        const { ms } = await timed(() =>
          drive(batches.length, 4, async (i) => {
            for (const r of batches[i]!) verifyReceiptSignatures(parseReceipt(r), () => benchKey, mlDsa);
            await ledger.submit(appender, 'appendReceipts', [JSON.stringify(batches[i])]);
          }),
        );
        rates[kind].push((total * 1000) / ms);
      } finally {
        await close();
        await mlDsa.pool?.close();
      }
    }
  }
  const memo = median(rates.memo);
  const none = median(rates.none);
  return [
    {
      suite: 'embedded',
      name: `pre-verify + append batch of ${batch}, c=4, memo`,
      value: memo,
      unit: 'receipts/s',
      note: `${(memo / none).toFixed(2)}× of the same without the memo (the gateway's embedded setup)`,
    },
    {
      suite: 'embedded',
      name: `pre-verify + append batch of ${batch}, c=4, no memo`,
      value: none,
      unit: 'receipts/s',
    },
  ];
}
