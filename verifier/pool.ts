/**
 * A ReceiptChecker on Web Workers: the browser's counterpart of cli/verify/pool.ts. Each worker
 * runs this same page script (from a blob: URL, so nothing is fetched) and answers batches with
 * core's pure `checkReceiptLine`.
 */
import {
  checkReceiptLine,
  type ReceiptCheckContext,
  type ReceiptChecker,
  type ReceiptCheckResult,
  type ReceiptLine,
} from '../core/index.js';

interface Job {
  line: number;
  receipt: ReceiptLine;
}

type Request =
  | { context: { id: number; value: ReceiptCheckContext } }
  | { batch: number; contextId: number; jobs: Job[] };

interface Answer {
  batch: number;
  results?: ReceiptCheckResult[];
  error?: string;
}

interface Slot {
  worker: Worker;
  busy: number;
  contexts: Set<number>;
}

/** The worker side: runs when the page script finds itself in a worker. */
export function serveChecks(scope: {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(m: Answer): void;
}): void {
  const contexts = new Map<number, ReceiptCheckContext>();
  scope.onmessage = (e) => {
    const m = e.data;
    if ('context' in m) {
      contexts.set(m.context.id, m.context.value);
      return;
    }
    try {
      const context = contexts.get(m.contextId);
      if (!context) throw new Error(`unknown context ${m.contextId}`);
      scope.postMessage({
        batch: m.batch,
        results: m.jobs.map((j) => checkReceiptLine(j.line, j.receipt, context)),
      });
    } catch (err) {
      scope.postMessage({ batch: m.batch, error: String((err as Error)?.message ?? err) });
    }
  };
}

export class WebWorkerPool implements ReceiptChecker {
  private readonly slots: Slot[];
  private readonly pending = new Map<
    number,
    { resolve: (r: ReceiptCheckResult[]) => void; reject: (e: Error) => void }
  >();
  private readonly contextIds = new WeakMap<ReceiptCheckContext, number>();
  private nextBatch = 0;
  private nextContext = 0;

  /** Throws when workers cannot be made here (the caller then checks in-thread). */
  constructor(
    scriptUrl: string,
    readonly size: number,
  ) {
    this.slots = Array.from({ length: size }, () => {
      const worker = new Worker(scriptUrl);
      worker.onmessage = (e: MessageEvent<Answer>) => {
        const p = this.pending.get(e.data.batch);
        this.pending.delete(e.data.batch);
        if (e.data.error !== undefined) p?.reject(new Error(e.data.error));
        else p?.resolve(e.data.results ?? []);
      };
      worker.onerror = (e) => {
        for (const p of this.pending.values()) p.reject(new Error(e.message || 'verification worker failed'));
        this.pending.clear();
      };
      return { worker, busy: 0, contexts: new Set<number>() };
    });
  }

  async check(jobs: readonly Job[], context: ReceiptCheckContext): Promise<ReceiptCheckResult[]> {
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    let contextId = this.contextIds.get(context);
    if (contextId === undefined) {
      contextId = this.nextContext++;
      this.contextIds.set(context, contextId);
    }
    if (!slot.contexts.has(contextId)) {
      slot.worker.postMessage({ context: { id: contextId, value: context } } satisfies Request);
      slot.contexts.add(contextId);
    }
    const batch = this.nextBatch++;
    slot.busy++;
    try {
      return await new Promise<ReceiptCheckResult[]>((resolve, reject) => {
        this.pending.set(batch, { resolve, reject });
        slot.worker.postMessage({ batch, contextId, jobs: [...jobs] } satisfies Request);
      });
    } finally {
      slot.busy--;
    }
  }

  async close(): Promise<void> {
    for (const s of this.slots) s.worker.terminate();
  }
}
