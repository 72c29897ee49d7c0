/**
 * Receipt checks on Web Workers: core's CheckerPool (core/bundle/pool.ts), the browser's
 * counterpart of cli/verify/pool.ts. Each worker runs this same page script (from a blob: URL,
 * so nothing is fetched) and answers with `serveChecks`.
 */
import { type CheckAnswer, type CheckRequest, CheckerPool, serveChecks } from '../core/bundle/pool.js';

/** The worker side: runs when the page script finds itself in a worker. */
export function serveWorker(scope: {
  onmessage: ((e: MessageEvent<CheckRequest>) => void) | null;
  postMessage(m: CheckAnswer, transfer: Transferable[]): void;
}): void {
  serveChecks(
    (handler) => {
      scope.onmessage = (e) => handler(e.data);
    },
    (answer, transfer) => scope.postMessage(answer, transfer ?? []),
  );
}

export class WebWorkerPool extends CheckerPool {
  /** Throws when workers cannot be made here (the caller then checks in-thread). */
  constructor(scriptUrl: string, size: number) {
    super(
      Array.from({ length: size }, () => {
        const worker = new Worker(scriptUrl);
        return {
          post: (request, transfer) => worker.postMessage(request, transfer ?? []),
          listen: (onAnswer, onError) => {
            worker.onmessage = (e: MessageEvent<CheckAnswer>) => onAnswer(e.data);
            worker.onerror = (e) => onError(new Error(e.message || 'verification worker failed'));
          },
          terminate: () => {
            worker.terminate();
            return undefined;
          },
        };
      }),
    );
  }
}
