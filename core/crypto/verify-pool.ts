/**
 * Node only, like native.ts (nothing in core's index imports it). Two wrappers a Node process may put
 * around an ML-DSA backend and pass in, without changing one answer:
 *
 * 1. `withVerificationPool`: a worker-thread pool behind `verifyAsync`: the contract awaits its
 *    verifications, so they run on other cores while the main thread goes on (docs/performance.md).
 * 2. `withVerificationMemo`: a memo of successful verifications. The embedded gateway pre-verifies every
 *    receipt and the contract, the authority, verifies it again in the same process; the second check
 *    then finds the first. Nowhere else does one process verify one signature twice, so nowhere else is it used.
 *
 * Why the memo cannot change a result: ML-DSA verification (FIPS 204 Algorithm 3) is a
 * deterministic function of (parameter set, public key, message, signature, context). The memo is
 * keyed by SHA-256 over exactly those five inputs, each length-prefixed so no two tuples share an
 * encoding, and is filled only with tuples the real verifier just accepted — never with failures,
 * never from outside this process. A hit is therefore what the verifier would answer again (up to a
 * SHA-256 collision); a miss runs the verifier. Key status (revoked, retired) is not part of it:
 * the contract checks that itself, every time. Bounded: the oldest entries go first. A tuple a receipt
 * pre-check accepted is also found by its signature's array (`VerificationMemo.addAccepted`): only when
 * all five inputs equal, byte for byte, a copy taken when it was accepted, so such a hit is exact.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { keepSignedBytes, RECEIPT_CONTEXT } from '../receipt/receipt.js';
import { platformMlDsa } from './backend.js';
import type { MlDsaBackend } from './mldsa.js';
import {
  type ReceiptCheck,
  type ReceiptJob,
  runReceiptCheck,
  unwireCheck,
  type WireCheck,
} from './receipt-check.js';
import { VerificationMemo, type VerifyJob } from './verify-memo.js';

export { VerificationMemo, type VerifyJob } from './verify-memo.js';

/** A job queued: a signature to verify, or a receipt to pre-check (receipt-check.ts). */
type Pending =
  | { readonly kind: 'verify'; readonly job: VerifyJob; resolve(ok: boolean): void }
  | { readonly kind: 'receipt'; readonly job: ReceiptJob; resolve(check: ReceiptCheck): void };

/** What a worker answers per job: a verification's result, or a receipt check's (`wireCheck`). */
type WireResult = boolean | WireCheck;

interface Slot {
  worker: Worker | undefined;
  /** Jobs posted and not answered, by message id. */
  readonly posted: Map<number, Pending[]>;
  load: number;
}

/**
 * Verification on worker threads. Jobs queued during one turn of the event loop (a batch
 * transaction queues all of its signatures in one turn) are split across the workers in one
 * message each. Workers start on first use and never keep the process alive when idle. If a
 * worker dies, its jobs are verified here, on this thread: a crash costs time, never an answer.
 *
 * With `inlineUpTo` > 0, a turn that queued at most that many jobs while no worker has any is
 * verified here too: at low load (one receipt now and then) a worker's round trip — copying the
 * job, waking the worker, its answer, waking this thread — costs more CPU than the verification it
 * moves (~230 µs a message against ~150 µs for an ML-DSA-65 verify, docs/performance.md §10), and
 * nothing else is waiting for this thread. Busy turns, turns while workers are busy, and turns while
 * this thread is busy (`mainThreadBusy`: by default, more than half a core of CPU used over the last
 * ~100 ms, `threadCpuBusy`) still go to the workers, so under load the checks run in parallel. Same
 * verifier, same answers.
 */
export class VerifyPool {
  private readonly slots: Slot[];
  private queue: Pending[] = [];
  private scheduled = false;
  private nextId = 0;

  constructor(
    size: number,
    private readonly backendName: MlDsaBackend['name'],
    private readonly fallback: MlDsaBackend,
    private readonly workerUrl: URL,
    private readonly inlineUpTo = 0,
    private readonly mainThreadBusy: () => boolean = threadCpuBusy(),
  ) {
    this.slots = Array.from({ length: Math.max(1, size) }, () => ({
      worker: undefined,
      posted: new Map(),
      load: 0,
    }));
  }

  get size(): number {
    return this.slots.length;
  }

  verify(job: VerifyJob): Promise<boolean> {
    return new Promise<boolean>((resolve) => this.enqueue({ kind: 'verify', job, resolve }));
  }

  /** `runReceiptCheck(job, backend)` on a worker: the parse and the signature checks off this thread. */
  checkReceipt(job: ReceiptJob): Promise<ReceiptCheck> {
    return new Promise<ReceiptCheck>((resolve) => this.enqueue({ kind: 'receipt', job, resolve }));
  }

  private enqueue(pending: Pending): void {
    this.queue.push(pending);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Stop the workers (their pending jobs are verified on this thread). */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    this.queue = [];
    if (jobs.length <= this.inlineUpTo && this.slots.every((s) => s.load === 0) && !this.mainThreadBusy()) {
      this.verifyHere(jobs);
      return;
    }
    const per = Math.ceil(jobs.length / this.slots.length);
    for (let i = 0; i < jobs.length; i += per) {
      const slot = this.slots.reduce((a, b) => (b.load < a.load ? b : a));
      this.post(slot, jobs.slice(i, i + per));
    }
  }

  private post(slot: Slot, chunk: Pending[]): void {
    let worker: Worker;
    try {
      worker = slot.worker ?? this.start(slot);
    } catch {
      this.verifyHere(chunk);
      return;
    }
    const id = this.nextId++;
    slot.posted.set(id, chunk);
    slot.load += chunk.length;
    worker.ref();
    worker.postMessage({
      id,
      jobs: chunk.map((p) => (p.kind === 'verify' ? compactJob(p.job) : compactReceiptJob(p.job))),
    });
  }

  private start(slot: Slot): Worker {
    const worker = new Worker(this.workerUrl, { workerData: { backend: this.backendName } });
    worker.unref();
    worker.on('message', (m: { id: number; results: WireResult[] }) => {
      const chunk = slot.posted.get(m.id);
      if (!chunk) return;
      slot.posted.delete(m.id);
      slot.load -= chunk.length;
      for (const [i, p] of chunk.entries()) settle(p, m.results[i]);
      if (slot.posted.size === 0) worker.unref();
    });
    const fail = (): void => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      const orphans = [...slot.posted.values()].flat();
      slot.posted.clear();
      slot.load = 0;
      this.verifyHere(orphans);
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    slot.worker = worker;
    return worker;
  }

  private verifyHere(chunk: readonly Pending[]): void {
    for (const p of chunk) {
      if (p.kind === 'receipt') {
        p.resolve(runReceiptCheck(p.job, this.fallback));
        continue;
      }
      const { job } = p;
      p.resolve(this.fallback.verify(job.alg, job.publicKey, job.message, job.signature, job.context));
    }
  }
}

/** Answers a job with what its worker (or this thread) gave: a non-boolean verification is a failure. */
function settle(p: Pending, result: WireResult | undefined): void {
  if (p.kind === 'verify') p.resolve(result === true);
  else p.resolve(typeof result === 'object' ? unwireCheck(result, p.job) : { verdict: 'undecided' });
}

/** Clocks `threadCpuBusy` reads, in ms: this thread's CPU time and the wall clock (tests pass their own). */
export interface BusyClocks {
  cpuMs(): number;
  wallMs(): number;
}

const threadClocks: BusyClocks = {
  cpuMs: () => {
    const u = process.threadCpuUsage();
    return (u.user + u.system) / 1000;
  },
  wallMs: () => performance.now(),
};

/**
 * Whether this thread used more than half a core over the last ~100 ms (re-measured at most every
 * 100 ms: two cheap calls per flush). Unlike event-loop utilisation it counts only the CPU the thread
 * got, not the time it waited for a core that other processes held (which event-loop utilisation
 * counts as busy), so on a loaded machine a
 * gateway at a modest rate still verifies its few checks here instead of paying a worker's round
 * trip for each (docs/performance.md §10, sixth round); a thread that is really saturated still
 * hands its checks to the workers.
 */
export function threadCpuBusy(clocks: BusyClocks = threadClocks): () => boolean {
  let cpuMark = clocks.cpuMs();
  let wallMark = clocks.wallMs();
  let busy = false;
  return () => {
    const wall = clocks.wallMs();
    if (wall - wallMark >= 100) {
      const cpu = clocks.cpuMs();
      busy = (cpu - cpuMark) / (wall - wallMark) > 0.5;
      cpuMark = cpu;
      wallMark = wall;
    }
    return busy;
  };
}

/** The worker file next to this one; none when bundled into one CommonJS file (the Fabric chaincode bundle). */
function defaultWorkerUrl(): URL | undefined {
  const here: unknown = import.meta.url;
  return typeof here === 'string' ? new URL('./verify-worker.js', here) : undefined;
}

/** Structured cloning copies a view's whole ArrayBuffer: post only the bytes that matter. */
const compact = (u: Uint8Array): Uint8Array =>
  u.byteOffset === 0 && u.byteLength === u.buffer.byteLength ? u : u.slice();

function compactJob(job: VerifyJob): VerifyJob {
  return {
    alg: job.alg,
    publicKey: compact(job.publicKey),
    message: compact(job.message),
    signature: compact(job.signature),
    context: compact(job.context),
  };
}

function compactReceiptJob(job: ReceiptJob): ReceiptJob {
  return typeof job.input === 'string' ? job : { ...job, input: compact(job.input) };
}

/**
 * `backend` with `verifyAsync` on a pool of `workers` threads (each running the backend named like
 * `backend`); with 0 workers, or no worker file (the Fabric chaincode bundle), `backend` unchanged.
 * `inlineUpTo`: the pool's low-load threshold (VerifyPool; default 0, always the workers).
 */
export function withVerificationPool(
  backend: MlDsaBackend,
  options: { workers: number; workerUrl?: URL; inlineUpTo?: number; mainThreadBusy?: () => boolean },
): MlDsaBackend & { readonly pool: VerifyPool | undefined } {
  const workerUrl = options.workerUrl ?? defaultWorkerUrl();
  if (options.workers <= 0 || !workerUrl) return { ...delegateTo(backend), pool: undefined };
  const pool = new VerifyPool(
    options.workers,
    backend.name,
    backend,
    workerUrl,
    options.inlineUpTo,
    options.mainThreadBusy,
  );
  return {
    ...delegateTo(backend),
    pool,
    verifyAsync: (alg, publicKey, message, signature, context) =>
      pool.verify({ alg, publicKey, message, signature, context }),
  };
}

/** A backend that does what `backend` does (its `verifyAsync` included), for a wrapper to override. */
function delegateTo(backend: MlDsaBackend): MlDsaBackend {
  return {
    name: backend.name,
    publicKeyFromSeed: (alg, seed) => backend.publicKeyFromSeed(alg, seed),
    randomSeed: () => backend.randomSeed(),
    sign: (alg, seed, message, context, signOptions) =>
      backend.sign(alg, seed, message, context, signOptions),
    verify: (alg, publicKey, message, signature, context) =>
      backend.verify(alg, publicKey, message, signature, context),
    ...(backend.verifyAsync ? { verifyAsync: backend.verifyAsync.bind(backend) } : {}),
  };
}

/**
 * `backend` answering from `memo` what it accepted before, on both paths (soundness: VerificationMemo).
 * Worth it only where one process verifies the same signature twice: the embedded gateway, whose
 * pre-verification and contract share one backend (gateway/service.ts; docs/performance.md measures it).
 */
export function withVerificationMemo(
  backend: MlDsaBackend,
  memo: VerificationMemo = new VerificationMemo(),
): MlDsaBackend & { readonly memo: VerificationMemo } {
  /** The key to add once `job` verifies, or undefined when the memo already answers it (an accepted tuple). */
  const missing = (job: VerifyJob): string | undefined => {
    if (memo.hasAccepted(job)) return undefined;
    const key = VerificationMemo.key(job);
    return memo.has(key) ? undefined : key;
  };
  return {
    ...delegateTo(backend),
    memo,
    verify(alg, publicKey, message, signature, context) {
      const key = missing({ alg, publicKey, message, signature, context });
      if (key === undefined) return true;
      const ok = backend.verify(alg, publicKey, message, signature, context);
      if (ok) memo.add(key);
      return ok;
    },
    async verifyAsync(alg, publicKey, message, signature, context) {
      const key = missing({ alg, publicKey, message, signature, context });
      if (key === undefined) return true;
      const ok = backend.verifyAsync
        ? await backend.verifyAsync(alg, publicKey, message, signature, context)
        : backend.verify(alg, publicKey, message, signature, context);
      if (ok) memo.add(key);
      return ok;
    },
  };
}

/**
 * A receipt's pre-check (receipt-check.ts) with the keys the caller looked up: on the pool's workers when
 * there is a pool, else on this thread; the memo keys of an accepted receipt go into `memo`.
 */
export type ReceiptChecker = (input: Uint8Array | string, keys: ReceiptJob['keys']) => Promise<ReceiptCheck>;

export function receiptChecker(
  pool: VerifyPool | undefined,
  backend: MlDsaBackend,
  memo: VerificationMemo | undefined,
): ReceiptChecker {
  return async (input, keys) => {
    const job = { input, keys, memoKeys: memo !== undefined };
    const check = pool ? await pool.checkReceipt(job) : runReceiptCheck(job, backend);
    // Tuples the verifier (of this process, on a worker) just accepted: VerificationMemo's rule. By key, and
    // by the arrays of this parse, which is what a pre-check hands over to the contract: the same bytes the
    // worker verified (a structured clone is exact), with the keys it was given.
    if (memo && check.verdict === 'valid') {
      for (const key of check.memoKeys) memo.add(key);
      // Kept on the parse, so that the contract's check of it does not encode its text a second time.
      const message = keepSignedBytes(check.receipt);
      for (const s of check.receipt.signatures) {
        const key = keys.get(s.keyId);
        if (key) {
          memo.addAccepted({
            alg: key.alg,
            publicKey: key.publicKey,
            message,
            signature: s.signature,
            context: RECEIPT_CONTEXT,
          });
        }
      }
    }
    return check;
  };
}

/**
 * The platform's backend (`#crypto-backend`) with its async checks on `workers` threads (default one
 * per core, started on first use; `inlineUpTo` as VerifyPool), and with `memo` a fresh
 * VerificationMemo in front of both paths; `checkReceipt` pre-checks receipts with the same pool and memo.
 */
export function pooledMlDsa(options: {
  workers?: number;
  memo: boolean;
  inlineUpTo?: number;
}): MlDsaBackend & {
  readonly pool: VerifyPool | undefined;
  readonly checkReceipt: ReceiptChecker;
} {
  const pooled = withVerificationPool(platformMlDsa, {
    workers: options.workers ?? availableParallelism(),
    ...(options.inlineUpTo === undefined ? {} : { inlineUpTo: options.inlineUpTo }),
  });
  if (!options.memo)
    return { ...pooled, checkReceipt: receiptChecker(pooled.pool, platformMlDsa, undefined) };
  const memoized = withVerificationMemo(pooled);
  return {
    ...memoized,
    pool: pooled.pool,
    checkReceipt: receiptChecker(pooled.pool, platformMlDsa, memoized.memo),
  };
}
