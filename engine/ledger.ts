/**
 * EmbeddedLedger: an in-process Fabric peer for one channel and one chaincode, on LevelDB.
 *
 * submit   = endorse (run the contract through fabric-shim's own dispatcher against a snapshot of
 *            committed state) → order (group commit queue) → validate (MVCC) → commit (one fsync'd batch
 *            per block) → acknowledge. A contract error ends it at endorsement: nothing is ordered or
 *            written, and the caller gets the contract's message unchanged.
 * evaluate = endorse only, on committed state; nothing is recorded.
 *
 * Data directory: `<dir>/ledger` (LevelDB, layout in state.ts) and `<dir>/msp/<mspId>/` (embedded CAs).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ByteParts } from '../chaincode/bytes.js';
import { type Block, GENESIS_PREVIOUS_HASH, type ValidationCode } from './blockstore.js';
import { Committer, type EndorsedTx } from './committer.js';
import { EngineError } from './errors.js';
import { EmbeddedCA, type EmbeddedIdentity, type Identity, type IdentityRequest } from './identity.js';
import {
  type Chaincode,
  type ChaincodeLogLevel,
  type ContractClass,
  chaincodeFromContracts,
  setChaincodeLogLevel,
} from './shim.js';
import type { ChaincodeEvent } from './simulation.js';
import {
  type EvaluateResult,
  Evaluated,
  endorse,
  type Endorser,
  Nonces,
  peerSettings,
  type SubmitOptions,
  utf8Text,
} from './endorse.js';
import {
  blockKey,
  type Db,
  decodeTxLocation,
  flushMemtable,
  HEIGHT_KEY,
  lockedError,
  openDb,
  StateView,
  txidKey,
} from './state.js';
import { SnapshotShare } from './snapshots.js';
import { checkStorageFormat, decodeStoredBlock, storedBlockHash } from './storage.js';
import { type TableOpening, TableOpener } from './tables.js';
import { type ChainReport, verifyChain } from './verify.js';

export type { EvaluateResult, SubmitOptions } from './endorse.js';

export interface LedgerOptions {
  /** Data directory; created (mode 0700) if missing. */
  dir: string;
  /** The contract classes, as a chaincode package's main module exports them (`contracts`). */
  contracts: readonly ContractClass[];
  /** Default `torgo`. */
  channel?: string;
  /** Default `torgo`: also the metadata title, like package.json's name. */
  chaincodeName?: string;
  /** Default `0.0.0`: the metadata version. */
  chaincodeVersion?: string;
  /** What `stub.getMspID()` returns (the peer's MSP). Default `EmbeddedPeerMSP`. */
  peerMspId?: string;
  /** Most submissions in flight (endorsing, queued or committing) before E_QUEUE_FULL. Default 10000. */
  maxQueue?: number;
  /** Most transactions per block. Default 500. */
  maxBlockTxs?: number;
  /**
   * How long a block waits for more transactions after its first one arrived (committer.ts), in ms;
   * 0 (default) cuts it as soon as the committer is free.
   */
  blockWindowMs?: number;
  /** The peer's `ledger.state.totalQueryLimit`: most results of one range or history query. Default 100000. */
  totalQueryLimit?: number;
  /** Sets fabric-shim's (process-wide) log level, as a peer's CORE_CHAINCODE_LOGGING_LEVEL would. */
  chaincodeLogLevel?: ChaincodeLogLevel;
  /** LevelDB's block cache, bytes (engine/state.ts `DbOptions`). Default LevelDB's, 8 MiB. */
  cacheBytes?: number;
  /** Table files LevelDB keeps open (engine/state.ts `DbOptions`). Default LevelDB's, 1000. */
  maxOpenFiles?: number;
  /**
   * LevelDB's write buffer, bytes (engine/state.ts `DbOptions`). Default 8 MiB (LevelDB's own is 4).
   * Larger buffers cost less CPU per receipt while a ledger is young (docs/performance.md §4, seventh
   * pass), but each flush of one writes a table as large, and on ext4 the commits' `fdatasync` of
   * LevelDB's log waits for that table's writeback: at 32 MiB every flush held commits up for
   * ~100 ms (docs/performance.md §12, "A flush of LevelDB's write buffer").
   */
  writeBufferBytes?: number;
  /**
   * Open every table file (up to what the table cache holds) in the background once the ledger is
   * open, so that queries do not pay for LevelDB's first open of each (engine/tables.ts). Default true.
   */
  openTablesAtStart?: boolean;
}

/** The default LevelDB write buffer (`LedgerOptions.writeBufferBytes`). */
export const WRITE_BUFFER_BYTES = 8 * 2 ** 20;

export interface SubmitResult extends EvaluateResult {
  blockNumber: number;
  txNumber: number;
  validationCode: 'VALID';
  event: ChaincodeEvent | undefined;
}

export interface TransactionStatus {
  blockNumber: number;
  txNumber: number;
  validationCode: ValidationCode;
}

export interface Subscription {
  /** Stop delivery; `done` then resolves. */
  close(): void;
  /** Resolves when the subscription ends (closed, ledger closed); rejects with `onBlock`'s error. */
  done: Promise<void>;
}

/**
 * The newest committed blocks, kept as the committer sealed them, so a follower (the log builder)
 * gets each new block without reading it back and parsing it (issue 18: once per block, at one
 * receipt per block). A kept block deep-equals `decodeBlock` of its stored bytes (tests hold it to
 * that) and is frozen: every reader shares it. Bounded by count and by encoded size.
 */
class RecentBlocks {
  private readonly blocks = new Map<number, { block: Block; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly maxBlocks = 64,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  get(number: number): Block | undefined {
    return this.blocks.get(number)?.block;
  }

  add(block: Block, bytes: number): void {
    if (bytes > this.maxBytes) return;
    while (this.blocks.size >= this.maxBlocks || this.bytes + bytes > this.maxBytes) {
      const [oldest, kept] = this.blocks.entries().next().value!;
      this.blocks.delete(oldest);
      this.bytes -= kept.bytes;
    }
    this.blocks.set(block.number, { block: freezeBlock(block), bytes });
    this.bytes += bytes;
  }
}

/**
 * Freezes `block` and every object in it, knowing its shape (blockstore.ts `Block`): a generic deep
 * freeze lists the values of each of a block's ~350 writes per 50 receipts first (~1.3 µs a receipt).
 * test/engine/fast-paths.test.ts walks a kept block and finds nothing left unfrozen.
 */
function freezeBlock(block: Block): Block {
  for (const tx of block.transactions) {
    for (const write of tx.writeSet) Object.freeze(write);
    Object.freeze(tx.writeSet);
    Object.freeze(tx.timestamp);
    Object.freeze(tx.creator);
    if (tx.event) Object.freeze(tx.event);
    Object.freeze(tx);
  }
  Object.freeze(block.transactions);
  return Object.freeze(block);
}

/** The ledgers open for writing on this thread, by LevelDB location. */
const writers = new Set<string>();

export class EmbeddedLedger {
  private readonly waiters = new Set<() => void>();
  private readonly identities: EmbeddedCA;
  private inflight = 0;
  private active = 0;
  private settled: (() => void) | undefined;
  private closing = false;
  private closed = false;
  private closingDone: Promise<void> | undefined;
  private tableOpener: TableOpener | undefined;

  private readonly committer: Committer;
  private readonly recent = new RecentBlocks();
  private readonly endorser: Endorser;
  private readonly snapshots: SnapshotShare;

  private constructor(
    readonly dir: string,
    private readonly db: Db,
    chaincode: Chaincode,
    tip: { height: number; hash: string },
    private readonly options: Required<
      Omit<
        LedgerOptions,
        | 'chaincodeLogLevel'
        | 'contracts'
        | 'dir'
        | 'cacheBytes'
        | 'maxOpenFiles'
        | 'writeBufferBytes'
        | 'openTablesAtStart'
      >
    >,
  ) {
    this.identities = new EmbeddedCA(path.join(dir, 'msp'));
    this.endorser = { identities: this.identities, nonces: new Nonces(), chaincode, settings: options };
    this.snapshots = new SnapshotShare(db);
    this.committer = new Committer(
      db,
      options.maxBlockTxs,
      tip,
      (block, bytes) => {
        this.recent.add(block, bytes);
        this.wake();
      },
      options.blockWindowMs,
    );
  }

  /** Open (or create) the ledger in `options.dir`. Only one EmbeddedLedger may have a directory open. */
  static async open(options: LedgerOptions): Promise<EmbeddedLedger> {
    const peer = peerSettings(options);
    const settings = {
      ...peer,
      maxQueue: positiveInteger('maxQueue', options.maxQueue ?? 10000),
      maxBlockTxs: positiveInteger('maxBlockTxs', options.maxBlockTxs ?? 500),
      blockWindowMs: windowMs(options.blockWindowMs ?? 0),
      totalQueryLimit: positiveInteger('totalQueryLimit', peer.totalQueryLimit),
    };
    if (options.chaincodeLogLevel) setChaincodeLogLevel(options.chaincodeLogLevel);
    const chaincode = chaincodeFromContracts(
      options.contracts,
      settings.chaincodeName,
      settings.chaincodeVersion,
    );
    const dir = path.resolve(options.dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const location = path.join(dir, 'ledger');
    // LevelDB's lock keeps out other processes; the database is shared with this process's threads
    // (state.ts openDb), so a second writer here is refused here.
    if (writers.has(location)) throw lockedError(location);
    writers.add(location);
    let db: Db;
    try {
      db = await openDb(location, {
        shared: true,
        ...(options.cacheBytes === undefined
          ? {}
          : { cacheBytes: positiveInteger('cacheBytes', options.cacheBytes) }),
        ...(options.maxOpenFiles === undefined
          ? {}
          : { maxOpenFiles: positiveInteger('maxOpenFiles', options.maxOpenFiles) }),
        writeBufferBytes: positiveInteger('writeBufferBytes', options.writeBufferBytes ?? WRITE_BUFFER_BYTES),
      });
    } catch (e) {
      writers.delete(location);
      throw e;
    }
    try {
      await checkStorageFormat(db, location, true);
      const ledger = new EmbeddedLedger(dir, db, chaincode, await readTip(db), settings);
      if (options.openTablesAtStart ?? true) ledger.tableOpener = TableOpener.start(db, options.maxOpenFiles);
      return ledger;
    } catch (e) {
      await db.close();
      writers.delete(location);
      throw e;
    }
  }

  /** Number of committed blocks; the next block is number `height`. */
  get height(): number {
    return this.committer.height;
  }

  get channel(): string {
    return this.options.channel;
  }

  get chaincodeName(): string {
    return this.options.chaincodeName;
  }

  /** Issue an identity from this ledger's CA for `mspId` (created on first use, key mode 0600). */
  createIdentity(request: IdentityRequest): Promise<EmbeddedIdentity> {
    return this.identities.createIdentity(request);
  }

  /**
   * Run `fcn(args)` as `identity` and commit it. Resolves after the block holding the transaction is on
   * disk (fsync). Rejects with E_ENDORSE (the contract's message), E_MVCC_READ_CONFLICT /
   * E_PHANTOM_READ_CONFLICT / E_DUPLICATE_TXID (ordered, invalid, nothing written), E_QUEUE_FULL,
   * E_IDENTITY, E_ARGUMENT, E_CLOSED or E_STORAGE.
   */
  submit(
    identity: Identity,
    fcn: string,
    args: readonly string[] = [],
    options: SubmitOptions = {},
  ): Promise<SubmitResult> {
    if (this.closing) return Promise.reject(closedError());
    if (this.inflight >= this.options.maxQueue) {
      return Promise.reject(
        new EngineError('E_QUEUE_FULL', `the ledger already has ${this.inflight} transactions in flight`, {
          maxQueue: this.options.maxQueue,
        }),
      );
    }
    this.inflight++;
    return this.track(async () => {
      try {
        const { tx, answer } = await this.endorse(identity, fcn, args, options);
        const payload = answer instanceof ByteParts ? answer.concat() : answer;
        const status = await this.committer.order(tx);
        if (status.validationCode !== 'VALID') {
          throw new EngineError(
            `E_${status.validationCode}`,
            `transaction ${tx.txId} was invalidated: ${status.validationCode}`,
            { txId: tx.txId, ...status },
          );
        }
        return {
          txId: tx.txId,
          payload,
          parts: [payload],
          result: utf8Text(payload),
          blockNumber: status.blockNumber,
          txNumber: status.txNumber,
          validationCode: 'VALID',
          event: tx.sim.event,
        };
      } finally {
        this.inflight--;
      }
    });
  }

  /** Run `fcn(args)` as `identity` on committed state; nothing is ordered or written. */
  evaluate(
    identity: Identity,
    fcn: string,
    args: readonly string[] = [],
    options: SubmitOptions = {},
  ): Promise<EvaluateResult> {
    if (this.closing) return Promise.reject(closedError());
    return this.track(async () => {
      const { tx, answer } = await this.endorse(identity, fcn, args, options);
      return new Evaluated(tx.txId, answer);
    });
  }

  async getBlock(number: number): Promise<Block> {
    if (!Number.isSafeInteger(number) || number < 0 || number >= this.height) {
      throw new EngineError('E_BLOCK_NOT_FOUND', `no block ${number} (height ${this.height})`, { number });
    }
    if (this.closed) throw closedError();
    const recent = this.recent.get(number);
    if (recent) return recent;
    const raw = await this.db.get(blockKey(number));
    if (raw === undefined) throw new EngineError('E_CHAIN_CORRUPT', `block ${number} is missing`, { number });
    return decodeStoredBlock(raw, (key) => this.db.getSync(key));
  }

  /** Where a transaction was committed and whether it was valid; undefined if it never reached a block. */
  async getTransactionStatus(txId: string): Promise<TransactionStatus | undefined> {
    if (this.closed) throw closedError();
    const raw = await this.db.get(txidKey(txId));
    return raw === undefined ? undefined : decodeTxLocation(raw);
  }

  /**
   * Committed blocks from `fromBlock` on, in order: first those already on disk, then each new one as it
   * commits. Ends when `signal` aborts or the ledger closes. A follower that persists the number of the
   * last block it processed resumes with `blocks(saved + 1)`.
   */
  async *blocks(
    fromBlock = 0,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<Block, void, undefined> {
    const { signal } = options;
    if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) {
      throw new EngineError('E_ARGUMENT', `fromBlock must be a block number, got ${fromBlock}`);
    }
    let next = fromBlock;
    while (!signal?.aborted) {
      if (next < this.height) {
        let block: Block;
        try {
          block = await this.getBlock(next);
        } catch (e) {
          if (this.closing) return;
          throw e;
        }
        next++;
        yield block;
      } else {
        if (this.closing) return;
        await this.nextCommit(signal);
      }
    }
  }

  /** `blocks(fromBlock)` delivered to a callback, one block at a time (awaited) and in order. */
  subscribe(fromBlock: number, onBlock: (block: Block) => void | Promise<void>): Subscription {
    const controller = new AbortController();
    const done = (async () => {
      for await (const block of this.blocks(fromBlock, { signal: controller.signal })) {
        await onBlock(block);
        if (controller.signal.aborted) return;
      }
    })();
    return { close: () => controller.abort(), done };
  }

  /** Full check (hash chain, state, history and tx-id index against the blocks); throws E_CHAIN_CORRUPT. */
  async verifyChain(): Promise<ChainReport> {
    if (this.closed) throw closedError();
    return verifyChain(this.db);
  }

  /**
   * Opening the table files in the background (`openTablesAtStart`): resolves with what it did, when it
   * ends; undefined when the ledger was opened without it.
   */
  get tablesOpened(): Promise<TableOpening> | undefined {
    return this.tableOpener?.done;
  }

  /** Stop taking transactions, finish those in flight (they are acknowledged or rejected), close LevelDB. */
  close(): Promise<void> {
    this.closingDone ??= (async () => {
      this.closing = true;
      this.wake();
      await this.tableOpener?.stop();
      while (this.active > 0) await new Promise<void>((resolve) => (this.settled = resolve));
      await this.committer.idle();
      await this.snapshots.close();
      this.closed = true;
      try {
        await flushMemtable(this.db);
      } finally {
        await this.db.close();
        writers.delete(path.join(this.dir, 'ledger'));
      }
    })();
    return this.closingDone;
  }

  /** An endorsement on the state committed now (one snapshot shared by those that start at this height). */
  private async endorse(
    identity: Identity,
    fcn: string,
    args: readonly string[],
    options: SubmitOptions,
  ): Promise<{ tx: EndorsedTx; answer: Uint8Array | ByteParts }> {
    const shared = this.snapshots.acquire(this.committer.height);
    try {
      return await endorse(
        this.endorser,
        new StateView(this.db, shared.snapshot),
        identity,
        fcn,
        args,
        options,
      );
    } finally {
      this.snapshots.release(shared);
    }
  }

  private async track<T>(operation: () => Promise<T>): Promise<T> {
    this.active++;
    try {
      return await operation();
    } finally {
      this.active--;
      if (this.active === 0) this.settled?.();
    }
  }

  private nextCommit(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const wakeUp = (): void => {
        this.waiters.delete(wakeUp);
        signal?.removeEventListener('abort', wakeUp);
        resolve();
      };
      this.waiters.add(wakeUp);
      signal?.addEventListener('abort', wakeUp, { once: true });
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

async function readTip(db: Db): Promise<{ height: number; hash: string }> {
  const raw = await db.get(HEIGHT_KEY);
  const height = raw === undefined ? 0 : Number(raw.toString('utf8'));
  if (!Number.isSafeInteger(height) || height < 0) {
    throw new EngineError(
      'E_CHAIN_CORRUPT',
      `recorded height ${JSON.stringify(raw?.toString())} is not a number`,
    );
  }
  if (height === 0) return { height, hash: GENESIS_PREVIOUS_HASH };
  const last = await db.get(blockKey(height - 1));
  const beyond = await db.get(blockKey(height));
  if (last === undefined || beyond !== undefined) {
    throw new EngineError('E_CHAIN_CORRUPT', `recorded height ${height} does not match the stored blocks`);
  }
  return { height, hash: storedBlockHash(last) };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new EngineError('E_ARGUMENT', `${name} must be a positive integer`);
  return value;
}

function windowMs(value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 10_000)
    throw new EngineError('E_ARGUMENT', 'blockWindowMs must be a number of ms in [0, 10000]');
  return value;
}

function closedError(): EngineError {
  return new EngineError('E_CLOSED', 'the ledger is closed');
}
