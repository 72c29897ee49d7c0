/** Node only: a verify-pool.ts worker. Answers each batch of jobs with the backend it was started with. */
import { parentPort, workerData } from 'node:worker_threads';
import type { VerifyJob } from './verify-pool.js';
import { nativeBackend } from './native.js';
import { nobleBackend } from './noble.js';

const backend = (workerData as { backend: string }).backend === 'native' ? nativeBackend : nobleBackend;

parentPort!.on('message', (m: { id: number; jobs: VerifyJob[] }) => {
  const results = m.jobs.map((j) => backend.verify(j.alg, j.publicKey, j.message, j.signature, j.context));
  parentPort!.postMessage({ id: m.id, results });
});
