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
 */
import { Arrivals } from './arrivals.js';
import { type Block, type BlockTransaction, sealBlock, type ValidationCode } from './blockstore.js';
import { EngineError } from './errors.js';
import type { Creator } from './identity.js';
import type { TxSimulation } from './simulation.js';
import type { Db } from './state.js';
import { blockOps, isLargeWrite, writeOps } from './storage.js';
import { BlockValidator } from './validator.js';

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

export class Committer {
  private queue: Waiting[] = [];
  private running: Promise<void> | undefined;
  /** Ends the block window early (the block is full, or no other transaction is expected). */
  private cut: (() => void) | undefined;
  /** When the open block window ends (performance.now()). */
  private deadline = 0;
  private readonly arrivals = new Arrivals();
  /** A block's batch is being written. */
  private writing = false;

  constructor(
    private readonly db: Db,
    private readonly maxBlockTxs: number,
    private tip: { height: number; hash: string },
    /** Called with each block once it is durable, and the length of its stored encoding. */
    private readonly onBlock: (block: Block, bytes: number) => void,
    private readonly blockWindowMs = 0,
  ) {}

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
      this.queue.push({ tx, at, duringWrite: this.writing, resolve, reject });
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
      while (this.queue.length > 0) {
        // (No await at all without a window: the first transaction's block is cut at once, as before.)
        if (this.blockWindowMs > 0) await this.window();
        const batch = this.queue.splice(0, this.maxBlockTxs);
        this.writing = true;
        try {
          await this.commit(batch);
        } finally {
          this.writing = false;
          if (this.blockWindowMs > 0) for (const w of batch) this.arrivals.left(creatorKey(w.tx));
        }
      }
    } finally {
      this.running = undefined;
    }
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

  private async commit(batch: Waiting[]): Promise<void> {
    const number = this.tip.height;
    let block: Block;
    let size: number;
    let statuses: CommitStatus[];
    try {
      const validator = new BlockValidator(this.db, number);
      const transactions: BlockTransaction[] = [];
      statuses = [];
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
      const sealed = sealBlock(number, this.tip.hash, transactions, isLargeWrite);
      block = sealed.block;
      size = sealed.size;
      const ops = blockOps(
        block,
        (txNum, write) => batch[txNum]!.tx.sim.writeSet[write]!.value,
        validator.updates,
        sealed.stored,
      );
      await writeOps(this.db, ops, { sync: true });
    } catch (e) {
      const error = new EngineError('E_STORAGE', `block ${number} could not be written: ${String(e)}`, {}, e);
      for (const w of batch) w.reject(error);
      return;
    }
    this.tip = { height: number + 1, hash: block.hash };
    for (const [i, w] of batch.entries()) w.resolve(statuses[i] as CommitStatus);
    this.onBlock(block, size);
  }
}

function creatorKey(tx: EndorsedTx): string {
  return `${tx.creator.mspId}\n${tx.creator.id}`;
}
