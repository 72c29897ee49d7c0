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
 * Kafka's `linger.ms` and Fabric's `BatchTimeout` make the same trade.
 *
 * Answers are unchanged: every receipt gets its own outcome (a transaction the contract refuses for
 * one receipt is retried receipt by receipt by the coalescer), and each request is answered once its
 * receipt is committed (acknowledged = durable). Windows close at once when draining (shutdown).
 */
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
}

export class AppendWindow {
  private readonly open = new Map<string, Gathering>();
  /** Appends in progress (pre-verification to answer) per identity. */
  private readonly busy = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
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
    if (this.options.windowMs <= 0 || this.draining || (!this.busy.has(key) && !this.open.has(key))) {
      const [outcome] = await this.run(key, who, [input]);
      return outcome!;
    }
    let gathering = this.open.get(key);
    if (!gathering) {
      const timer = setTimeout(() => this.close(key), this.options.windowMs);
      gathering = { who, inputs: [], waiters: [], timer };
      this.open.set(key, gathering);
    }
    const answer = new Promise<AppendOutcome>((resolve, reject) => {
      gathering.waiters.push({ resolve, reject });
    });
    gathering.inputs.push(input);
    if (gathering.inputs.length >= this.options.maxReceipts) this.close(key);
    return answer;
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
