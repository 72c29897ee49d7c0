/**
 * Node only: a verify-pool.ts worker. Answers each batch of jobs with the backend it was started with:
 * a signature's verification (a boolean), or a receipt's pre-check (receipt-check.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type ReceiptJob, runReceiptCheck, wireCheck } from './receipt-check.js';
import type { VerifyJob } from './verify-memo.js';
import { nativeBackend } from './native.js';
import { nobleBackend } from './noble.js';

const backend = (workerData as { backend: string }).backend === 'native' ? nativeBackend : nobleBackend;

parentPort!.on('message', (m: { id: number; jobs: (VerifyJob | ReceiptJob)[] }) => {
  const results = m.jobs.map((j) =>
    'input' in j
      ? wireCheck(runReceiptCheck(j, backend), j)
      : backend.verify(j.alg, j.publicKey, j.message, j.signature, j.context),
  );
  parentPort!.postMessage({ id: m.id, results });
});
