/**
 * Exports on a thread of their own (export-worker.ts), seen from the gateway's thread, for the embedded
 * ledger: bundle exports and CSV exports (`GET /v1/receipts` with `Accept: text/csv`). The thread opens
 * the same LevelDB databases (shared between the process's threads: engine/state.ts, store.ts),
 * evaluates the contract's pages itself (engine/reader.ts) and makes every line, proof, CSV row and the
 * digest in its own heap. The gateway's thread only hands the chunks on and signs each bundle's
 * statement (the operator key stays here).
 *
 * Why: an export on the gateway's thread shared it, and its heap, with the appends: its contract pages
 * (synchronous LevelDB reads, ~10 ms at a stretch), its JSON and its garbage set the appends' p99
 * during an export. An export thread whose reads were still made on the gateway's thread did not help
 * (docs/performance.md §12).
 *
 * One thread serves every export, started with the gateway (`start`, once it listens) or with the first
 * export, and kept: a thread started per export spent ~0.8 s of CPU loading the contract and its
 * libraries and ran its first export with cold code, at 2.5–4× the CPU of the same export on the
 * gateway's warm thread (docs/performance.md §12). Started with the gateway, the ~50 MiB the thread
 * takes is taken at start rather than during an auditor's first export.
 */
import { Worker } from 'node:worker_threads';
import type { ExportStatement } from '../../core/index.js';
import type { Selection } from '../ledger/selection.js';
import type { WalletIdentity } from '../ledger/wallet.js';
import type { IssuedCheckpoint } from './checkpointer.js';
import type { ExportSummary } from './export.js';

/** Chunks (~64 KiB each) the thread may make ahead of an export's consumer: what its stream would buffer anyway. */
const CREDIT = 4;
/** The smallest heap cap a thread is started with: below what it needs to start, V8 ends the whole process. */
export const MIN_EXPORT_HEAP_MIB = 16;
/**
 * The thread's young generation, MiB. V8 sizes it from the old generation's cap when it is not
 * given, small for a capped thread: an export then ran 1.2–1.7× the CPU (a cold thread,
 * docs/performance.md §12). Its scavenges pause this thread only.
 */
const YOUNG_GENERATION_MIB = 48;

/** What the thread is started with (its workerData). */
export interface ThreadSetup {
  /** The embedded ledger's data directory (the gateway's `dataDir`). */
  readonly ledgerDir: string;
  /** The log store's LevelDB (TransparencyLog's `<dataDir>/log/tree`). */
  readonly logTree: string;
}

/** One bundle export. */
export interface ExportJob {
  readonly kind: 'bundle';
  /** Who reads the ledger: the caller, as the contract sees it (no private key: nothing is signed with it). */
  readonly identity: Omit<WalletIdentity, 'privateKey'>;
  readonly selection: Selection;
  readonly checkpoint: IssuedCheckpoint;
  readonly filters: Readonly<Record<string, string>>;
  readonly origin: string;
}

/** One CSV export: at most `max` rows of `selection` from `bookmark` on (gateway/http/csv.ts `SummaryPages`). */
export interface CsvJob {
  readonly kind: 'csv';
  readonly identity: Omit<WalletIdentity, 'privateKey'>;
  readonly selection: Selection;
  readonly bookmark: string;
  readonly max: number;
}

export type ThreadJob = ExportJob | CsvJob;

/** What the gateway's thread says about export `id`. */
export type ToThread =
  | { readonly t: 'start'; readonly id: number; readonly job: ThreadJob; readonly credit: number }
  /** Open the ledger now (ExportThread.start). */
  | { readonly t: 'open' }
  | { readonly t: 'more'; readonly id: number }
  | { readonly t: 'stop'; readonly id: number }
  | { readonly t: 'signed'; readonly id: number; readonly note: string }
  | { readonly t: 'signed'; readonly id: number; readonly error: string };

/** What the thread says about export `id`. */
export type FromThread =
  | { readonly t: 'chunk'; readonly id: number; readonly chunk: Uint8Array; readonly summary: ExportSummary }
  | { readonly t: 'sign'; readonly id: number; readonly statement: ExportStatement }
  | { readonly t: 'done'; readonly id: number; readonly summary: ExportSummary }
  | { readonly t: 'fail'; readonly id: number; readonly message: string; readonly summary: ExportSummary }
  /** A stopped export has stopped reading. */
  | { readonly t: 'ended'; readonly id: number }
  /** The ledger is open (or why it is not), in answer to `open`. */
  | { readonly t: 'opened'; readonly error?: string };

type Arrival =
  | Exclude<FromThread, { t: 'sign' } | { t: 'ended' } | { t: 'opened' }>
  | { readonly t: 'lost'; readonly message: string };

/** An export under way: what has arrived for it, and who signs its statement. */
interface Running {
  readonly inbox: Arrival[];
  wake: (() => void) | undefined;
  /** Signs a bundle's statement; a CSV export has none to sign. */
  readonly signStatement: ((statement: ExportStatement) => string) | undefined;
}

export class ExportThread {
  private worker: Worker | undefined;
  private readonly running = new Map<number, Running>();
  /** Exports the thread is making: started, and neither done, failed nor ended since. */
  private readonly making = new Set<number>();
  private nextId = 0;
  private closed = false;
  private opening: Promise<void> | undefined;
  /** Who waits for the thread's answer to `open` (start). */
  private whenOpened: { resolve(): void; reject(e: Error): void } | undefined;
  /** Exports begun on the thread, by kind. */
  readonly begun: Record<ThreadJob['kind'], number> = { bundle: 0, csv: 0 };

  constructor(
    private readonly setup: ThreadSetup,
    /** The thread's old-generation cap (MiB): exports that outgrow it fail, not the gateway. */
    private readonly heapMiB: number,
  ) {}

  /**
   * An export's bytes, in the chunks the thread makes, pulled as the consumer takes them. Stopping the
   * iteration (a client gone) stops the export's reads; a failure of the export fails it alone, a
   * failure of the thread (its heap outgrown) fails the exports it was making, and the next export
   * starts a fresh thread.
   */
  async *run(
    job: ThreadJob,
    summary: ExportSummary = { keys: 0, receipts: 0, skipped: 0 },
    signStatement?: (statement: ExportStatement) => string,
  ): AsyncGenerator<Buffer> {
    if (this.closed) throw new Error('export thread: the log is closed');
    const worker = this.started();
    const id = this.nextId++;
    this.begun[job.kind]++;
    const me: Running = { inbox: [], wake: undefined, signStatement };
    this.running.set(id, me);
    this.making.add(id);
    let finished = false;
    try {
      worker.postMessage({ t: 'start', id, job, credit: CREDIT } satisfies ToThread);
      for (;;) {
        while (me.inbox.length === 0) await new Promise<void>((r) => (me.wake = r));
        const m = me.inbox.shift()!;
        if (m.t === 'lost') throw new Error(m.message);
        Object.assign(summary, m.summary);
        if (m.t === 'done') {
          finished = true;
          return;
        }
        if (m.t === 'fail') {
          finished = true;
          throw new Error(m.message);
        }
        worker.postMessage({ t: 'more', id } satisfies ToThread);
        yield Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.length);
      }
    } finally {
      this.running.delete(id);
      if (!finished && this.worker === worker) worker.postMessage({ t: 'stop', id } satisfies ToThread);
    }
  }

  /** How many exports the thread is making (one whose consumer went away counts until its reads stop). */
  get underway(): number {
    return this.making.size;
  }

  /**
   * Starts the thread now and has it open the ledger, rather than at the first export: what the thread
   * costs in memory (its isolate, the contract and its libraries loaded again, its heap) is then taken
   * when the gateway starts, not in the middle of its first export, and that export waits for no thread
   * to load. Resolves once the ledger is open; rejects with the reason it is not (the thread stays,
   * and the first export tries the ledger again).
   */
  start(): Promise<void> {
    this.opening ??= this.open();
    return this.opening;
  }

  /** The ledger opened by `start`, once it was called: undefined while the thread waits for an export. */
  get opened(): Promise<void> | undefined {
    return this.opening;
  }

  private async open(): Promise<void> {
    if (this.closed) throw new Error('export thread: the log is closed');
    const worker = this.started();
    const opened = new Promise<void>((resolve, reject) => (this.whenOpened = { resolve, reject }));
    worker.postMessage({ t: 'open' } satisfies ToThread);
    await opened;
  }

  /** Ends the thread and every export it was making. */
  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./export-worker.js', import.meta.url), {
      workerData: this.setup,
      resourceLimits: {
        maxOldGenerationSizeMb: Math.max(MIN_EXPORT_HEAP_MIB, this.heapMiB),
        maxYoungGenerationSizeMb: YOUNG_GENERATION_MIB,
      },
    });
    // An idle thread does not keep the process alive.
    worker.unref();
    worker.on('message', (m: FromThread) => {
      if (m.t === 'opened') {
        if (m.error === undefined) this.whenOpened?.resolve();
        else this.whenOpened?.reject(new Error(m.error));
        this.whenOpened = undefined;
        return;
      }
      if (m.t === 'done' || m.t === 'fail' || m.t === 'ended') this.making.delete(m.id);
      const running = this.running.get(m.id);
      if (!running) {
        // Its consumer went away: the thread stops it at its next step.
        if (m.t === 'sign') worker.postMessage({ t: 'signed', id: m.id, error: 'the export was stopped' });
        return;
      }
      if (m.t === 'sign') {
        let reply: ToThread;
        try {
          if (!running.signStatement) throw new Error('this export has no statement to sign');
          reply = { t: 'signed', id: m.id, note: running.signStatement(m.statement) };
        } catch (e) {
          reply = { t: 'signed', id: m.id, error: e instanceof Error ? e.message : String(e) };
        }
        worker.postMessage(reply);
      } else if (m.t !== 'ended') arrive(running, m);
    });
    const lost = (message: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.making.clear();
      this.whenOpened?.reject(new Error(message));
      this.whenOpened = undefined;
      for (const running of this.running.values()) arrive(running, { t: 'lost', message });
    };
    worker.on('error', (e) => lost(`export thread: ${e.message}`));
    worker.on('exit', (code) => lost(`export thread exited (code ${code})`));
    this.worker = worker;
    return worker;
  }
}

function arrive(running: Running, m: Arrival): void {
  running.inbox.push(m);
  running.wake?.();
  running.wake = undefined;
}
