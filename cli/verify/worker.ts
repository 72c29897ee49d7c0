/** A verification worker thread: answers receipt-check batches (core/bundle/pool.ts) with the platform's ML-DSA. */
import { parentPort } from 'node:worker_threads';
import { type CheckRequest, serveChecks } from '../../core/bundle/pool.js';

const port = parentPort!;
serveChecks(
  (handler) => port.on('message', (m: CheckRequest) => handler(m)),
  (answer, transfer) => port.postMessage(answer, transfer),
);
