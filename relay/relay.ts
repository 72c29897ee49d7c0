/**
 * The relay as a library: `Relay.open(…)` gives an object that accepts receipts (durable in the
 * outbox before `accept` resolves) and forwards them to the gateways in the background. `torgo
 * relay` (relay/server.ts) puts an HTTP intake in front of the same object.
 */
import { pino, type Logger } from 'pino';
import type { PrivateKey } from '../core/index.js';
import { RelayError } from './errors.js';
import { type ForwarderOptions, Forwarder, type ForwardingStatus } from './forwarder.js';
import { admissionOf } from './intake.js';
import { createRelayMetrics, type RelayMetrics } from './metrics.js';
import { type Admission, Outbox, type OutboxLimits, type RejectedReceipt } from './outbox.js';
import type { ForwardTarget } from './target.js';

export interface RelayOptions {
  /** The outbox's LevelDB folder. */
  readonly dataDir: string;
  readonly limits: OutboxLimits;
  /** Gateways of one ledger, tried in turn. */
  readonly targets: readonly ForwardTarget[];
  readonly forward: ForwarderOptions;
  /** Signs every accepted receipt (deterministic ML-DSA) before it is stored. */
  readonly signer?: PrivateKey;
  readonly log?: Logger;
}

/** The answer to an accepted receipt: it is durable in the outbox. */
export interface Accepted {
  readonly id: string;
  /** `sha256:<hex>` of the receipt as stored and forwarded (after the relay's signature, if any). */
  readonly digest: string;
  /** Position in the outbox (acceptance order). */
  readonly sequence: number;
  /** `queued`: made durable now; `existing`: the same bytes were already queued. */
  readonly status: 'queued' | 'existing';
}

export interface RelayStatus {
  readonly backlog: {
    readonly receipts: number;
    readonly bytes: number;
    readonly oldestAcceptedAt: string | null;
    readonly oldestAgeSeconds: number;
  };
  readonly rejected: { readonly receipts: number; readonly bytes: number };
  readonly limits: OutboxLimits;
  readonly forwarding: Omit<ForwardingStatus, 'oldestAcceptedAt'>;
  readonly signerKeyId: string | null;
}

export class Relay {
  private closing = false;

  private constructor(
    private readonly outbox: Outbox,
    private readonly forwarder: Forwarder,
    readonly metrics: RelayMetrics,
    private readonly signer: PrivateKey | undefined,
  ) {}

  static async open(options: RelayOptions): Promise<Relay> {
    const log = options.log ?? pino({ level: 'silent' });
    const outbox = await Outbox.open(options.dataDir, options.limits);
    let forwarder: Forwarder | undefined;
    const metrics = createRelayMetrics(() => ({
      ...outbox.counts,
      oldestAcceptedAt: forwarder?.status().oldestAcceptedAt,
    }));
    try {
      forwarder = new Forwarder(outbox, options.targets, options.forward, metrics, log);
    } catch (e) {
      await outbox.close();
      throw e;
    }
    forwarder.start();
    return new Relay(outbox, forwarder, metrics, options.signer);
  }

  /** Checks, signs (with a signer) and stores one receipt; resolves once it is durable. */
  async accept(receipt: Uint8Array | string): Promise<Accepted> {
    const [result] = await this.acceptBatch([receipt]);
    if (result instanceof RelayError) throw result;
    return result!;
  }

  /**
   * Each receipt on its own account: one result per input, in order, a RelayError for those refused
   * (invalid, conflicting, outbox full). All accepted ones share one fsync.
   */
  async acceptBatch(receipts: readonly (Uint8Array | string)[]): Promise<(Accepted | RelayError)[]> {
    if (this.closing) throw new RelayError('E_RELAY_CLOSED', 'the relay is stopping');
    const results: (Accepted | RelayError)[] = new Array(receipts.length);
    const valid: { index: number; admission: Admission }[] = [];
    for (const [index, input] of receipts.entries()) {
      try {
        valid.push({ index, admission: admissionOf(input, this.signer) });
      } catch (e) {
        if (!(e instanceof RelayError)) throw e;
        results[index] = e;
      }
    }
    const admitted = valid.length > 0 ? await this.outbox.admit(valid.map((v) => v.admission)) : [];
    admitted.forEach((a, i) => {
      results[valid[i]!.index] =
        a instanceof RelayError
          ? a
          : { id: a.id, digest: a.digest, sequence: a.seq, status: a.created ? 'queued' : 'existing' };
    });
    for (const r of results) {
      if (r instanceof RelayError) this.metrics.refused.inc({ code: r.code });
      else this.metrics.received.inc({ status: r.status });
    }
    return results;
  }

  status(): RelayStatus {
    const counts = this.outbox.counts;
    const { oldestAcceptedAt, ...forwarding } = this.forwarder.status();
    return {
      backlog: {
        receipts: counts.receipts,
        bytes: counts.bytes,
        oldestAcceptedAt: oldestAcceptedAt === undefined ? null : new Date(oldestAcceptedAt).toISOString(),
        oldestAgeSeconds:
          oldestAcceptedAt === undefined ? 0 : Math.max(0, (Date.now() - oldestAcceptedAt) / 1000),
      },
      rejected: { receipts: counts.rejected, bytes: counts.rejectedBytes },
      limits: this.outbox.limits,
      forwarding,
      signerKeyId: this.signer?.keyId ?? null,
    };
  }

  /** Receipts the gateway refused for good, oldest first (kept for the operator; never dropped). */
  rejected(limit = 100): Promise<RejectedReceipt[]> {
    return this.outbox.rejected(limit);
  }

  /** True while it accepts receipts (open, not full). */
  get accepting(): boolean {
    const c = this.outbox.counts;
    const { maxReceipts, maxBytes } = this.outbox.limits;
    return !this.closing && c.receipts + c.rejected < maxReceipts && c.bytes + c.rejectedBytes < maxBytes;
  }

  /** Stops forwarding (the request in flight is abandoned: it is resent at the next start), then closes the outbox. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.forwarder.stop();
    await this.outbox.close();
  }
}
