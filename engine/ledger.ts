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
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ByteParts } from '../chaincode/bytes.js';
import { utf8WithText } from '../chaincode/fabric-internals.js';
import { argsHashOf } from './argshash.js';
import { type Block, GENESIS_PREVIOUS_HASH, type ValidationCode } from './blockstore.js';
import { sha256Hex } from './canonical.js';
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
import { type ChaincodeEvent, TxSimulation } from './simulation.js';
import {
  blockKey,
  type Db,
  decodeTxLocation,
  flushMemtable,
  HEIGHT_KEY,
  openDb,
  StateView,
  txidKey,
} from './state.js';
import { SnapshotShare } from './snapshots.js';
import { checkStorageFormat, decodeStoredBlock, storedBlockHash } from './storage.js';
import { EmbeddedStub } from './stub.js';
import { type ChainReport, verifyChain } from './verify.js';

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
   * LevelDB's write buffer, bytes (engine/state.ts `DbOptions`). Default 32 MiB (LevelDB's own is 4):
   * 0.71× of LevelDB's CPU per appended receipt (docs/performance.md §4, seventh pass).
   */
  writeBufferBytes?: number;
}

/** The default LevelDB write buffer (`LedgerOptions.writeBufferBytes`). */
export const WRITE_BUFFER_BYTES = 32 * 2 ** 20;

export interface SubmitOptions {
  /** Fabric's transient map: passed to the contract, never recorded. */
  transient?: Readonly<Record<string, Uint8Array>>;
}

/** `bytes` decoded as UTF-8, read in place (`Buffer.from(bytes)` would copy a ~280 KB page first). */
function utf8Text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * A chaincode response's payload: bytes, or the parts the embedded dispatcher leaves an answer in
 * (engine/shim.ts `PartsSerializer`, typed as the Buffer it stands in for).
 */
function answerOf(payload: Uint8Array | undefined): Uint8Array | ByteParts {
  const value: unknown = payload;
  if (value instanceof ByteParts) return value;
  return payload ?? new Uint8Array();
}

export interface EvaluateResult {
  txId: string;
  /** The chaincode response payload. */
  payload: Uint8Array;
  /**
   * The payload as the contract built it: its parts, in order (chaincode/bytes.ts: a page of receipts),
   * or the payload alone. `payload` is their concatenation, made only when read.
   */
  parts: readonly Uint8Array[];
  /** `payload` decoded as UTF-8: what a contract returning a string returned. */
  result: string;
}

/**
 * An evaluation's answer. The payload is concatenated and decoded on first read: the gateway takes the
 * parts (a page of receipts is ~280 KB) and pays for neither. A class, not an object literal with
 * getters: the getters' closures kept the endorsement's whole context alive with each answer
 * (docs/performance.md §11, "Queries, ninth pass").
 */
class Evaluated implements EvaluateResult {
  readonly parts: readonly Uint8Array[];
  #answer: Uint8Array | ByteParts;
  #payload: Uint8Array | undefined;
  #result: string | undefined;

  constructor(
    readonly txId: string,
    answer: Uint8Array | ByteParts,
  ) {
    this.#answer = answer;
    this.parts = answer instanceof ByteParts ? answer.parts : [answer];
  }

  get payload(): Uint8Array {
    const answer = this.#answer;
    this.#payload ??= answer instanceof ByteParts ? answer.concat() : answer;
    return this.#payload;
  }

  get result(): string {
    this.#result ??= utf8Text(this.payload);
    return this.#result;
  }
}

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

const EPOCH = Buffer.alloc(8); // Fabric clients send epoch 0

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

/**
 * Proposal nonces, drawn from the CSPRNG a page at a time: one `randomBytes` call per ~170
 * transactions instead of one each (the bytes are the same CSPRNG's; only the call is shared).
 */
class Nonces {
  private page = Buffer.alloc(0);
  private at = 0;

  next(length: number): Buffer {
    if (this.at + length > this.page.length) {
      this.page = randomBytes(Math.max(4096, length));
      this.at = 0;
    }
    const nonce = this.page.subarray(this.at, this.at + length);
    this.at += length;
    return nonce;
  }
}

export class EmbeddedLedger {
  private readonly waiters = new Set<() => void>();
  private readonly identities: EmbeddedCA;
  private inflight = 0;
  private active = 0;
  private settled: (() => void) | undefined;
  private closing = false;
  private closed = false;
  private closingDone: Promise<void> | undefined;

  private readonly committer: Committer;
  private readonly recent = new RecentBlocks();
  private readonly nonces = new Nonces();
  private readonly snapshots: SnapshotShare;

  private constructor(
    readonly dir: string,
    private readonly db: Db,
    private readonly chaincode: Chaincode,
    tip: { height: number; hash: string },
    private readonly options: Required<
      Omit<
        LedgerOptions,
        'chaincodeLogLevel' | 'contracts' | 'dir' | 'cacheBytes' | 'maxOpenFiles' | 'writeBufferBytes'
      >
    >,
  ) {
    this.identities = new EmbeddedCA(path.join(dir, 'msp'));
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
    const settings = {
      channel: options.channel ?? 'torgo',
      chaincodeName: options.chaincodeName ?? 'torgo',
      chaincodeVersion: options.chaincodeVersion ?? '0.0.0',
      peerMspId: options.peerMspId ?? 'EmbeddedPeerMSP',
      maxQueue: positiveInteger('maxQueue', options.maxQueue ?? 10000),
      maxBlockTxs: positiveInteger('maxBlockTxs', options.maxBlockTxs ?? 500),
      blockWindowMs: windowMs(options.blockWindowMs ?? 0),
      totalQueryLimit: positiveInteger('totalQueryLimit', options.totalQueryLimit ?? 100000),
    };
    if (options.chaincodeLogLevel) setChaincodeLogLevel(options.chaincodeLogLevel);
    const chaincode = chaincodeFromContracts(
      options.contracts,
      settings.chaincodeName,
      settings.chaincodeVersion,
    );
    const dir = path.resolve(options.dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const db = await openDb(path.join(dir, 'ledger'), {
      ...(options.cacheBytes === undefined
        ? {}
        : { cacheBytes: positiveInteger('cacheBytes', options.cacheBytes) }),
      ...(options.maxOpenFiles === undefined
        ? {}
        : { maxOpenFiles: positiveInteger('maxOpenFiles', options.maxOpenFiles) }),
      writeBufferBytes: positiveInteger('writeBufferBytes', options.writeBufferBytes ?? WRITE_BUFFER_BYTES),
    });
    try {
      await checkStorageFormat(db, path.join(dir, 'ledger'), true);
      return new EmbeddedLedger(dir, db, chaincode, await readTip(db), settings);
    } catch (e) {
      await db.close();
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

  /** Stop taking transactions, finish those in flight (they are acknowledged or rejected), close LevelDB. */
  close(): Promise<void> {
    this.closingDone ??= (async () => {
      this.closing = true;
      this.wake();
      while (this.active > 0) await new Promise<void>((resolve) => (this.settled = resolve));
      await this.committer.idle();
      await this.snapshots.close();
      this.closed = true;
      try {
        await flushMemtable(this.db);
      } finally {
        await this.db.close();
      }
    })();
    return this.closingDone;
  }

  private async endorse(
    identity: Identity,
    fcn: string,
    args: readonly string[],
    options: SubmitOptions,
  ): Promise<{ tx: EndorsedTx; answer: Uint8Array | ByteParts }> {
    if (typeof fcn !== 'string' || fcn.length === 0)
      throw new EngineError('E_ARGUMENT', 'fcn must be a non-empty string');
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) {
      throw new EngineError('E_ARGUMENT', 'args must be an array of strings');
    }
    const creator = await this.identities.verify(identity);
    // A Fabric client's proposal: random nonce, tx id = SHA-256(nonce ‖ serialized creator), its clock.
    const nonce = this.nonces.next(24);
    const txId = sha256Hex(Buffer.concat([nonce, creator.serialized]));
    const ms = Date.now();
    const timestamp = { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
    const call = [fcn, ...args];
    // Encoded once: what the stub hands the dispatcher, and what the args hash is taken over (before
    // the contract runs, so nothing it does to its buffers can reach the block).
    const bufferArgs = call.map(utf8WithText);
    const argsHash = argsHashOf(args, bufferArgs.slice(1));
    const sim = new TxSimulation(txId);
    let binding: string | undefined;
    const shared = this.snapshots.acquire(this.committer.height);
    const stub = new EmbeddedStub(
      {
        txId,
        channelId: this.options.channel,
        chaincodeName: this.options.chaincodeName,
        creator,
        peerMspId: this.options.peerMspId,
        args: call,
        bufferArgs,
        transient: new Map(Object.entries(options.transient ?? {})),
        timestamp,
        get binding() {
          // Only a contract that asks for it pays for it.
          binding ??= sha256Hex(Buffer.concat([nonce, creator.serialized, EPOCH]));
          return binding;
        },
        totalQueryLimit: this.options.totalQueryLimit,
      },
      new StateView(this.db, shared.snapshot),
      sim,
    );
    let response: Awaited<ReturnType<Chaincode['Invoke']>>;
    try {
      response = await this.chaincode.Invoke(stub);
    } finally {
      await stub.closeIterators();
      this.snapshots.release(shared);
    }
    if (response.status >= 400) {
      throw new EngineError('E_ENDORSE', response.message ?? '', { txId, status: response.status });
    }
    return { tx: { txId, timestamp, creator, fcn, argsHash, sim }, answer: answerOf(response.payload) };
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
