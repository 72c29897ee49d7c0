/**
 * The log builder: follows committed transactions in commit order and appends one leaf per log
 * entry (docs/bundle-format.md §2). Entries come from the contract's chaincode events, which carry
 * them in full, so every organisation's builder computes the same roots from the same blocks.
 * Resumes from the block after the last one it stored — after a restart, and after every failure of
 * the block stream (a peer going away ends a Fabric block stream with `14 UNAVAILABLE`): it reopens
 * the stream with exponential backoff and jitter for as long as the gateway runs, and says so in
 * `status` rather than dying silently (issue 11, item 1).
 */
import { CoreError, type LogEntry, parseLogEntry } from '../../core/index.js';
import { GatewayError } from '../errors.js';
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

const utf8 = new TextDecoder();

/**
 * `{ ...e, block }` for the parser. An object fresh from JSON.parse is the event's own and not used
 * again, so it takes the block in place (the same keys in the same order as the copy); anything else
 * is copied, exactly as before, and the parser refuses it.
 */
function withBlock(e: unknown, block: number): object {
  if (typeof e === 'object' && e !== null && Object.getPrototypeOf(e) === Object.prototype) {
    (e as { block?: unknown }).block = block;
    return e;
  }
  return { ...(e as object), block };
}

/**
 * The log entries of a block: from VALID transactions' events, in transaction order. Entries of a
 * format-2 event (`logFormat: 2`) are chained: receipts must carry source and subject, key entries
 * get a `prevKey` the store fills in (store.ts); entries of older events stay exactly as they were
 * logged, so a log rebuilt from old blocks has the same leaves and roots as before.
 */
export function entriesOf(block: LogBlock): LogEntry[] {
  const out: LogEntry[] = [];
  for (const tx of block.transactions) {
    if (!tx.valid || !tx.event) continue;
    let payload: { entries?: unknown; logFormat?: unknown };
    try {
      payload = JSON.parse(utf8.decode(tx.event.payload)) as typeof payload;
    } catch {
      continue; // not one of our contract's events
    }
    if (!Array.isArray(payload.entries)) continue;
    const chained = payload.logFormat === 2;
    payload.entries.forEach((e, i) => {
      const where = `block ${block.number} tx ${tx.txId} entry ${i}`;
      const entry = parseLogEntry(withBlock(e, block.number), where);
      if (!chained) {
        if (entry.kind === 'receipt' && entry.source !== undefined)
          throw new CoreError('E_BUNDLE_SYNTAX', `${where}: source in an entry of log format 1`);
        out.push(entry);
      } else if (entry.kind === 'key') out.push({ ...entry, prevKey: null });
      else if (entry.source === undefined)
        throw new CoreError(
          'E_BUNDLE_SYNTAX',
          `${where}: a format-2 receipt entry without source and subject`,
        );
      else out.push(entry);
    });
  }
  return out;
}

export type LogBuilderState = 'following' | 'reconnecting' | 'stopped';

export interface LogBuilderStatus {
  readonly state: LogBuilderState;
  /** The first ledger block not yet in the log. */
  readonly nextBlock: number;
  /** The highest ledger height seen (`observeHeight`, or nextBlock when none is known). */
  readonly height: number | undefined;
  /** Blocks committed on the ledger but not yet in the log (0 when the height is unknown). */
  readonly lagBlocks: number;
  /** Block streams that failed since the last block arrived (or the stream settled). */
  readonly consecutiveFailures: number;
  /** Block streams reopened since start. */
  readonly reconnects: number;
  readonly lastError: string | undefined;
  readonly lastErrorAt: Date | undefined;
  readonly lastBlockAt: Date | undefined;
  /**
   * Since when the log has been stalled — reconnecting, or behind the ledger without progress —
   * or undefined while it follows (see `stalledSince`).
   */
  readonly stalledSince: Date | undefined;
}

export interface LogBuilderOptions {
  /** Every failure of the block stream (each one is followed by a reconnect). */
  readonly onError?: (e: Error) => void;
  /** First reconnect delay; doubles per consecutive failure up to `maxBackoffMs`. Default 100 ms. */
  readonly initialBackoffMs?: number;
  /** Default 5000 ms. */
  readonly maxBackoffMs?: number;
  /** A reopened stream that stays up this long without failing counts as following again. Default 1000 ms. */
  readonly settleMs?: number;
  /** How long `caughtUp` waits by default before refusing with E_UNAVAILABLE. Default 10 000 ms. */
  readonly caughtUpTimeoutMs?: number;
  /** Called after each block is stored (metrics; the witness reads checkpoint events from it). */
  readonly onBlock?: (blockNumber: number, block: LogBlock) => void;
  /** In [0, 1); the jitter source (tests pin it). */
  readonly random?: () => number;
  /**
   * Most blocks written to the store in one batch (default 4). A block is held until this many are
   * held, no next block arrives within `holdMs`, or a reader waits for it (`caughtUp`): at a steady
   * trickle of small blocks, one store write — one wake of LevelDB's thread and one completion — per
   * few blocks instead of one each (docs/performance.md §10, sixth round). 1: every block at once.
   */
  readonly groupBlocks?: number;
  /** How long a held block waits for the next one, in ms (default 50): the log's lag at a standstill. */
  readonly holdMs?: number;
}

/** What ends a hold early (the hold time passed, a reader waits, the builder stops). */
const RELEASED = Symbol('released');

/** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in [d/2, d). */
export function backoffDelay(
  failures: number,
  initialMs: number,
  maxMs: number,
  random: () => number,
): number {
  const d = Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(d / 2 + (random() * d) / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

interface Waiter {
  readonly block: number;
  resolve(): void;
  reject(e: Error): void;
}

export class LogBuilder {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly options: Required<Omit<LogBuilderOptions, 'onError' | 'onBlock'>> &
    Pick<LogBuilderOptions, 'onError' | 'onBlock'>;
  private state: LogBuilderState = 'following';
  private failures = 0;
  private reconnectCount = 0;
  private lastFailure: Error | undefined;
  private lastFailureAt: Date | undefined;
  private lastBlockAt: Date | undefined;
  private knownHeight: number | undefined;
  /** When the log last fell behind a known height, or last made progress while behind. */
  private behindSince: number | undefined;
  private reconnectingSince: number | undefined;
  /** Ends the current hold (set while blocks are held); the next block held is written at once. */
  private release: (() => void) | undefined;
  /** The first block number after those held (blocks below it are on their way to the store). */
  private heldUpTo = 0;

  constructor(
    private readonly store: LogStore,
    private readonly source: BlockSource,
    options: LogBuilderOptions | ((e: Error) => void) = {},
  ) {
    const o = typeof options === 'function' ? { onError: options } : options;
    this.options = {
      initialBackoffMs: o.initialBackoffMs ?? 100,
      maxBackoffMs: o.maxBackoffMs ?? 5000,
      settleMs: o.settleMs ?? 1000,
      caughtUpTimeoutMs: o.caughtUpTimeoutMs ?? 10_000,
      random: o.random ?? Math.random,
      groupBlocks: Math.max(1, o.groupBlocks ?? 4),
      holdMs: o.holdMs ?? 50,
      ...(o.onError ? { onError: o.onError } : {}),
      ...(o.onBlock ? { onBlock: o.onBlock } : {}),
    };
  }

  start(): void {
    this.running ??= this.follow();
  }

  /** Follows the source until stopped; every failure is reported, waited out and followed by a reconnect. */
  private async follow(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let settle: NodeJS.Timeout | undefined;
      if (this.state === 'reconnecting') {
        // A reopened stream that does not fail promptly is live even when no block arrives (at the tip).
        settle = setTimeout(() => this.settled(), this.options.settleMs);
        settle.unref();
      }
      try {
        await this.stream(signal);
        if (signal.aborted) break;
        throw new Error(`the block stream ended at block ${this.store.nextBlock}`);
      } catch (e) {
        if (signal.aborted) break;
        this.failed(e instanceof Error ? e : new Error(String(e)));
      } finally {
        clearTimeout(settle);
      }
      await sleep(
        backoffDelay(
          this.failures,
          this.options.initialBackoffMs,
          this.options.maxBackoffMs,
          this.options.random,
        ),
        signal,
      );
      if (!signal.aborted) this.reconnectCount++;
    }
    this.state = 'stopped';
  }

  /**
   * Reads one block stream until it ends, writing its blocks to the store a group at a time
   * (`groupBlocks`, `holdMs`; at once when a reader waits for one). Blocks already stored are
   * skipped; a gap (a block beyond the next) is written after the held ones and throws there, so the
   * stream is reopened at the next block. Held blocks are written before a failure is reported.
   */
  private async stream(signal: AbortSignal): Promise<void> {
    const iterator = this.source(this.store.nextBlock, signal)[Symbol.asyncIterator]();
    // The next block asked for and not yet taken (kept across groups when a hold ends first).
    let next: Promise<IteratorResult<LogBlock>> | undefined;
    try {
      for (;;) {
        const held: LogBlock[] = [];
        let ended = false;
        let failure: unknown;
        try {
          const first = next ?? iterator.next();
          ended = await this.group(iterator, first, held, signal, (pending) => {
            next = pending;
          });
        } catch (e) {
          failure = e;
        }
        await this.write(held);
        if (failure !== undefined) throw failure;
        if (ended || signal.aborted) return;
      }
    } finally {
      // A block asked for may never come (a ledger at rest): do not wait for the stream to yield it.
      iterator.return?.().catch(() => undefined);
    }
  }

  /**
   * Takes blocks into `held` from `first` on until the group is full, the hold ends or a reader
   * waits for a held block; true when the stream ended. `pending` gets the next block asked for
   * and not taken (undefined when none is).
   */
  private async group(
    iterator: AsyncIterator<LogBlock>,
    first: Promise<IteratorResult<LogBlock>>,
    held: LogBlock[],
    signal: AbortSignal,
    pending: (next: Promise<IteratorResult<LogBlock>> | undefined) => void,
  ): Promise<boolean> {
    let result = await first;
    pending(undefined);
    let expected = this.store.nextBlock;
    let hold: Promise<typeof RELEASED> | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      for (;;) {
        if (result.done) return true;
        const block = result.value;
        if (block.number > expected) {
          await this.write(held.splice(0));
          await this.write([block]); // out of order: the store refuses it, and says why
        }
        if (block.number === expected) {
          held.push(block);
          expected++;
          this.heldUpTo = expected;
        }
        if (held.length >= this.options.groupBlocks || signal.aborted || this.awaited(expected - 1))
          return false;
        if (held.length > 0 && !hold) {
          hold = new Promise((resolve) => {
            this.release = () => resolve(RELEASED);
          });
          timer = setTimeout(this.release!, this.options.holdMs);
        }
        const next = iterator.next();
        pending(next);
        const raced = hold ? await Promise.race([next, hold]) : await next;
        if (raced === RELEASED) return false;
        pending(undefined);
        result = raced;
      }
    } finally {
      clearTimeout(timer);
      this.release = undefined;
    }
  }

  /** Whether a reader waits for a block up to `block` (`caughtUp`). */
  private awaited(block: number): boolean {
    for (const w of this.waiters) if (w.block <= block) return true;
    return false;
  }

  /** Stores `blocks` (consecutive, from the store's next block) in one batch and reports them. */
  private async write(blocks: readonly LogBlock[]): Promise<void> {
    if (blocks.length === 0) return;
    await this.store.appendBlocks(blocks.map((b) => ({ number: b.number, entries: entriesOf(b) })));
    this.progressed();
    for (const block of blocks) this.options.onBlock?.(block.number, block);
  }

  private progressed(): void {
    const now = Date.now();
    this.lastBlockAt = new Date(now);
    this.failures = 0;
    this.state = 'following';
    this.reconnectingSince = undefined;
    if (this.knownHeight === undefined || this.store.nextBlock >= this.knownHeight) {
      this.behindSince = undefined;
      this.knownHeight = Math.max(this.knownHeight ?? 0, this.store.nextBlock);
    } else {
      this.behindSince = now;
    }
    this.wake();
  }

  private settled(): void {
    if (this.state !== 'reconnecting') return;
    this.state = 'following';
    this.failures = 0;
    this.reconnectingSince = undefined;
  }

  private failed(e: Error): void {
    this.failures++;
    this.lastFailure = e;
    this.lastFailureAt = new Date();
    if (this.state !== 'reconnecting') this.reconnectingSince = Date.now();
    this.state = 'reconnecting';
    this.options.onError?.(e);
  }

  /**
   * Tells the builder the ledger's height (from a committed transaction, qscc GetChainInfo…), so it
   * can say how far behind it is.
   */
  observeHeight(height: number): void {
    if (!Number.isSafeInteger(height) || height < 0) return;
    if (this.knownHeight !== undefined && height <= this.knownHeight) return;
    this.knownHeight = height;
    if (this.store.nextBlock < height) this.behindSince ??= Date.now();
  }

  private wake(): void {
    for (const w of this.waiters) {
      if (this.store.nextBlock > w.block) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /**
   * Resolves once the log holds every entry of blocks up to and including `block`. Waits at most
   * `timeoutMs` (default `caughtUpTimeoutMs`), then refuses with E_UNAVAILABLE (503 + Retry-After):
   * the log is behind and an answer now would silently leave out committed entries.
   */
  async caughtUp(block: number, timeoutMs: number = this.options.caughtUpTimeoutMs): Promise<void> {
    if (this.store.nextBlock > block) return;
    this.observeHeight(block + 1);
    if (this.abort.signal.aborted) throw this.behind(block, 'the transparency log is stopped');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          this.behind(block, `the transparency log did not reach block ${block} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        block,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.add(waiter);
      // A held block a reader waits for is written now (one still to come, as soon as it comes).
      if (block < this.heldUpTo) this.release?.();
    });
  }

  private behind(block: number, message: string): GatewayError {
    const s = this.status();
    return new GatewayError('E_UNAVAILABLE', `${message}; retry later`, {
      stage: 'log',
      reason: s.state === 'reconnecting' ? 'LOG_RECONNECTING' : 'LOG_BEHIND',
      nextBlock: s.nextBlock,
      wantedBlock: block,
      ...(s.lastError ? { lastError: s.lastError } : {}),
    });
  }

  status(now: number = Date.now()): LogBuilderStatus {
    const nextBlock = this.store.nextBlock;
    const height = this.knownHeight === undefined ? undefined : Math.max(this.knownHeight, nextBlock);
    const lagBlocks = height === undefined ? 0 : height - nextBlock;
    let stalledSince: number | undefined;
    if (this.state === 'reconnecting') stalledSince = this.reconnectingSince ?? now;
    else if (lagBlocks > 0 && this.behindSince !== undefined) {
      stalledSince = Math.max(this.behindSince, this.lastBlockAt?.getTime() ?? 0);
    }
    return {
      state: this.state,
      nextBlock,
      height,
      lagBlocks,
      consecutiveFailures: this.failures,
      reconnects: this.reconnectCount,
      lastError: this.lastFailure?.message,
      lastErrorAt: this.lastFailureAt,
      lastBlockAt: this.lastBlockAt,
      stalledSince: stalledSince === undefined ? undefined : new Date(Math.min(stalledSince, now)),
    };
  }

  /** The last failure of the block stream (kept after recovery; see `status` for the state). */
  get error(): Error | undefined {
    return this.lastFailure;
  }

  async stop(): Promise<void> {
    this.release?.();
    this.abort.abort();
    for (const w of this.waiters) w.reject(this.behind(w.block, 'the transparency log is stopping'));
    this.waiters.clear();
    await this.running;
    this.state = 'stopped';
  }
}
