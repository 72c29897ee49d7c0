/** A verification worker thread: answers receipt-check batches (core/bundle/pool.ts). */
import { parentPort } from 'node:worker_threads';
import { type CheckRequest, serveChecks } from '../../core/bundle/pool.js';
import { preferNativeMlDsa } from '../../core/crypto/native.js';

preferNativeMlDsa();
const port = parentPort!;
serveChecks(
  (handler) => port.on('message', (m: CheckRequest) => handler(m)),
  (answer) => port.postMessage(answer),
);
