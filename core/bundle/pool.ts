/**
 * Fanning receipt checks out to workers, whatever the runtime calls them: Node worker threads
 * (cli/verify/pool.ts) and browser Web Workers (verifier/pool.ts) adapt to `CheckWorker`, the
 * worker side runs `serveChecks`. A context (the proven keys) is sent once per worker; batches go
 * to the least busy worker. Receipt jobs cross the boundary as plain data (structured clone), so
 * results are the in-thread ones; a batch of line bytes (frames.ts) crosses as its buffer,
 * transferred there and back.
 */
import { platformMlDsa } from '../crypto/backend.js';
import type { MlDsaBackend } from '../crypto/mldsa.js';
import type { ReceiptLine } from './format.js';
import { checkFrameBatch, type FrameAnswer, type FrameBatch, type FrameResult } from './frames.js';
import {
  checkReceiptLine,
  type ReceiptCheckContext,
  type ReceiptChecker,
  type ReceiptCheckResult,
} from './steps/receipts.js';

interface Job {
  line: number;
  receipt: ReceiptLine;
}

export type CheckRequest =
  | { context: { id: number; value: ReceiptCheckContext } }
  | { batch: number; contextId: number; jobs: Job[] }
  | { batch: number; contextId: number; frames: FrameBatch };

export interface CheckAnswer {
  batch: number;
  results?: ReceiptCheckResult[];
  /** The answer to a `frames` request: a result per line, and its buffer given back (transferred). */
  frames?: FrameResult[];
  buffer?: ArrayBuffer;
  error?: string;
}

/** One worker as the pool drives it. `transfer`: buffers whose ownership moves with the message. */
export interface CheckWorker {
  post(request: CheckRequest, transfer?: ArrayBuffer[]): void;
  /** Registers the handlers for the worker's answers and for its failure. */
  listen(onAnswer: (answer: CheckAnswer) => void, onError: (e: Error) => void): void;
  terminate(): Promise<unknown> | undefined;
}

/** The worker side: answers requests arriving through `listen` with `answer`. */
export function serveChecks(
  listen: (handler: (request: CheckRequest) => void) => void,
  answer: (a: CheckAnswer, transfer?: ArrayBuffer[]) => void,
  mlDsa: MlDsaBackend = platformMlDsa,
): void {
  const contexts = new Map<number, ReceiptCheckContext>();
  listen((m) => {
    if ('context' in m) {
      contexts.set(m.context.id, m.context.value);
      return;
    }
    try {
      const context = contexts.get(m.contextId);
      if (!context) throw new Error(`unknown context ${m.contextId}`);
      if ('frames' in m) {
        const frames = checkFrameBatch(m.frames, context, mlDsa);
        answer({ batch: m.batch, frames, buffer: m.frames.buffer }, [m.frames.buffer]);
        return;
      }
      answer({
        batch: m.batch,
        results: m.jobs.map((j) => checkReceiptLine(j.line, j.receipt, context, mlDsa)),
      });
    } catch (err) {
      answer({ batch: m.batch, error: String((err as Error)?.message ?? err) });
    }
  });
}

interface Slot {
  worker: CheckWorker;
  busy: number;
  contexts: Set<number>;
}

export class CheckerPool implements ReceiptChecker {
  private readonly slots: Slot[];
  private readonly pending = new Map<
    number,
    { resolve: (a: CheckAnswer) => void; reject: (e: Error) => void }
  >();
  private readonly contextIds = new WeakMap<ReceiptCheckContext, number>();
  private nextBatch = 0;
  private nextContext = 0;

  constructor(workers: readonly CheckWorker[]) {
    this.slots = workers.map((worker) => {
      worker.listen(
        (a) => {
          const p = this.pending.get(a.batch);
          this.pending.delete(a.batch);
          if (a.error !== undefined) p?.reject(new Error(a.error));
          else p?.resolve(a);
        },
        (e) => {
          for (const p of this.pending.values()) p.reject(e);
          this.pending.clear();
        },
      );
      return { worker, busy: 0, contexts: new Set<number>() };
    });
  }

  get size(): number {
    return this.slots.length;
  }

  async check(jobs: readonly Job[], context: ReceiptCheckContext): Promise<ReceiptCheckResult[]> {
    const a = await this.send(context, (batch, contextId) => [{ batch, contextId, jobs: [...jobs] }]);
    return a.results ?? [];
  }

  /** The batch's buffer is transferred to the worker (detached here) and comes back with the answer. */
  async checkFrames(frames: FrameBatch, context: ReceiptCheckContext): Promise<FrameAnswer> {
    const a = await this.send(context, (batch, contextId) => [{ batch, contextId, frames }, [frames.buffer]]);
    return { results: a.frames ?? [], buffer: a.buffer! };
  }

  /** Posts one request to the least busy worker (its context first, once) and awaits the answer. */
  private async send(
    context: ReceiptCheckContext,
    request: (batch: number, contextId: number) => [CheckRequest, ArrayBuffer[]?],
  ): Promise<CheckAnswer> {
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    let contextId = this.contextIds.get(context);
    if (contextId === undefined) {
      contextId = this.nextContext++;
      this.contextIds.set(context, contextId);
    }
    if (!slot.contexts.has(contextId)) {
      slot.worker.post({ context: { id: contextId, value: context } });
      slot.contexts.add(contextId);
    }
    const batch = this.nextBatch++;
    slot.busy++;
    try {
      return await new Promise<CheckAnswer>((resolve, reject) => {
        this.pending.set(batch, { resolve, reject });
        slot.worker.post(...request(batch, contextId));
      });
    } finally {
      slot.busy--;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
