/**
 * Ordering and commit with group commit. Endorsed transactions wait in one queue; a single committer
 * takes everything waiting (up to `maxBlockTxs`), validates it in order, and writes the block — state
 * updates, history entries, tx-id index, the block and the new height (storage.ts) — as ONE LevelDB batch with
 * `sync: true`, i.e. one fsync per block. Transactions that arrive while that fsync runs form the next
 * block, so block size grows with load. A transaction is acknowledged only after the batch holding
 * its block returned.
 *
 * Block window (`blockWindowMs`, default 0): when transactions arrive spread out (a steady trickle of
 * single appends), each would otherwise be a block of its own and pay every per-block cost — the
 * fsync, sealing, the tip, and each block follower's work (the log builder's batch) — once per
 * transaction (issue 18). With a window, a block waits for more transactions at most `blockWindowMs`
 * after its first one arrived, like Fabric's BatchTimeout, but only while another is expected
 * (arrivals.ts: a submitter whose next transaction is due within the window and could send it); it is
 * cut at once when none is (a lone client waiting for its answer never waits) and as soon as
 * `maxBlockTxs` are waiting. The price is at most that much latency, paid by the transactions that
 * found the committer idle: those that arrived while a block was written form the next block at once.
 *
 * Pipelined by one block: while block N's batch is written (the fsync, on LevelDB's thread), block N + 1
 * is validated — against committed state plus N's updates (validator.ts `PendingBlock`) — sealed on N's
 * hash and encoded, on this thread; its batch is submitted only once N's write returned, so at most one
 * write is in flight, blocks reach the disk in order, and a block is never on disk without the one before.
 * If N's write fails, N + 1, judged on N's state, fails with it, and the next block is sealed on the last
 * durable tip again.
 */
import { Arrivals } from './arrivals.js';
import { type Block, type BlockTransaction, sealBlock, type ValidationCode } from './blockstore.js';
import { EngineError } from './errors.js';
import type { Creator } from './identity.js';
import type { TxSimulation } from './simulation.js';
import type { Db } from './state.js';
import { type BatchOp, blockOps, isLargeWrite } from './storage.js';
import { BlockValidator, type PendingBlock, type StateUpdate } from './validator.js';

/** An endorsed transaction waiting to be ordered. */
export interface EndorsedTx {
  txId: string;
  timestamp: { seconds: number; nanos: number };
  creator: Creator;
  fcn: string;
  /** SHA-256 of canonicalJson(args), the parameters after `fcn` (argshash.ts). */
  argsHash: string;
  sim: TxSimulation;
}

export interface CommitStatus {
  blockNumber: number;
  txNumber: number;
  validationCode: ValidationCode;
}

interface Waiting {
  tx: EndorsedTx;
  /** performance.now() when it was queued. */
  at: number;
  /** It arrived while a block was being written: it goes in the next block without a window. */
  duringWrite: boolean;
  resolve(status: CommitStatus): void;
  reject(error: unknown): void;
}

/** A block validated, sealed and encoded: its batch is ready to write. */
interface Prepared extends PendingBlock {
  readonly batch: Waiting[];
  readonly block: Block;
  readonly size: number;
  readonly ops: BatchOp[];
  readonly statuses: CommitStatus[];
}

/** A block whose batch was submitted: `written` settles with the write's error, or undefined. */
interface Writing {
  readonly prepared: Prepared;
  readonly written: Promise<unknown>;
}

export class Committer {
  private queue: Waiting[] = [];
  private running: Promise<void> | undefined;
  /** Ends the block window early (the block is full, or no other transaction is expected). */
  private cut: (() => void) | undefined;
  /** When the open block window ends (performance.now()). */
  private deadline = 0;
  private readonly arrivals = new Arrivals();
  /** The block whose batch is being written, if any. */
  private inFlight: Writing | undefined;
  /** Called by `order` once: a transaction arrived (see `run`). */
  private arrived: (() => void) | undefined;
  /** Where the next block is sealed: the durable tip, or the block in flight once it is sealed. */
  private sealTip: { height: number; hash: string };

  constructor(
    private readonly db: Db,
    private readonly maxBlockTxs: number,
    private tip: { height: number; hash: string },
    /** Called with each block once it is durable, and the length of its stored encoding. */
    private readonly onBlock: (block: Block, bytes: number) => void,
    private readonly blockWindowMs = 0,
  ) {
    this.sealTip = tip;
  }

  get height(): number {
    return this.tip.height;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Queue an endorsed transaction; resolves once its block is durable. */
  order(tx: EndorsedTx): Promise<CommitStatus> {
    return new Promise<CommitStatus>((resolve, reject) => {
      const at = performance.now();
      this.queue.push({ tx, at, duringWrite: this.inFlight !== undefined, resolve, reject });
      this.arrived?.();
      if (this.blockWindowMs > 0) this.arrivals.arrived(creatorKey(tx), at);
      if (
        this.cut &&
        (this.queue.length >= this.maxBlockTxs || !this.arrivals.expectedBy(this.deadline, at))
      ) {
        this.cut();
      }
      this.running ??= this.run();
    });
  }

  /** Resolves when nothing is queued or being committed. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        if (this.queue.length === 0) {
          if (!this.inFlight) break;
          // The block before is being written. The next block is cut as soon as a transaction arrives
          // and this thread has run what else was ready (setImmediate: after the poll phase), so that
          // its validation overlaps the write instead of starting after it; or once the write returned.
          const arrival = new Promise<boolean>((resolve) => {
            this.arrived = () => resolve(true);
          });
          const early = await Promise.race([this.inFlight.written.then(() => false), arrival]);
          this.arrived = undefined;
          if (early) await new Promise<void>((resolve) => setImmediate(resolve));
          else await this.settle();
          continue;
        }
        // (No await at all without a window: the first transaction's block is cut at once, as before.)
        if (this.blockWindowMs > 0) await this.window();
        const batch = this.queue.splice(0, this.maxBlockTxs);
        let prepared: Prepared | EngineError;
        try {
          prepared = await this.prepare(batch);
        } catch (e) {
          prepared = this.storageError(this.sealTip.height, e);
        }
        const previous = await this.settle();
        if (previous || prepared instanceof EngineError) {
          const error = previous ?? (prepared as EngineError);
          this.sealTip = this.tip;
          for (const w of batch) w.reject(error);
          this.left(batch);
          continue;
        }
        this.inFlight = {
          prepared,
          written: this.db.batch(prepared.ops, { sync: true }).then(
            () => undefined,
            (e: unknown) => e ?? new Error('write failed'),
          ),
        };
      }
    } finally {
      this.running = undefined;
    }
  }

  /**
   * Waits for the block in flight, if any: on success its transactions are answered and followers told;
   * on failure they are refused and the error is returned (the caller refuses what was built on it).
   */
  private async settle(): Promise<EngineError | undefined> {
    const writing = this.inFlight;
    if (!writing) return undefined;
    const failure = await writing.written;
    this.inFlight = undefined;
    const { batch, block, size, statuses } = writing.prepared;
    this.left(batch);
    if (failure !== undefined) {
      const error = this.storageError(block.number, failure);
      this.sealTip = this.tip;
      for (const w of batch) w.reject(error);
      return error;
    }
    this.tip = { height: block.number + 1, hash: block.hash };
    for (const [i, w] of batch.entries()) w.resolve(statuses[i] as CommitStatus);
    this.onBlock(block, size);
    return undefined;
  }

  private storageError(number: number, e: unknown): EngineError {
    return new EngineError('E_STORAGE', `block ${number} could not be written: ${String(e)}`, {}, e);
  }

  private left(batch: readonly Waiting[]): void {
    if (this.blockWindowMs > 0) for (const w of batch) this.arrivals.left(creatorKey(w.tx));
  }

  /**
   * Waits until the oldest waiting transaction is `blockWindowMs` old, a block's worth is waiting, or
   * no other transaction is expected before then.
   */
  private async window(): Promise<void> {
    // Transactions that arrived while the last block was written already form a block (group commit).
    if (this.queue[0]!.duringWrite) return;
    const now = performance.now();
    this.deadline = this.queue[0]!.at + this.blockWindowMs;
    const wait = this.deadline - now;
    if (wait < 1 || this.queue.length >= this.maxBlockTxs) return;
    if (!this.arrivals.expectedBy(this.deadline, now)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.cut?.(), wait);
      this.cut = () => {
        clearTimeout(timer);
        this.cut = undefined;
        resolve();
      };
    });
  }

  /** Validates `batch` on the state the block in flight leaves, seals it on that block and encodes it. */
  private async prepare(batch: Waiting[]): Promise<Prepared> {
    const number = this.sealTip.height;
    const validator = new BlockValidator(this.db, number, this.inFlight?.prepared);
    const transactions: BlockTransaction[] = [];
    const statuses: CommitStatus[] = [];
    for (const [txNumber, { tx }] of batch.entries()) {
      const validationCode = await validator.validate(tx.txId, tx.sim);
      const writeSet = tx.sim.writeSet;
      if (validationCode === 'VALID') validator.apply(writeSet, txNumber);
      statuses.push({ blockNumber: number, txNumber, validationCode });
      transactions.push({
        txId: tx.txId,
        timestamp: tx.timestamp,
        creator: { mspId: tx.creator.mspId, id: tx.creator.id },
        fcn: tx.fcn,
        argsHash: tx.argsHash,
        readSetHash: tx.sim.readSetHash(),
        writeSet: writeSet.map((w) => ({
          key: w.key,
          isDelete: w.isDelete,
          value: w.value.toString('base64'),
        })),
        validationCode,
        event: tx.sim.event
          ? { name: tx.sim.event.name, payload: tx.sim.event.payload.toString('base64') }
          : null,
      });
    }
    const sealed = sealBlock(number, this.sealTip.hash, transactions, isLargeWrite);
    const ops = blockOps(
      sealed.block,
      (txNum, write) => batch[txNum]!.tx.sim.writeSet[write]!.value,
      validator.updates,
      sealed.stored,
    );
    this.sealTip = { height: number + 1, hash: sealed.block.hash };
    const updates: ReadonlyMap<string, StateUpdate> = validator.updates;
    return { batch, block: sealed.block, size: sealed.size, ops, statuses, updates, txIds: validator.txIds };
  }
}

function creatorKey(tx: EndorsedTx): string {
  return `${tx.creator.mspId}\n${tx.creator.id}`;
}
