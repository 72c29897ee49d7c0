/**
 * Receipts for the benchmarks: realistic `.mu` files (ML-DSA-65, one signature, ~4.8 KB), made
 * with core exactly as a service would. Signing costs ~1 ms each, so large sets are signed on
 * worker threads (sign-worker.ts), one per core.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  assembleReceipt,
  createReceiptText,
  newUlid,
  parseReceipt,
  privateKeyFromSeed,
  signReceipt,
} from '../core/index.js';

/** The key every benchmark receipt is signed with (the seed is public: this is a benchmark). */
export const BENCH_SEED = new Uint8Array(32).fill(9);
export const benchKey = privateKeyFromSeed('ML-DSA-65', BENCH_SEED);

export interface ReceiptShape {
  readonly source?: string;
  readonly subject?: string;
  readonly id?: string;
  readonly occurredAt?: string;
}

/** The unsigned receipt text of benchmark receipt `i`. */
export function receiptText(i: number, shape: ReceiptShape = {}): string {
  return createReceiptText({
    fields: {
      format: 'torgo.receipt/1',
      id: shape.id ?? newUlid(),
      source: shape.source ?? 'bench-relay',
      operation: 'vitals.forward',
      subject: shape.subject ?? `urn:torgo:subject:${i % 1000}`,
      occurredAt: shape.occurredAt ?? new Date().toISOString(),
      payloadDigests: [`sha256:${(i + 1).toString(16).padStart(64, '0')}`],
    },
    sections: [{ name: 'Intent', lines: [`Forward vitals batch ${i}.`] }],
  });
}

/** `n` signed receipts, signed on this thread (small sets). */
export function makeReceipts(n: number, source = 'bench-relay'): string[] {
  return Array.from({ length: n }, (_, i) => signReceipt(parseReceipt(receiptText(i, { source })), benchKey));
}

/** Signs unsigned receipt texts with the bench key on one worker per core; same order out. */
export async function signTexts(texts: readonly string[]): Promise<string[]> {
  const workers = Math.min(availableParallelism(), Math.max(1, Math.ceil(texts.length / 500)));
  const per = Math.ceil(texts.length / workers);
  const url = new URL('./sign-worker.js', import.meta.url);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const chunk = texts.slice(w * per, (w + 1) * per);
      return new Promise<string[]>((resolve, reject) => {
        const worker = new Worker(url, { workerData: { seed: BENCH_SEED, texts: chunk } });
        worker.once('message', (signed: string[]) => {
          resolve(signed);
          void worker.terminate();
        });
        worker.once('error', reject);
      });
    }),
  );
  return parts.flat();
}

/** `n` signed receipts, signed in parallel. */
export async function signedReceipts(
  n: number,
  shape: (i: number) => ReceiptShape = () => ({}),
): Promise<string[]> {
  return signTexts(Array.from({ length: n }, (_, i) => receiptText(i, shape(i))));
}

/** A `.mu` with `text` and a signature line copied from `signed` (right size, does not verify). */
export function withBorrowedSignature(text: string, signed: string): string {
  const r = parseReceipt(signed);
  return assembleReceipt(text, r.signatures);
}
