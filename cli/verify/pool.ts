/** Receipt checks on every core: core's CheckerPool over Node worker threads. */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type CheckAnswer, CheckerPool } from '../../core/bundle/pool.js';

export class WorkerPool extends CheckerPool {
  constructor(size: number = availableParallelism()) {
    const url = new URL('./worker.js', import.meta.url);
    super(
      Array.from({ length: size }, () => {
        const worker = new Worker(url);
        return {
          post: (request, transfer) => worker.postMessage(request, transfer),
          listen: (onAnswer, onError) => {
            worker.on('message', (a: CheckAnswer) => onAnswer(a));
            worker.on('error', onError);
          },
          terminate: () => worker.terminate(),
        };
      }),
    );
  }
}
