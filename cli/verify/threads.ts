/**
 * The verification worker threads, started before `torgo verify` loads core (~0.1 s of modules on the
 * main thread): each thread loads its own module graph meanwhile, on the other core, instead of after
 * it. Only types come from core here, so importing this module loads none of it.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CheckAnswer, CheckWorker } from '../../core/bundle/pool.js';

/**
 * `size` worker threads running worker.ts, as core's CheckerPool drives them. A thread that fails
 * before the pool listens (its module graph did not load) is reported to the pool when it does.
 */
export function startCheckWorkers(size: number = availableParallelism()): CheckWorker[] {
  const url = new URL('./worker.js', import.meta.url);
  return Array.from({ length: size }, () => {
    const worker = new Worker(url);
    let early: Error | undefined;
    const keep = (e: Error) => {
      early ??= e;
    };
    worker.on('error', keep);
    return {
      post: (request, transfer) => worker.postMessage(request, transfer),
      listen: (onAnswer, onError) => {
        worker.off('error', keep);
        worker.on('message', (a: CheckAnswer) => onAnswer(a));
        worker.on('error', onError);
        if (early) onError(early);
      },
      terminate: () => worker.terminate(),
    };
  });
}
