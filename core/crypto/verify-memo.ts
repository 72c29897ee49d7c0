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

/**
 * A tuple accepted, its bytes copied when it was accepted: the public key (a copy shared by the tuples
 * accepted with the same key array while its bytes stay the same) and context ‖ signature ‖ message.
 */
interface Accepted {
  readonly alg: string;
  readonly publicKey: Buffer;
  readonly bytes: Buffer;
  readonly context: number;
  readonly signature: number;
}

/**
 * Successful verifications, by SHA-256 of the tuple (`key`) and, for tuples added with `addAccepted`, by the
 * signature's array object as well: the parse a pre-check hands over to the contract carries the very arrays
 * the pre-check accepted, so the contract's check finds them without hashing ~5.6 KB (issue 14). An entry
 * by array answers only a tuple equal byte for byte to the one accepted (compared with a copy taken then, so
 * an array changed since does not match), and lives as long as that array (a WeakMap): nothing to bound.
 */
export class VerificationMemo {
  private readonly entries = new Set<string>();
  private readonly bySignature = new WeakMap<Uint8Array, Accepted>();
  /** The last copy taken of each public key array; reused only while the array still holds those bytes. */
  private readonly keyCopies = new WeakMap<Uint8Array, Buffer>();

  constructor(private readonly limit = MEMO_LIMIT) {}

  /** Whether `job` equals, byte for byte, the tuple accepted with its signature array (`addAccepted`). */
  hasAccepted(job: VerifyJob): boolean {
    const a = this.bySignature.get(job.signature);
    if (!a || a.alg !== job.alg) return false;
    if (!a.publicKey.equals(job.publicKey)) return false;
    const { bytes } = a;
    const ends = [a.context, a.context + a.signature, bytes.length];
    const parts = [job.context, job.signature, job.message];
    let at = 0;
    for (const [i, part] of parts.entries()) {
      if (part.length !== ends[i]! - at || bytes.compare(part, 0, part.length, at, ends[i]) !== 0)
        return false;
      at = ends[i]!;
    }
    return true;
  }

  /** Call only with a tuple the verifier accepted; `hasAccepted` then finds it by `job.signature`. */
  addAccepted(job: VerifyJob): void {
    this.bySignature.set(job.signature, {
      alg: job.alg,
      publicKey: this.keyCopy(job.publicKey),
      bytes: Buffer.concat([job.context, job.signature, job.message]),
      context: job.context.length,
      signature: job.signature.length,
    });
  }

  /** A copy of `publicKey`'s bytes now: the one taken before if the array has not changed since (issue 14). */
  private keyCopy(publicKey: Uint8Array): Buffer {
    const copy = this.keyCopies.get(publicKey);
    if (copy?.equals(publicKey)) return copy;
    const fresh = Buffer.from(publicKey);
    this.keyCopies.set(publicKey, fresh);
    return fresh;
  }

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
