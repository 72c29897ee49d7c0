/**
 * The relay's outbox: receipts accepted and not yet forwarded, on LevelDB, in acceptance order.
 *
 * Layout (one LevelDB, keys in UTF-8):
 *   q!<seq>  a queued receipt (JSON {id, source, mu, acceptedAt}), seq = 16 decimal digits, so key
 *            order is acceptance order: forwarding in key order keeps every source's order
 *   i!<id>   seq and digest of a queued receipt, so a repeat is recognised and a conflict refused
 *   x!<seq>  a receipt the gateway refused for good (JSON with its error): kept for the operator
 *   m!state  JSON {nextSeq, receipts, bytes, rejected, rejectedBytes}: the counters, updated in the
 *            same batch as the entries they count, so they can never drift from them
 *
 * Every change goes through one writer that takes everything waiting and writes it as ONE batch with
 * `sync: true` (one fsync; the engine's committer does the same, engine/committer.ts): a receipt is
 * acknowledged only after the batch holding it returned, and concurrent intakes share the fsync.
 */
import { Level } from 'level';
import { RelayError } from './errors.js';

export interface OutboxLimits {
  /** Receipts queued and rejected, at most. */
  readonly maxReceipts: number;
  /** Bytes of `.mu` queued and rejected, at most (the store's overhead comes on top, docs/relay.md). */
  readonly maxBytes: number;
}

export interface QueuedReceipt {
  readonly seq: number;
  readonly id: string;
  readonly source: string;
  readonly mu: string;
  /** Epoch ms when the relay made it durable. */
  readonly acceptedAt: number;
}

export interface RejectedReceipt extends QueuedReceipt {
  readonly rejectedAt: number;
  readonly error: { readonly status: number; readonly code: string; readonly message: string };
}

/** What intake hands the outbox: a parsed, checked, possibly signed receipt. */
export interface Admission {
  readonly id: string;
  readonly source: string;
  readonly mu: string;
  readonly digest: string;
}

export interface Admitted {
  readonly seq: number;
  readonly id: string;
  readonly digest: string;
  /** False when the same bytes were already queued (nothing was written). */
  readonly created: boolean;
}

interface State {
  nextSeq: number;
  receipts: number;
  bytes: number;
  rejected: number;
  rejectedBytes: number;
}

type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

interface Job {
  /** Receipt ids whose index entries `plan` reads. */
  readonly ids: readonly string[];
  /** Builds the ops against the current state (the writer runs jobs one after another). */
  plan(state: State, ops: Op[], index: Map<string, { seq: number; digest: string }>): void;
  resolve(): void;
  reject(e: unknown): void;
}

const STATE_KEY = 'm!state';
const seqKey = (prefix: 'q!' | 'x!', seq: number): string => `${prefix}${String(seq).padStart(16, '0')}`;
const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

export class Outbox {
  private jobs: Job[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;
  /** Called after every write that queued receipts (the forwarder waits on it). */
  onQueued: () => void = () => {};

  private constructor(
    private readonly db: Level<string, string>,
    private state: State,
    readonly limits: OutboxLimits,
  ) {}

  static async open(dir: string, limits: OutboxLimits): Promise<Outbox> {
    const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    try {
      await db.open();
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code;
      if (code === 'LEVEL_LOCKED')
        throw new RelayError(
          'E_RELAY_LOCKED',
          `outbox ${dir} is already open (another relay?)`,
          {},
          { cause: e },
        );
      throw new RelayError('E_RELAY_STORAGE', `cannot open outbox ${dir}: ${String(e)}`, {}, { cause: e });
    }
    const saved = await db.get(STATE_KEY);
    const state: State = saved
      ? (JSON.parse(saved) as State)
      : { nextSeq: 1, receipts: 0, bytes: 0, rejected: 0, rejectedBytes: 0 };
    return new Outbox(db, state, limits);
  }

  /** Counters as of the last durable write. */
  get counts(): Readonly<State> {
    return this.state;
  }

  /**
   * Makes receipts durable, in order; one result per admission (a RelayError for those refused:
   * full, or a conflicting id). Resolves once the fsync returned.
   */
  admit(admissions: readonly Admission[]): Promise<(Admitted | RelayError)[]> {
    const results: (Admitted | RelayError)[] = [];
    const now = Date.now();
    return this.run({
      ids: admissions.map((a) => a.id),
      plan: (state, ops, index) => {
        for (const a of admissions) results.push(this.planAdmission(a, now, state, ops, index));
      },
    }).then(() => {
      if (results.some((r) => !(r instanceof RelayError) && r.created)) this.onQueued();
      return results;
    });
  }

  private planAdmission(
    a: Admission,
    now: number,
    state: State,
    ops: Op[],
    index: Map<string, { seq: number; digest: string }>,
  ): Admitted | RelayError {
    const known = index.get(a.id);
    if (known) {
      if (known.digest === a.digest) return { seq: known.seq, id: a.id, digest: a.digest, created: false };
      return new RelayError('E_RECEIPT_CONFLICT', `receipt ${a.id} is already queued with other bytes`, {
        id: a.id,
        queuedDigest: known.digest,
      });
    }
    const bytes = utf8Length(a.mu);
    const full = this.fullness(state, bytes);
    if (full) return full;
    const seq = state.nextSeq++;
    state.receipts++;
    state.bytes += bytes;
    const entry = { id: a.id, source: a.source, mu: a.mu, acceptedAt: now };
    ops.push({ type: 'put', key: seqKey('q!', seq), value: JSON.stringify(entry) });
    ops.push({ type: 'put', key: `i!${a.id}`, value: JSON.stringify({ seq, digest: a.digest }) });
    index.set(a.id, { seq, digest: a.digest });
    return { seq, id: a.id, digest: a.digest, created: true };
  }

  /** The refusal when one more receipt of `bytes` would pass a limit (rejected ones count: they are on disk). */
  private fullness(state: State, bytes: number): RelayError | undefined {
    const count = state.receipts + state.rejected;
    const used = state.bytes + state.rejectedBytes;
    if (count + 1 > this.limits.maxReceipts || used + bytes > this.limits.maxBytes) {
      return new RelayError(
        'E_RELAY_FULL',
        `the outbox is full (${count} receipts, ${used} bytes; limits ${this.limits.maxReceipts} receipts, ${this.limits.maxBytes} bytes): retry once it drains`,
        {
          receipts: count,
          bytes: used,
          maxReceipts: this.limits.maxReceipts,
          maxBytes: this.limits.maxBytes,
        },
      );
    }
    return undefined;
  }

  /** The oldest queued receipts, in acceptance order. */
  async peek(limit: number): Promise<QueuedReceipt[]> {
    const out: QueuedReceipt[] = [];
    for await (const [key, value] of this.db.iterator({ gte: 'q!', lt: 'q"', limit })) {
      out.push({ seq: Number(key.slice(2)), ...(JSON.parse(value) as Omit<QueuedReceipt, 'seq'>) });
    }
    return out;
  }

  /** Removes forwarded receipts and moves refused ones aside, in one durable batch. */
  settle(
    forwarded: readonly QueuedReceipt[],
    rejected: readonly { receipt: QueuedReceipt; error: RejectedReceipt['error'] }[],
  ): Promise<void> {
    const now = Date.now();
    return this.run({
      ids: [],
      plan: (state, ops, index) => {
        for (const r of forwarded) this.planRemoval(r, state, ops, index);
        for (const { receipt: r, error } of rejected) {
          this.planRemoval(r, state, ops, index);
          const { seq: _seq, ...entry } = r;
          ops.push({
            type: 'put',
            key: seqKey('x!', r.seq),
            value: JSON.stringify({ ...entry, rejectedAt: now, error }),
          });
          state.rejected++;
          state.rejectedBytes += utf8Length(r.mu);
        }
      },
    });
  }

  private planRemoval(
    r: QueuedReceipt,
    state: State,
    ops: Op[],
    index: Map<string, { seq: number; digest: string }>,
  ): void {
    ops.push({ type: 'del', key: seqKey('q!', r.seq) }, { type: 'del', key: `i!${r.id}` });
    index.delete(r.id);
    state.receipts--;
    state.bytes -= utf8Length(r.mu);
  }

  /** Receipts the gateway refused for good, oldest first. */
  async rejected(limit: number): Promise<RejectedReceipt[]> {
    const out: RejectedReceipt[] = [];
    for await (const [key, value] of this.db.iterator({ gte: 'x!', lt: 'x"', limit })) {
      out.push({ seq: Number(key.slice(2)), ...(JSON.parse(value) as Omit<RejectedReceipt, 'seq'>) });
    }
    return out;
  }

  /** Waits for pending writes, then closes the store; later calls are refused with E_RELAY_CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.db.close();
  }

  private run(job: Omit<Job, 'resolve' | 'reject'>): Promise<void> {
    if (this.closed) return Promise.reject(new RelayError('E_RELAY_CLOSED', 'the relay is stopping'));
    return new Promise((resolve, reject) => {
      this.jobs.push({ ...job, resolve, reject });
      if (!this.writing) this.writing = this.drain();
    });
  }

  /** The single writer: everything waiting becomes one batch and one fsync. */
  private async drain(): Promise<void> {
    while (this.jobs.length > 0) {
      const jobs = this.jobs;
      this.jobs = [];
      const state = { ...this.state };
      const ops: Op[] = [];
      try {
        const index = await this.indexFor(jobs);
        for (const job of jobs) job.plan(state, ops, index);
        ops.push({ type: 'put', key: STATE_KEY, value: JSON.stringify(state) });
        await this.db.batch(ops, { sync: true });
        this.state = state;
        for (const job of jobs) job.resolve();
      } catch (e) {
        const error =
          e instanceof RelayError
            ? e
            : new RelayError('E_RELAY_STORAGE', `outbox write failed: ${String(e)}`, {}, { cause: e });
        for (const job of jobs) job.reject(error);
      }
    }
    this.writing = undefined;
  }

  /** The index entries of the ids the jobs look up (one multi-get for the whole batch). */
  private async indexFor(jobs: readonly Job[]): Promise<Map<string, { seq: number; digest: string }>> {
    const ids = [...new Set(jobs.flatMap((j) => j.ids))];
    const index = new Map<string, { seq: number; digest: string }>();
    if (ids.length === 0) return index;
    const values = await this.db.getMany(ids.map((id) => `i!${id}`));
    values.forEach((v, i) => {
      if (v !== undefined) index.set(ids[i]!, JSON.parse(v) as { seq: number; digest: string });
    });
    return index;
  }
}
