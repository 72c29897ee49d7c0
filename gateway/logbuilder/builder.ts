/**
 * The log builder: follows committed transactions in commit order and appends one leaf per log
 * entry (docs/bundle-format.md §2). Entries come from the contract's chaincode events, which carry
 * them in full, so every organisation's builder computes the same roots from the same blocks.
 * Resumes from the block after the last one it stored.
 */
import { type LogEntry, parseLogEntry } from '../../core/index.js';
import type { LogStore } from './store.js';

export interface LogTransaction {
  readonly txId: string;
  readonly valid: boolean;
  readonly event: { readonly name: string; readonly payload: Uint8Array } | null;
}

export interface LogBlock {
  readonly number: number;
  readonly transactions: readonly LogTransaction[];
}

/** Where committed blocks come from: the embedded engine, or Fabric block events. */
export type BlockSource = (fromBlock: number, signal: AbortSignal) => AsyncIterable<LogBlock>;

/** The log entries of a block: from VALID transactions' events, in transaction order. */
export function entriesOf(block: LogBlock): LogEntry[] {
  const out: LogEntry[] = [];
  for (const tx of block.transactions) {
    if (!tx.valid || !tx.event) continue;
    let payload: { entries?: unknown };
    try {
      payload = JSON.parse(new TextDecoder().decode(tx.event.payload)) as { entries?: unknown };
    } catch {
      continue; // not one of our contract's events
    }
    if (!Array.isArray(payload.entries)) continue;
    payload.entries.forEach((e, i) => {
      const entry = parseLogEntry(
        { ...(e as object), block: block.number },
        `block ${block.number} tx ${tx.txId} entry ${i}`,
      );
      out.push(entry);
    });
  }
  return out;
}

export class LogBuilder {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly waiters: { block: number; resolve: () => void }[] = [];
  private failure: Error | undefined;

  constructor(
    private readonly store: LogStore,
    private readonly source: BlockSource,
    private readonly onError: (e: Error) => void = () => {},
  ) {}

  start(): void {
    this.running ??= (async () => {
      try {
        for await (const block of this.source(this.store.nextBlock, this.abort.signal)) {
          if (block.number < this.store.nextBlock) continue;
          await this.store.appendBlock(block.number, entriesOf(block));
          this.wake();
        }
      } catch (e) {
        if (!this.abort.signal.aborted) {
          this.failure = e as Error;
          this.onError(e as Error);
          this.wake();
        }
      }
    })();
  }

  private wake(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (this.failure || this.store.nextBlock > w.block) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Resolves once the log holds every entry of blocks up to and including `block`. */
  async caughtUp(block: number): Promise<void> {
    if (this.store.nextBlock > block) return;
    await new Promise<void>((resolve) => {
      this.waiters.push({ block, resolve });
      this.wake();
    });
    if (this.failure) throw this.failure;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
