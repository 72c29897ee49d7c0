/**
 * The gateway's transparency log: a LevelDB log store (`<data>/log`), a builder following the
 * ledger's commits, and a checkpointer signing with the log operator's ML-DSA key (generated on
 * first start into `<data>/log/operator.key.pem`, mode 0600, unless a key file is configured).
 */
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  generatePrivateKey,
  type PrivateKey,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyToPem,
  toBase64,
} from '../../core/index.js';
import { GatewayError } from '../errors.js';
import {
  type BlockSource,
  type LogBlock,
  LogBuilder,
  type LogBuilderOptions,
  type LogBuilderStatus,
} from './builder.js';
import { Checkpointer, type IssuedCheckpoint } from './checkpointer.js';
import { type ExportOptions, type ExportSummary, exportBundle, inChunks } from './export.js';
import { type ExportJob, ExportThread } from './export-thread.js';
import { LogStore } from './store.js';
import { CheckpointWitness, witnessCheckpoint } from './witness.js';

export interface TransparencyOptions {
  readonly dataDir: string;
  readonly origin: string;
  /** PKCS#8 PEM of the operator key; default `<data>/log/operator.key.pem`, created if missing. */
  readonly keyFile?: string | undefined;
  readonly checkpointIntervalMs: number;
  readonly source: BlockSource;
  readonly recordOnLedger?: (note: string) => Promise<void>;
  /**
   * Witness other organisations' checkpoints recorded on the ledger, recording the cosigned notes
   * with this (contract recordCosignatures); no witnessing without it.
   */
  readonly recordCosignatures?: ((note: string) => Promise<void>) | undefined;
  readonly onError?: (e: Error) => void;
  /** Reconnect backoff, `caughtUp` timeout, per-block callback (builder.ts). */
  readonly builder?: Omit<LogBuilderOptions, 'onError'>;
  /** A log behind the ledger without progress for this long is stalled (readiness fails). */
  readonly stallAfterMs?: number;
  /**
   * Bundle exports on a thread of their own (export-thread.ts), which reads the embedded ledger in
   * `ledgerDir` itself, its old generation capped at `heapMiB`; without it, exports run on this thread.
   */
  readonly exportThread?: { readonly ledgerDir: string; readonly heapMiB: number } | undefined;
}

/** What `/readyz` and the metrics say about the log. */
export interface LogHealth extends LogBuilderStatus {
  readonly stalled: boolean;
  readonly stalledForSeconds: number;
}

async function loadOrCreateKey(file: string, create: boolean): Promise<PrivateKey> {
  try {
    return privateKeyFromPem(await readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw e;
  }
  const key = generatePrivateKey('ML-DSA-65');
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(privateKeyToPem(key));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await writeFile(file.replace(/\.key\.pem$/, '.pub.pem'), publicKeyToPem(key));
  return key;
}

export class TransparencyLog {
  private constructor(
    readonly origin: string,
    readonly store: LogStore,
    readonly builder: LogBuilder,
    readonly checkpointer: Checkpointer,
    /** Cross-organisation witnessing (witness.ts), when configured. */
    readonly witnessing: CheckpointWitness | undefined,
    private readonly key: PrivateKey,
    private readonly stallAfterMs: number,
    /** The thread bundle and CSV exports are made on, when there is one (export-thread.ts). */
    readonly exportThread: ExportThread | undefined,
  ) {}

  static async open(o: TransparencyOptions): Promise<TransparencyLog> {
    const dir = path.join(o.dataDir, 'log');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const key = await loadOrCreateKey(
      o.keyFile ?? path.join(dir, 'operator.key.pem'),
      o.keyFile === undefined,
    );
    const treePath = path.join(dir, 'tree');
    const store = await LogStore.open(treePath);
    const witness = o.recordCosignatures
      ? await CheckpointWitness.open({
          origin: o.origin,
          key,
          store,
          record: o.recordCosignatures,
          ...(o.onError ? { onError: o.onError } : {}),
        })
      : undefined;
    const onBlock = o.builder?.onBlock;
    const builder = new LogBuilder(store, o.source, {
      ...o.builder,
      ...(o.onError ? { onError: o.onError } : {}),
      ...(witness || onBlock
        ? {
            onBlock: (n: number, block: LogBlock) => {
              onBlock?.(n, block);
              witness?.observe(block);
            },
          }
        : {}),
    });
    const checkpointer = await Checkpointer.open(store, {
      origin: o.origin,
      key,
      ...(o.recordOnLedger ? { recordOnLedger: o.recordOnLedger } : {}),
      ...(o.onError ? { onError: o.onError } : {}),
    });
    builder.start();
    checkpointer.startPeriodic(o.checkpointIntervalMs);
    return new TransparencyLog(
      o.origin,
      store,
      builder,
      checkpointer,
      witness,
      key,
      o.stallAfterMs ?? 15_000,
      o.exportThread
        ? new ExportThread({ ledgerDir: o.exportThread.ledgerDir, logTree: treePath }, o.exportThread.heapMiB)
        : undefined,
    );
  }

  /** The operator's public key, PEM: what a regulator passes to `torgo verify --trust`. */
  get operatorPublicKeyPem(): string {
    return publicKeyToPem(this.key);
  }

  get operatorKeyId(): string {
    return this.key.keyId;
  }

  /**
   * Stalled: reconnecting its block stream, or behind the ledger with no progress for
   * `stallAfterMs` (a log that follows a busy ledger a block or two behind is not stalled).
   */
  health(now: number = Date.now()): LogHealth {
    const s = this.builder.status(now);
    const stalledForMs = s.stalledSince ? now - s.stalledSince.getTime() : 0;
    const stalled =
      s.state !== 'following' || (s.stalledSince !== undefined && stalledForMs > this.stallAfterMs);
    return { ...s, stalled, stalledForSeconds: Math.floor(stalledForMs / 1000) };
  }

  /**
   * A checkpoint covering every block committed up to `height`, the ledger's current height. Waits
   * (bounded) for the builder; when the log cannot get there it refuses with E_UNAVAILABLE rather than
   * sign a checkpoint that silently leaves out committed entries.
   */
  async checkpointAt(height: number): Promise<IssuedCheckpoint> {
    await this.coverHeight(height);
    return this.checkpointer.issue();
  }

  /** Resolves once the log holds every block below `height`; E_UNAVAILABLE when it cannot get there in time. */
  async coverHeight(height: number): Promise<void> {
    if (height > 0) await this.builder.caughtUp(height - 1);
  }

  async inclusion(
    id: string,
    size: number,
  ): Promise<{ leafIndex: number; proof: string[]; entry: unknown } | undefined> {
    const leaf = await this.store.receiptLeaf(id);
    if (!leaf || leaf.index >= size) return undefined;
    return {
      leafIndex: leaf.index,
      proof: (await this.store.inclusionProof(leaf.index, size)).map(toBase64),
      entry: leaf.entry,
    };
  }

  /**
   * Cosigns another organisation's checkpoint of this same log if this gateway's own log has the
   * same root at its size (witness.ts). A checkpoint larger than the log first waits for the log to
   * cover the ledger's current height (`ledgerHeight`, bounded like checkpoints and exports).
   */
  async witness(note: string, ledgerHeight: () => Promise<number>): ReturnType<typeof witnessCheckpoint> {
    return witnessCheckpoint(note, {
      origin: this.origin,
      key: this.key,
      store: this.store,
      reach: async (size) => {
        await this.coverHeight(await ledgerHeight());
        if (this.store.size < size)
          throw new GatewayError(
            'E_UNAVAILABLE',
            `this gateway's log holds ${this.store.size} entries, not yet ${size}; retry`,
            { logSize: this.store.size, size },
          );
      },
    });
  }

  async consistency(from: number, to: number): Promise<string[]> {
    return (await this.store.consistencyProof(from, to)).map(toBase64);
  }

  /**
   * A bundle of a selection as a byte stream, in chunks of whole lines, read from the ledger and
   * the log only as fast as the consumer takes it; destroying the stream (the client gone) stops
   * the reads. Waits until the log covers `height` first (else E_UNAVAILABLE). The bundle's
   * checkpoint is a fresh one, or `checkpoint` (a cosigned one, witness.ts).
   */
  exportStream(
    height: number,
    receipts:
      | Pick<ExportOptions, 'receipts' | 'readText'>
      | { readonly thread: Pick<ExportJob, 'identity' | 'selection'> },
    filters: Record<string, string>,
    summary: ExportSummary = { keys: 0, receipts: 0, skipped: 0 },
    checkpoint?: IssuedCheckpoint,
  ): Readable {
    if ('thread' in receipts) {
      return Readable.from(this.threadExport(height, receipts.thread, filters, summary, checkpoint), {
        objectMode: false,
        highWaterMark: 256 * 1024,
      });
    }
    const lines = async function* (this: TransparencyLog): AsyncGenerator<Buffer> {
      await this.coverHeight(height);
      yield* exportBundle(
        {
          store: this.store,
          checkpointer: this.checkpointer,
          ...receipts,
          filters,
          origin: this.origin,
          ...(checkpoint ? { checkpoint } : {}),
        },
        summary,
      );
    };
    return Readable.from(inChunks(lines.call(this)), { objectMode: false, highWaterMark: 256 * 1024 });
  }

  /** An export made on the log's export thread (export-thread.ts): its checkpoint issued and its statement signed here. */
  private async *threadExport(
    height: number,
    job: Pick<ExportJob, 'identity' | 'selection'>,
    filters: Record<string, string>,
    summary: ExportSummary,
    checkpoint: IssuedCheckpoint | undefined,
  ): AsyncGenerator<Buffer> {
    const thread = this.exportThread;
    if (!thread) throw new Error('this log makes its exports on its own thread');
    await this.coverHeight(height);
    yield* thread.run(
      {
        kind: 'bundle',
        ...job,
        checkpoint: checkpoint ?? (await this.checkpointer.issue()),
        filters,
        origin: this.origin,
      },
      summary,
      (statement) => this.checkpointer.signStatement(statement),
    );
  }

  async close(): Promise<void> {
    await this.exportThread?.close();
    await this.builder.stop();
    await this.witnessing?.idle();
    await this.checkpointer.stop();
    await this.store.close();
  }
}
