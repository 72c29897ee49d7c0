/**
 * Issues the log's checkpoints: C2SP tlog-checkpoint bodies signed by the log operator's ML-DSA
 * key (docs/transparency.md). A new checkpoint must extend the previous one (checked with a
 * consistency proof from the store before signing), is persisted, and is recorded on the ledger
 * through the contract so the checkpoint history is itself protected.
 */
import {
  type Checkpoint,
  type ExportStatement,
  type PrivateKey,
  parseCheckpointBody,
  parseNote,
  signCheckpoint,
  signStatement,
  verifyCheckpointConsistency,
} from '../../core/index.js';
import type { LogStore } from './store.js';

export interface CheckpointerOptions {
  /** The log's origin line (also the operator key's note name). */
  readonly origin: string;
  readonly key: PrivateKey;
  /** Records a signed checkpoint on the ledger (contract recordCheckpoint); failures are reported, not fatal. */
  readonly recordOnLedger?: (note: string) => Promise<void>;
  readonly onError?: (e: Error) => void;
}

export interface IssuedCheckpoint {
  readonly note: string;
  readonly checkpoint: Checkpoint;
}

export class Checkpointer {
  private latest: IssuedCheckpoint | undefined;
  private issuing: Promise<IssuedCheckpoint> | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly store: LogStore,
    private readonly options: CheckpointerOptions,
  ) {}

  static async open(store: LogStore, options: CheckpointerOptions): Promise<Checkpointer> {
    const c = new Checkpointer(store, options);
    const note = await store.latestCheckpoint();
    if (note) c.latest = { note, checkpoint: parseCheckpointBody(parseNote(note).text) };
    return c;
  }

  get current(): IssuedCheckpoint | undefined {
    return this.latest;
  }

  /** A checkpoint of the log as it is now (the latest one again if nothing was appended). */
  issue(): Promise<IssuedCheckpoint> {
    this.issuing ??= this.doIssue().finally(() => {
      this.issuing = undefined;
    });
    return this.issuing;
  }

  private async doIssue(): Promise<IssuedCheckpoint> {
    const size = this.store.size;
    if (this.latest && this.latest.checkpoint.size === size) return this.latest;
    const checkpoint: Checkpoint = {
      origin: this.options.origin,
      size,
      rootHash: await this.store.root(size),
      // Commits to every key's newest entry, so bundles prove key heads (docs/transparency.md §3.1).
      extensions: [(await this.store.keyHeadsTree(size)).line],
    };
    if (this.latest) {
      const previous = this.latest.checkpoint;
      verifyCheckpointConsistency(
        previous,
        checkpoint,
        await this.store.consistencyProof(previous.size, size),
      );
    }
    const note = signCheckpoint(checkpoint, [{ name: this.options.origin, key: this.options.key }]);
    await this.store.saveCheckpoint(note);
    this.latest = { note, checkpoint };
    if (this.options.recordOnLedger) {
      this.options.recordOnLedger(note).catch((e: Error) => this.options.onError?.(e));
    }
    return this.latest;
  }

  /**
   * Signs an export statement (docs/bundle-format.md §3) with the operator key, under the log's
   * key name: the exporter's word on what a bundle holds, checked by `torgo verify --trust`.
   */
  signStatement(statement: ExportStatement): string {
    if (statement.origin !== this.options.origin)
      throw new Error(`an export statement for "${statement.origin}" from the log "${this.options.origin}"`);
    return signStatement(statement, this.options.key);
  }

  /** Issues a checkpoint every `intervalMs` when the log has grown. */
  startPeriodic(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.store.size !== (this.latest?.checkpoint.size ?? 0)) {
        this.issue().catch((e: Error) => this.options.onError?.(e));
      }
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.issuing?.catch(() => undefined);
  }
}
