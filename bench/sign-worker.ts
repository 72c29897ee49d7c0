/** Signs benchmark receipt texts (receipts.ts) with native ML-DSA on a worker thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { parseReceipt, privateKeyFromSeed, signReceipt } from '../core/index.js';

const { seed, texts } = workerData as { seed: Uint8Array; texts: string[] };
const key = privateKeyFromSeed('ML-DSA-65', seed);
parentPort!.postMessage(texts.map((t) => signReceipt(parseReceipt(t), key)));
