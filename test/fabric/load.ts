/**
 * Append load for the fault drills: `concurrency` clients, each appending signed receipts one at a
 * time the way a well-behaved service does — on 503 it waits for Retry-After (capped) and sends the
 * same receipt again (appends are idempotent), on a network error (the gateway itself is down) it
 * retries too; on 504 E_COMMIT_UNKNOWN (the outcome is unknown) it sends the same receipt again, as
 * a client that must not lose it does, and counts it. Everything a client was told is recorded, so a drill can assert what was answered
 * (never 500, every 503 with Retry-After) and check every acknowledged receipt afterwards.
 */
import type { PrivateKey } from '../../core/index.js';
import { call, idOf, receipt } from '../gateway/helpers.js';
import { sleep } from './network.js';

export interface LoadStats {
  readonly acked: ReadonlySet<string>;
  /** Times (ms since epoch) of every acknowledgement. */
  readonly ackTimes: readonly number[];
  readonly statuses: ReadonlyMap<number, number>;
  /** 503 answers without a Retry-After header. */
  readonly unavailableWithoutRetryAfter: number;
  /** 504 E_COMMIT_UNKNOWN answers (the receipt was sent again), with their messages. */
  readonly commitUnknown: readonly string[];
  /** Error bodies of answers other than 200/201/503, by `status code`. */
  readonly unexpected: readonly string[];
  readonly networkErrors: number;
}

export class AppendLoad {
  private stopping = false;
  private aborted = false;
  private workers: Promise<void>[] = [];
  private readonly acked = new Set<string>();
  private readonly ackTimes: number[] = [];
  private readonly statuses = new Map<number, number>();
  private readonly unexpected: string[] = [];
  private readonly commitUnknown: string[] = [];
  private noRetryAfter = 0;
  private networkErrors = 0;

  constructor(
    private readonly url: () => string,
    private readonly token: string,
    private readonly key: PrivateKey,
    readonly source: string,
    private readonly concurrency = 8,
  ) {}

  start(): void {
    for (let i = 0; i < this.concurrency; i++) this.workers.push(this.worker());
  }

  private async worker(): Promise<void> {
    while (!this.stopping) await this.appendOne(receipt([this.key], { source: this.source }));
  }

  /** Sends one receipt until it is acknowledged (or refused for good), like a client that must not lose it. */
  private async appendOne(mu: string): Promise<void> {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && !this.aborted) {
      let r: Awaited<ReturnType<typeof call>>;
      try {
        r = await call(this.url(), 'POST', '/v1/receipts', { token: this.token, raw: mu });
      } catch {
        this.networkErrors++;
        await sleep(250);
        continue;
      }
      this.statuses.set(r.status, (this.statuses.get(r.status) ?? 0) + 1);
      if (r.status === 201 || r.status === 200) {
        this.acked.add(idOf(mu));
        this.ackTimes.push(Date.now());
        return;
      }
      if (r.status === 503) {
        const after = Number(r.headers.get('retry-after'));
        if (!Number.isFinite(after) || after <= 0) this.noRetryAfter++;
        await sleep(Math.min(Number.isFinite(after) && after > 0 ? after * 1000 : 1000, 1000));
        continue;
      }
      if (r.status === 504 && r.json?.code === 'E_COMMIT_UNKNOWN') {
        this.commitUnknown.push(String(r.json.message).slice(0, 300));
        await sleep(1000);
        continue;
      }
      this.unexpected.push(`${r.status} ${r.text.slice(0, 300)}`);
      return;
    }
    if (!this.aborted) this.unexpected.push(`never acknowledged within 180 s: ${idOf(mu)}`);
  }

  /** Waits until `n` more receipts are acknowledged than now. */
  async more(n: number, ms = 60_000): Promise<void> {
    const target = this.acked.size + n;
    const deadline = Date.now() + ms;
    while (this.acked.size < target) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.acked.size} of ${target} receipts acknowledged after ${ms} ms`);
      await sleep(100);
    }
  }

  /** Stops after every client's current receipt is answered. */
  async stop(): Promise<LoadStats> {
    this.stopping = true;
    await Promise.all(this.workers);
    return this.stats();
  }

  /** Stops at once, without waiting for the receipts in flight (a drill that failed half way). */
  abort(): void {
    this.stopping = true;
    this.aborted = true;
  }

  stats(): LoadStats {
    return {
      acked: this.acked,
      ackTimes: this.ackTimes,
      statuses: this.statuses,
      unavailableWithoutRetryAfter: this.noRetryAfter,
      commitUnknown: this.commitUnknown,
      unexpected: this.unexpected,
      networkErrors: this.networkErrors,
    };
  }
}
