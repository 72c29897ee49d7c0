/** A ReceiptChecker on worker threads: receipt checks on every core. */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type {
  ReceiptCheckContext,
  ReceiptChecker,
  ReceiptCheckResult,
  ReceiptLine,
} from '../../core/index.js';

interface Slot {
  worker: Worker;
  busy: number;
  contexts: WeakSet<ReceiptCheckContext>;
}

export class WorkerPool implements ReceiptChecker {
  private readonly slots: Slot[];
  private readonly pending = new Map<
    number,
    { resolve: (r: ReceiptCheckResult[]) => void; reject: (e: Error) => void }
  >();
  private readonly contextIds = new WeakMap<ReceiptCheckContext, number>();
  private nextBatch = 0;
  private nextContext = 0;

  constructor(readonly size: number = availableParallelism()) {
    const url = new URL('./worker.js', import.meta.url);
    this.slots = Array.from({ length: size }, () => {
      const worker = new Worker(url);
      worker.on('message', (m: { batch: number; results: ReceiptCheckResult[] }) => {
        const p = this.pending.get(m.batch);
        this.pending.delete(m.batch);
        p?.resolve(m.results);
      });
      worker.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      return { worker, busy: 0, contexts: new WeakSet() };
    });
  }

  async check(
    jobs: readonly { line: number; receipt: ReceiptLine }[],
    context: ReceiptCheckContext,
  ): Promise<ReceiptCheckResult[]> {
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    let contextId = this.contextIds.get(context);
    if (contextId === undefined) {
      contextId = this.nextContext++;
      this.contextIds.set(context, contextId);
    }
    if (!slot.contexts.has(context)) {
      slot.worker.postMessage({ context: { id: contextId, value: context } });
      slot.contexts.add(context);
    }
    const batch = this.nextBatch++;
    slot.busy++;
    try {
      return await new Promise<ReceiptCheckResult[]>((resolve, reject) => {
        this.pending.set(batch, { resolve, reject });
        slot.worker.postMessage({ batch, contextId, jobs });
      });
    } finally {
      slot.busy--;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
