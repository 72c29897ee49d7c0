/**
 * Node only. The memo of successful verifications (soundness: verify-pool.ts, `withVerificationMemo`)
 * and the job it is keyed by, apart from the pool so that a worker can compute a memo key too.
 */
import { createHash } from 'node:crypto';
import type { MlDsaAlgorithm } from './mldsa.js';

export interface VerifyJob {
  readonly alg: MlDsaAlgorithm;
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly context: Uint8Array;
}

/** Entries kept: ~100 bytes each; a few seconds of appends at full speed. */
const MEMO_LIMIT = 32_768;

export class VerificationMemo {
  private readonly entries = new Set<string>();

  constructor(private readonly limit = MEMO_LIMIT) {}

  static key(job: VerifyJob): string {
    const h = createHash('sha256');
    const length = Buffer.alloc(4);
    for (const part of [
      Buffer.from(job.alg, 'utf8'),
      job.publicKey,
      job.context,
      job.signature,
      job.message,
    ]) {
      length.writeUInt32BE(part.length);
      h.update(length).update(part);
    }
    return h.digest().toString('latin1');
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Call only with the key of a tuple the verifier accepted. */
  add(key: string): void {
    if (this.entries.has(key)) return;
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.values().next().value!);
    this.entries.add(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
