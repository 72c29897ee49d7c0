/**
 * Coalescing appends. Verified receipts wait in one bounded queue per submitting identity; up to
 * `transactionsInFlight` ledger transactions run at once, each taking as many waiting receipts of
 * one identity as fit (count and bytes). Under light load every receipt is its own transaction;
 * under heavy load transactions fill up, which is where throughput comes from (on Fabric above
 * all: ordering latency is per transaction, not per receipt).
 *
 * A transaction is all or nothing. When one carrying several receipts is refused for a reason that
 * concerns one of them (a conflict, a revoked key…), each receipt is submitted again on its own, so
 * a bad receipt never takes its neighbours down. Failures that say nothing about the receipts
 * (MVCC conflicts, an unknown commit status, an endorser, the peer, the chaincode server or the
 * orderer unreachable) are retried with exponential backoff and jitter for at most `retryBudgetMs`
 * (appends are idempotent), then answered 503 E_UNAVAILABLE + Retry-After with `details.stage`
 * and `details.reason`.
 *
 * When the queue is full, `enqueue` refuses at once (E_QUEUE_FULL → 503 + Retry-After) instead of
 * holding unbounded memory.
 */
import { MAX_BATCH_BYTES, MAX_BATCH_ITEMS } from '../../chaincode/receipts.js';
import { GatewayError } from '../errors.js';
import { type AppendResult, type AuditLedger, ledgerFailure } from '../ledger/audit.js';
import { LedgerError } from '../ledger/driver.js';
import type { WalletIdentity } from '../ledger/wallet.js';
import type { GatewayMetrics } from '../metrics.js';

/** What an append answers, identical for the first append and every identical repeat. */
export interface AppendAck {
  readonly id: string;
  readonly txId: string;
  readonly block: number;
  readonly hash: string;
  readonly committedAt: string;
}

export type AppendOutcome =
  | { readonly ok: true; readonly created: boolean; readonly ack: AppendAck; readonly result: AppendResult }
  | { readonly ok: false; readonly error: GatewayError };

interface Item {
  readonly mu: string;
  readonly bytes: number;
  readonly enqueuedAt: number;
  resolve(outcome: AppendOutcome): void;
}

interface Lane {
  readonly who: WalletIdentity;
  readonly items: Item[];
}

export interface CoalescerOptions {
  readonly queueLimit: number;
  readonly receiptsPerTransaction: number;
  readonly transactionsInFlight: number;
  /** How long retries of one transaction may take in all, in ms (0: no retry). */
  readonly retryBudgetMs: number;
  /** In [0, 1); the jitter source (tests pin it). */
  readonly random?: () => number;
}

/** First retry delay; doubles per attempt up to RETRY_MAX_MS, with full jitter in [d/2, d). */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1000;
/** Headroom for the JSON array around the texts (quotes, escapes of `"` and `\`). */
const BATCH_BYTES = Math.floor(MAX_BATCH_BYTES * 0.9);
/** Codes that concern the receipt itself (counted as verification failures). */
const ITEM_CODES = /^E_(RECEIPT|SIGNATURE|KEY)_/;

/**
 * An append whose commit status stayed unknown (the orderer went away with the transaction, say) is
 * answered 503 + Retry-After, not 504: what the client should do is exactly what 503 says — send the
 * same receipt again later — and that is safe, because appending is idempotent (a receipt that did
 * commit answers 200 with its original transaction). Other transactions (keys, checkpoints) keep 504.
 */
function unknownAsUnavailable(error: GatewayError): GatewayError {
  if (error.code !== 'E_COMMIT_UNKNOWN') return error;
  return new GatewayError(
    'E_UNAVAILABLE',
    `the ledger did not confirm the commit in time (${error.message}); send the same receipt again: a receipt already committed answers 200`,
    { ...error.details, reason: 'COMMIT_STATUS_UNKNOWN' },
    { cause: error.cause ?? error },
  );
}

export class Coalescer {
  private readonly lanes = new Map<string, Lane>();
  private queued = 0;
  private inFlightItems = 0;
  private inFlight = 0;
  private closed = false;
  private drained: (() => void) | undefined;
  private readonly perTx: number;

  constructor(
    private readonly ledger: AuditLedger,
    private readonly options: CoalescerOptions,
    private readonly metrics: GatewayMetrics,
  ) {
    this.perTx = Math.min(options.receiptsPerTransaction, MAX_BATCH_ITEMS);
  }

  /** Receipts queued or inside a transaction. */
  get depth(): number {
    return this.queued + this.inFlightItems;
  }

  /**
   * Queues receipts (already verified) for `who`; one promise per receipt, never rejecting.
   * Throws E_QUEUE_FULL (nothing queued) when they do not all fit, E_UNAVAILABLE once closing.
   */
  enqueue(who: WalletIdentity, mus: readonly string[]): Promise<AppendOutcome>[] {
    if (this.closed) throw new GatewayError('E_UNAVAILABLE', 'the gateway is shutting down');
    if (this.depth + mus.length > this.options.queueLimit) {
      throw new GatewayError(
        'E_QUEUE_FULL',
        `the append queue is full (${this.options.queueLimit} receipts); retry later`,
        {
          queueLimit: this.options.queueLimit,
        },
      );
    }
    const key = `${who.mspId}\n${who.label}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { who, items: [] };
      this.lanes.set(key, lane);
    }
    const now = performance.now();
    const promises = mus.map(
      (mu) =>
        new Promise<AppendOutcome>((resolve) => {
          lane.items.push({ mu, bytes: Buffer.byteLength(mu, 'utf8'), enqueuedAt: now, resolve });
        }),
    );
    this.queued += mus.length;
    this.pump();
    return promises;
  }

  /** Stops taking receipts and resolves once every queued one has its answer. */
  drain(): Promise<void> {
    this.closed = true;
    if (this.depth === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.drained = resolve;
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.transactionsInFlight && this.queued > 0) {
      // Round robin over lanes: the first lane with work goes, then moves to the back.
      for (const [key, lane] of this.lanes) {
        this.lanes.delete(key);
        if (lane.items.length === 0) continue;
        const batch = this.take(lane);
        if (lane.items.length > 0) this.lanes.set(key, lane);
        this.queued -= batch.length;
        this.inFlightItems += batch.length;
        this.inFlight++;
        void this.run(lane.who, batch).finally(() => {
          this.inFlight--;
          this.inFlightItems -= batch.length;
          if (this.depth === 0) this.drained?.();
          this.pump();
        });
        break;
      }
    }
  }

  private take(lane: Lane): Item[] {
    const batch: Item[] = [];
    let bytes = 0;
    while (batch.length < this.perTx && lane.items.length > 0) {
      const next = lane.items[0]!;
      if (batch.length > 0 && bytes + next.bytes > BATCH_BYTES) break;
      batch.push(lane.items.shift()!);
      bytes += next.bytes;
    }
    return batch;
  }

  private async run(who: WalletIdentity, batch: Item[]): Promise<void> {
    try {
      await this.submit(who, batch);
    } catch (e) {
      // Unexpected (a bug): answer every item rather than leave a client hanging.
      const error = ledgerFailure(e);
      for (const item of batch) this.finish(item, { ok: false, error });
    }
  }

  /** The wait before attempt `attempt + 1`, or undefined when it would not fit in the budget. */
  private retryDelay(attempt: number, startedAt: number): number | undefined {
    const d = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(attempt - 1, 20));
    const wait = Math.round(d / 2 + ((this.options.random ?? Math.random)() * d) / 2);
    return performance.now() - startedAt + wait <= this.options.retryBudgetMs ? wait : undefined;
  }

  private async submit(
    who: WalletIdentity,
    batch: Item[],
    attempt = 1,
    startedAt = performance.now(),
  ): Promise<void> {
    const fcn = batch.length === 1 ? 'appendReceipt' : 'appendReceipts';
    this.metrics.receiptsPerTransaction.observe(batch.length);
    let committed: Awaited<ReturnType<AuditLedger['appendRaw']>>;
    try {
      committed = await this.ledger.appendRaw(
        who,
        batch.map((i) => i.mu),
      );
    } catch (e) {
      const error = ledgerFailure(e);
      this.metrics.ledgerTransactions.inc({ fcn, outcome: error.code });
      const retryable = e instanceof LedgerError && e.retryable && error.code !== 'E_QUEUE_FULL';
      if (retryable) {
        const wait = this.retryDelay(attempt, startedAt);
        if (wait !== undefined) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          return this.submit(who, batch, attempt + 1, startedAt);
        }
      }
      // The contract refused the transaction: unless it refused the submitter, one receipt may be to blame.
      if (
        !retryable &&
        batch.length > 1 &&
        error.details?.['stage'] === 'endorse' &&
        error.code !== 'E_FORBIDDEN'
      ) {
        await Promise.all(batch.map((item) => this.submit(who, [item])));
        return;
      }
      const answer = unknownAsUnavailable(
        retryable && attempt > 1
          ? new GatewayError(
              error.code,
              `${error.message} (${attempt} attempts in ${Math.round(performance.now() - startedAt)} ms)`,
              { ...error.details, attempts: attempt },
              { cause: error.cause ?? e },
            )
          : error,
      );
      for (const item of batch) this.finish(item, { ok: false, error: answer });
      return;
    }
    this.metrics.ledgerTransactions.inc({ fcn, outcome: 'committed' });
    await Promise.all(
      batch.map(async (item, i) => {
        const result = committed.results[i];
        if (!result) {
          this.finish(item, {
            ok: false,
            error: new GatewayError('E_INTERNAL', 'the ledger returned no result for this receipt'),
          });
          return;
        }
        const created = result.status === 'appended';
        // A repeat answers with the original transaction, whose block must be looked up.
        let block: number | undefined = committed.block;
        if (result.status === 'existing') block = await this.blockOfOriginal(who, result.txId);
        if (block === undefined) {
          this.finish(item, {
            ok: false,
            error: new GatewayError(
              'E_UNAVAILABLE',
              `receipt ${result.id} is on the ledger but this gateway's peer does not have its block yet; send the same receipt again`,
              { reason: 'BLOCK_NOT_VISIBLE', txId: result.txId, retryAfterSeconds: 1 },
            ),
          });
          return;
        }
        const ack: AppendAck = {
          id: result.id,
          txId: result.txId,
          block,
          hash: result.digest,
          committedAt: result.committedAt,
        };
        this.finish(item, { ok: true, created, ack, result });
      }),
    );
  }

  /**
   * The block of a repeat's original transaction. Another organisation's peer may have endorsed the
   * repeat after committing the original before this gateway's own peer has that block (seen right
   * after a BFT quorum came back), so look again with backoff within the retry budget; undefined
   * when it is still not there (answered 503: resending is safe, the append is idempotent).
   */
  private async blockOfOriginal(who: WalletIdentity, txId: string): Promise<number | undefined> {
    const startedAt = performance.now();
    for (let attempt = 1; ; attempt++) {
      const block = await this.ledger.blockOf(who, txId).catch(() => undefined);
      if (block !== undefined) return block;
      const wait = this.retryDelay(attempt, startedAt);
      if (wait === undefined) return undefined;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private finish(item: Item, outcome: AppendOutcome): void {
    const seconds = (performance.now() - item.enqueuedAt) / 1000;
    this.metrics.appendSeconds.observe(
      { outcome: outcome.ok ? (outcome.created ? 'appended' : 'existing') : outcome.error.code },
      seconds,
    );
    if (outcome.ok) this.metrics.receiptsAppended.inc({ status: outcome.created ? 'appended' : 'existing' });
    else if (ITEM_CODES.test(outcome.error.code)) {
      this.metrics.verificationFailures.inc({
        code: outcome.error.code,
        stage: String(outcome.error.details?.['stage'] ?? 'endorse'),
      });
    }
    item.resolve(outcome);
  }
}
