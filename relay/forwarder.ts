/**
 * The forwarder: sends the outbox's oldest receipts to a gateway in batches, one batch at a time, so
 * receipts reach the ledger in acceptance order (and so in order per source). A batch leaves the
 * outbox only after the gateway answered for it; whatever happens before that (the gateway down for
 * days, the relay killed) the batch is sent again, and the gateway's idempotent append answers the
 * receipts it already holds as "existing": resends never duplicate.
 *
 * Per item: appended or existing → forwarded; refused for good (4xx: invalid, conflict, unknown key)
 * → moved aside as rejected (never dropped); transient (5xx, 429) → it and everything after it stay
 * queued and the batch is retried after a backoff. Whole-request failures (unreachable, 503,
 * timeouts, a refused token) back off exponentially with jitter, honouring Retry-After, and move on
 * to the next configured gateway of the same ledger.
 */
import type { Logger } from 'pino';
import type { RelayMetrics } from './metrics.js';
import type { Outbox, QueuedReceipt, RejectedReceipt } from './outbox.js';
import { ForwardError, type ForwardTarget, type ItemOutcome, isTransient } from './target.js';

export interface ForwarderOptions {
  /** Receipts per request at most (≤ the gateway's `limits.receiptsPerTransaction`: one transaction, in order). */
  readonly batchSize: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** One request's timeout. */
  readonly requestTimeoutMs: number;
  /** In [0, 1): the jitter source (tests may pin it). */
  readonly random?: () => number;
}

export interface TargetStatus {
  readonly gateway: string;
  lastSuccessAt?: string;
  lastError?: { at: string; code: string; message: string };
}

export interface ForwardingStatus {
  /** `idle` (nothing queued), `forwarding`, or `retrying` (the last attempt failed; waiting). */
  readonly state: 'idle' | 'forwarding' | 'retrying' | 'stopped';
  readonly consecutiveFailures: number;
  /** Receipts forwarded in the last 60 s, per second. */
  readonly ratePerSecond: number;
  /** Epoch ms of the oldest queued receipt's acceptance (undefined when none is queued). */
  readonly oldestAcceptedAt: number | undefined;
  readonly gateways: readonly TargetStatus[];
}

interface Classified {
  forwarded: QueuedReceipt[];
  created: number;
  rejected: { receipt: QueuedReceipt; error: RejectedReceipt['error'] }[];
  /** The first transient item failure; it and everything after it stay queued. */
  transient?: ForwardError;
}

const RATE_WINDOW_MS = 60_000;

export class Forwarder {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private current = 0;
  private failures = 0;
  private batchSize: number;
  private state: ForwardingStatus['state'] = 'idle';
  private oldestAcceptedAt: number | undefined;
  private readonly recent: { at: number; n: number }[] = [];
  private readonly targetStatus: TargetStatus[];

  constructor(
    private readonly outbox: Outbox,
    private readonly targets: readonly ForwardTarget[],
    private readonly options: ForwarderOptions,
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
  ) {
    if (targets.length === 0) throw new Error('the forwarder needs at least one gateway');
    this.batchSize = options.batchSize;
    this.targetStatus = targets.map((t) => ({ gateway: t.name }));
    outbox.onQueued = () => this.wake?.();
  }

  start(): void {
    this.running ??= this.loop().catch((e) => this.log.fatal({ err: e }, 'forwarder stopped'));
  }

  /** Stops after the request in flight (aborted) ; what was not answered stays queued. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.running;
    this.state = 'stopped';
  }

  status(): ForwardingStatus {
    const now = Date.now();
    while (this.recent.length > 0 && this.recent[0]!.at < now - RATE_WINDOW_MS) this.recent.shift();
    const n = this.recent.reduce((sum, r) => sum + r.n, 0);
    return {
      state: this.state,
      consecutiveFailures: this.failures,
      ratePerSecond: n / (RATE_WINDOW_MS / 1000),
      oldestAcceptedAt: this.outbox.counts.receipts > 0 ? this.oldestAcceptedAt : undefined,
      gateways: this.targetStatus.map((s) => ({ ...s })),
    };
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const batch = await this.outbox.peek(this.batchSize);
      this.oldestAcceptedAt = batch[0]?.acceptedAt;
      if (batch.length === 0) {
        this.state = 'idle';
        await this.idle();
        continue;
      }
      if (this.state !== 'retrying') this.state = 'forwarding';
      try {
        await this.forward(batch);
        this.failures = 0;
        this.state = 'forwarding';
      } catch (e) {
        if (this.abort.signal.aborted) break;
        await this.failed(e);
      }
    }
  }

  /** Sends one batch and settles what the gateway answered for. Throws to ask for a backoff. */
  private async forward(batch: readonly QueuedReceipt[]): Promise<void> {
    const target = this.targets[this.current]!;
    const status = this.targetStatus[this.current]!;
    const end = this.metrics.forwardSeconds.startTimer({ gateway: target.name });
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.requestTimeoutMs)]);
    let outcomes: readonly ItemOutcome[];
    try {
      outcomes = await target.appendBatch(
        batch.map((r) => r.mu),
        { signal },
      );
    } finally {
      end();
    }
    if (outcomes.length !== batch.length) {
      throw new ForwardError(
        'E_BAD_ANSWER',
        `${target.name} answered ${outcomes.length} results for ${batch.length} receipts`,
      );
    }
    const c = classify(batch, outcomes);
    await this.outbox.settle(c.forwarded, c.rejected);
    this.count(c, target.name);
    status.lastSuccessAt = new Date().toISOString();
    if (c.transient) throw c.transient;
  }

  private count(c: Classified, gateway: string): void {
    this.metrics.forwarded.inc({ gateway, status: 'appended' }, c.created);
    this.metrics.forwarded.inc({ gateway, status: 'existing' }, c.forwarded.length - c.created);
    for (const r of c.rejected) {
      this.metrics.rejected.inc({ code: r.error.code });
      this.log.warn(
        { id: r.receipt.id, code: r.error.code, gateway },
        'the gateway refused a receipt; kept as rejected',
      );
    }
    this.recent.push({ at: Date.now(), n: c.forwarded.length });
  }

  private async failed(e: unknown): Promise<void> {
    const target = this.targets[this.current]!;
    const error =
      e instanceof ForwardError ? e : new ForwardError('E_RELAY_INTERNAL', `forwarding failed: ${String(e)}`);
    if (error.status === 413 && this.batchSize > 1) {
      // The gateway's batch limits are lower than ours: halve, without counting a failure.
      this.batchSize = Math.max(1, Math.floor(this.batchSize / 2));
      this.log.warn(
        { gateway: target.name, batchSize: this.batchSize },
        'batch too large for the gateway; halved',
      );
      return;
    }
    this.failures++;
    this.state = 'retrying';
    this.targetStatus[this.current]!.lastError = {
      at: new Date().toISOString(),
      code: error.code,
      message: error.message,
    };
    this.metrics.forwardErrors.inc({ gateway: target.name, code: error.code });
    const delay = this.backoff(error.retryAfterMs);
    this.log.warn(
      { gateway: target.name, code: error.code, failures: this.failures, retryInMs: Math.round(delay) },
      error.message,
    );
    this.current = (this.current + 1) % this.targets.length;
    await this.sleep(delay);
  }

  /** Exponential backoff with "equal jitter" (half fixed, half random), at least the gateway's Retry-After. */
  private backoff(retryAfterMs: number | undefined): number {
    const { minBackoffMs, maxBackoffMs } = this.options;
    const random = this.options.random ?? Math.random;
    const ceiling = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(this.failures - 1, 30));
    const jittered = ceiling / 2 + (random() * ceiling) / 2;
    return Math.min(maxBackoffMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  /** Waits for new receipts (or stop). */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
      if (this.abort.signal.aborted || this.outbox.counts.receipts > 0) this.wake();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done);
    });
  }
}

/** Sorts a batch's outcomes: everything up to the first transient failure is settled. */
function classify(batch: readonly QueuedReceipt[], outcomes: readonly ItemOutcome[]): Classified {
  const c: Classified = { forwarded: [], created: 0, rejected: [] };
  for (const [i, o] of outcomes.entries()) {
    const receipt = batch[i]!;
    if (o.ok) {
      c.forwarded.push(receipt);
      if (o.created) c.created++;
    } else if (isTransient(o.status)) {
      c.transient = new ForwardError(o.code, `receipt ${receipt.id}: ${o.message}`, o.status);
      break;
    } else {
      c.rejected.push({ receipt, error: { status: o.status, code: o.code, message: o.message } });
    }
  }
  return c;
}
