/** Receipt checks on every core: core's CheckerPool over Node worker threads (threads.ts). */
import { CheckerPool, type CheckWorker } from '../../core/bundle/pool.js';
import { startCheckWorkers } from './threads.js';

export class WorkerPool extends CheckerPool {
  /** `workers`: how many threads to start, or threads already started (`startCheckWorkers`). */
  constructor(workers?: number | readonly CheckWorker[]) {
    super(typeof workers === 'object' ? workers : startCheckWorkers(workers));
  }
}
