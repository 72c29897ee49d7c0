/**
 * The append window: single-receipt requests of one submitting identity that arrive while another
 * of its appends is in progress wait up to `windowMs` for more, then are pre-verified together and
 * reach the coalescer in one call, so they share one ledger transaction — one endorsement, one
 * dispatch, one block, one fsync, one log-builder batch — and their signature checks share one
 * message to each verification worker. What a receipt costs when appends arrive spread out (a relay
 * feeding 150/s over a few connections) is mostly such per-transaction and per-message work, paid
 * once per receipt without the window (docs/performance.md §10). A receipt of an identity with
 * nothing in progress goes at once, so a client sending one receipt at a time waits for nothing;
 * the others wait at most `windowMs` longer, and a window closes early once it holds `maxReceipts`.
 * A receipt that arrives while another append of its identity is in progress opens a window only
 * when the identity's next receipt is due within it by its rhythm (the mean gap between its receipts,
 * engine/arrivals.ts): receipts further apart than the window go at once, so the window's length
 * costs latency only where it gathers.
 * A receipt of an identity with nothing in progress also opens a window when another of that
 * identity is *expected* within it (engine/arrivals.ts: an identity with several requests in flight
 * at once lately, whose next is due): a client spreading receipts over several connections at a
 * steady rate then shares transactions too. Such a window closes as soon as no other is expected
 * (every connection of the client has its receipt in it).
 * Kafka's `linger.ms` and Fabric's `BatchTimeout` make the same trade.
 *
 * Answers are unchanged: every receipt gets its own outcome (a transaction the contract refuses for
 * one receipt is retried receipt by receipt by the coalescer), and each request is answered once its
 * receipt is committed (acknowledged = durable). Windows close at once when draining (shutdown).
 */
import { Arrivals } from '../../engine/arrivals.js';
import type { WalletIdentity } from '../ledger/wallet.js';
import type { AppendOutcome } from './coalescer.js';

/** Pre-verifies and queues receipts; one outcome per input, in order (http/receipts.ts `appendAll`). */
export type AppendAll = (
  who: WalletIdentity,
  inputs: readonly (Uint8Array | string)[],
) => Promise<AppendOutcome[]>;

export interface AppendWindowOptions {
  /** How long a window stays open after its first receipt, in ms; 0: every request goes alone. */
  readonly windowMs: number;
  /** A window holding this many receipts closes at once. */
  readonly maxReceipts: number;
}

interface Waiter {
  resolve(outcome: AppendOutcome): void;
  reject(e: unknown): void;
}

interface Gathering {
  readonly who: WalletIdentity;
  readonly inputs: (Uint8Array | string)[];
  readonly waiters: Waiter[];
  readonly timer: NodeJS.Timeout;
  /** When it closes (performance.now()). */
  readonly deadline: number;
  /** Opened because another receipt was expected, not because an append was in progress. */
  readonly expected: boolean;
}

export class AppendWindow {
  private readonly open = new Map<string, Gathering>();
  /** Appends in progress (pre-verification to answer) per identity. */
  private readonly busy = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  /** Each identity's rhythm: requests in the gateway at once, and the gap between them. */
  private readonly arrivals = new Arrivals();
  private draining = false;

  constructor(
    private readonly options: AppendWindowOptions,
    private readonly appendAll: AppendAll,
  ) {}

  /** Receipts waiting in open windows. */
  get waiting(): number {
    let n = 0;
    for (const g of this.open.values()) n += g.inputs.length;
    return n;
  }

  /** Appends one receipt, gathered with others of `who` when the window is on. */
  async append(who: WalletIdentity, input: Uint8Array | string): Promise<AppendOutcome> {
    const key = `${who.mspId}\n${who.label}`;
    const now = performance.now();
    this.arrivals.arrived(key, now);
    try {
      return await this.gather(key, who, input, now);
    } finally {
      this.arrivals.left(key);
    }
  }

  private async gather(
    key: string,
    who: WalletIdentity,
    input: Uint8Array | string,
    now: number,
  ): Promise<AppendOutcome> {
    const { windowMs } = this.options;
    let gathering = this.open.get(key);
    const expected = !this.busy.has(key);
    const alone =
      windowMs <= 0 || this.draining || (!gathering && !this.opens(key, expected, now + windowMs, now));
    if (alone) {
      const [outcome] = await this.run(key, who, [input]);
      return outcome!;
    }
    if (!gathering) {
      const timer = setTimeout(() => this.close(key), windowMs);
      gathering = { who, inputs: [], waiters: [], timer, deadline: now + windowMs, expected };
      this.open.set(key, gathering);
    }
    const answer = new Promise<AppendOutcome>((resolve, reject) => {
      gathering.waiters.push({ resolve, reject });
    });
    gathering.inputs.push(input);
    if (
      gathering.inputs.length >= this.options.maxReceipts ||
      (gathering.expected && !this.arrivals.expects(key, gathering.deadline, now))
    ) {
      this.close(key);
    }
    return answer;
  }

  /**
   * Whether a receipt of `key` with no window open should open one closing at `deadline`: with
   * nothing of the token in progress (`expected`), when another is expected (its rhythm says it is due
   * and it can send it); behind an append in progress, when the token's next receipt is due by its
   * rhythm alone, so a token whose receipts come further apart than the window (a trickle that
   * happened to overlap) is not held for nothing. Once open, a window behind an append in progress
   * waits out its time: closing it at the first receipt predicted late lost a quarter of what it
   * gathered at 150/s (docs/performance.md §10, seventh round).
   */
  private opens(key: string, expected: boolean, deadline: number, now: number): boolean {
    return expected ? this.arrivals.expects(key, deadline, now) : this.arrivals.dueBy(key, deadline, now);
  }

  /** Closes every open window now and resolves once their receipts have their answers. */
  async drain(): Promise<void> {
    this.draining = true;
    for (const key of [...this.open.keys()]) this.close(key);
    await Promise.all(this.running);
  }

  private close(key: string): void {
    const gathering = this.open.get(key);
    if (!gathering) return;
    this.open.delete(key);
    clearTimeout(gathering.timer);
    const { who, inputs, waiters } = gathering;
    const run = this.run(key, who, inputs).then(
      (outcomes) => {
        for (const [i, w] of waiters.entries()) w.resolve(outcomes[i]!);
      },
      (e: unknown) => {
        for (const w of waiters) w.reject(e);
      },
    );
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private async run(
    key: string,
    who: WalletIdentity,
    inputs: readonly (Uint8Array | string)[],
  ): Promise<AppendOutcome[]> {
    this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    try {
      return await this.appendAll(who, inputs);
    } finally {
      const left = this.busy.get(key)! - 1;
      if (left === 0) this.busy.delete(key);
      else this.busy.set(key, left);
    }
  }
}
