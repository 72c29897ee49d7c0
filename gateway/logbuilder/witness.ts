/**
 * Witnessing another gateway's checkpoint. Every organisation's gateway builds the same log from the
 * same blocks (same origin, same leaves, so the same roots). Shown a signed checkpoint of that log —
 * by another organisation's operator, whose key this gateway need not know — it cosigns only what it
 * computed itself: the origin is its own, its log has reached that size, and its own root at that
 * size is the checkpoint's root. Then it adds its signature line (C2SP tlog-cosignature style: more
 * lines over the same body, the existing ones kept byte for byte). A different root at the same size
 * is a fork between organisations: refused with E_CHECKPOINT_CONFLICT and never signed.
 */
import {
  CHECKPOINT_CONTEXT,
  type Checkpoint,
  cosignCheckpoint,
  equalBytes,
  isCoreError,
  type KeyHeadsCommitment,
  keyHeadsOf,
  keyLabel,
  parseCheckpointBody,
  parseNote,
  type PrivateKey,
  toBase64,
  verifyCheckpoint,
  verifyCheckpointConsistency,
} from '../../core/index.js';
import { mlDsaNoteKeyHash } from '../../core/log/note-mldsa.js';
import { GatewayError } from '../errors.js';
import { isReadConflict } from '../ledger/driver.js';
import type { LogBlock } from './builder.js';
import type { LogStore } from './store.js';

export interface WitnessOptions {
  readonly origin: string;
  readonly key: PrivateKey;
  readonly store: LogStore;
  /** Resolves once the log holds at least `size` leaves, or throws (E_UNAVAILABLE) after a bounded wait. */
  readonly reach: (size: number) => Promise<void>;
}

/** The checkpoint in `note` (attacker-controlled), cosigned with this gateway's operator key. */
export async function witnessCheckpoint(
  note: string,
  o: WitnessOptions,
): Promise<{ note: string; checkpoint: Checkpoint }> {
  let body: Checkpoint;
  try {
    body = parseCheckpointBody(parseNote(note).text);
  } catch (e) {
    if (isCoreError(e)) throw new GatewayError('E_CHECKPOINT_INVALID', e.message, { coreCode: e.code });
    throw e;
  }
  if (body.origin !== o.origin) {
    throw new GatewayError(
      'E_CHECKPOINT_INVALID',
      `the checkpoint is for the log "${body.origin}"; this gateway witnesses "${o.origin}"`,
    );
  }
  if (o.store.size < body.size) await o.reach(body.size);
  const ours = await o.store.root(body.size);
  if (!equalBytes(ours, body.rootHash)) {
    throw new GatewayError(
      'E_CHECKPOINT_CONFLICT',
      `this gateway's log has root ${toBase64(ours)} at size ${body.size}, the checkpoint says ${toBase64(body.rootHash)}: the logs have forked`,
      { size: body.size, ourRoot: toBase64(ours), theirRoot: toBase64(body.rootHash) },
    );
  }
  let theirs: KeyHeadsCommitment | undefined;
  try {
    theirs = keyHeadsOf(body);
  } catch (e) {
    if (isCoreError(e)) throw new GatewayError('E_CHECKPOINT_INVALID', e.message, { coreCode: e.code });
    throw e;
  }
  if (theirs) {
    // The key-heads commitment is recomputed too: a witness signs no head it did not compute itself.
    const own = (await o.store.keyHeadsTree(body.size)).commitment;
    if (own.count !== theirs.count || !equalBytes(own.root, theirs.root)) {
      throw new GatewayError(
        'E_CHECKPOINT_CONFLICT',
        `this gateway's key heads at size ${body.size} are ${own.count} with root ${toBase64(own.root)}, the checkpoint says ${theirs.count} with root ${toBase64(theirs.root)}`,
        { size: body.size, ourKeyHeads: toBase64(own.root), theirKeyHeads: toBase64(theirs.root) },
      );
    }
  }
  return { note: cosignCheckpoint(note, [{ name: o.origin, key: o.key }]), checkpoint: body };
}

/** A checkpoint note a committed block carries: recorded by an operator, or with cosignatures added. */
export interface CheckpointEvent {
  readonly kind: 'recorded' | 'cosigned';
  /** Attacker-controlled until checked: whatever the transaction's submitter put there. */
  readonly note: string;
  readonly block: number;
  readonly txId: string;
}

const CHECKPOINT_EVENTS: Readonly<Record<string, CheckpointEvent['kind']>> = {
  CheckpointRecorded: 'recorded',
  CheckpointCosigned: 'cosigned',
};

/** The contract's checkpoint events of a block (chaincode/contract.ts), from VALID transactions only. */
export function checkpointEventsOf(block: LogBlock): CheckpointEvent[] {
  const out: CheckpointEvent[] = [];
  for (const tx of block.transactions) {
    const kind = tx.valid && tx.event ? CHECKPOINT_EVENTS[tx.event.name] : undefined;
    if (!kind || !tx.event) continue;
    let payload: { note?: unknown };
    try {
      payload = JSON.parse(new TextDecoder().decode(tx.event.payload)) as typeof payload;
    } catch {
      continue;
    }
    // Events recorded before notes rode along carry none: nothing to witness.
    if (typeof payload.note === 'string')
      out.push({ kind, note: payload.note, block: block.number, txId: tx.txId });
  }
  return out;
}

export interface CheckpointWitnessOptions {
  readonly origin: string;
  readonly key: PrivateKey;
  readonly store: LogStore;
  /** Records a cosigned note on the ledger (contract `recordCosignatures`). */
  readonly record: (note: string) => Promise<void>;
  /** Refusals (E_CHECKPOINT_CONFLICT / E_CHECKPOINT_INVALID) and failures to record (not lost races). */
  readonly onError?: (e: Error) => void;
}

/** What `/v1/log/witness` and the tests see of a witness. */
export interface WitnessStatus {
  /** Other organisations' checkpoints this gateway checked and cosigned. */
  readonly cosigned: number;
  /** Checkpoints refused: a fork, an inconsistent or malformed one. Never signed. */
  readonly refused: number;
  /** Checkpoints older than the last one cosigned: skipped (a witness never signs backwards). */
  readonly stale: number;
  /**
   * Cosignatures whose recording lost a race with another organisation's cosignature of the same
   * checkpoint (a read conflict): cosigned again when that one's event arrives.
   */
  readonly raced: number;
  readonly lastRefusal?: { readonly code: string; readonly message: string; readonly block: number };
  /** The last checkpoint this gateway cosigned. */
  readonly witnessed?: { readonly size: number; readonly rootHash: string };
  /** The newest checkpoint carrying this gateway's signature and another organisation's, recorded on the ledger. */
  readonly latest?: { readonly size: number; readonly rootHash: string; readonly signatures: number };
}

/**
 * Continuous witnessing across organisations (docs/transparency.md §3, "Witnessing"). Every checkpoint
 * recorded on the ledger reaches every organisation's log builder in a block; this gateway's witness
 * checks each one another organisation signed — origin, consistency with the last checkpoint it
 * cosigned (a consistency proof from its own log), its own root and key heads at that size
 * (`witnessCheckpoint`) — and only then adds its signature line and records the cosigned note on the
 * ledger (contract `recordCosignatures`). A checkpoint whose tree is not the one this gateway built
 * from the same blocks is refused, reported, and never signed. The newest checkpoint that carries
 * this gateway's line and at least one other is what `GET /v1/export?checkpoint=cosigned` bundles.
 * Events are handled one at a time, in block order, off the builder's path.
 */
export class CheckpointWitness {
  private queue: Promise<void> = Promise.resolve();
  private readonly ownLabel: string;
  private cosignedCount = 0;
  private refusedCount = 0;
  private staleCount = 0;
  private racedCount = 0;
  private lastRefusal: WitnessStatus['lastRefusal'];

  private constructor(
    private readonly o: CheckpointWitnessOptions,
    private witnessed: Checkpoint | undefined,
    private latest: { note: string; checkpoint: Checkpoint; signatures: number } | undefined,
  ) {
    this.ownLabel = keyLabel(o.origin, mlDsaNoteKeyHash(o.origin, o.key, CHECKPOINT_CONTEXT));
  }

  static async open(o: CheckpointWitnessOptions): Promise<CheckpointWitness> {
    const witnessed = await o.store.witnessNote('witnessed');
    const latest = await o.store.witnessNote('cosigned');
    const bodyOf = (note: string) => parseCheckpointBody(parseNote(note).text);
    return new CheckpointWitness(
      o,
      witnessed ? bodyOf(witnessed) : undefined,
      latest
        ? { note: latest, checkpoint: bodyOf(latest), signatures: parseNote(latest).signatures.length }
        : undefined,
    );
  }

  /** Queues the block's checkpoint events (called by the builder once the block's entries are stored). */
  observe(block: LogBlock): void {
    for (const event of checkpointEventsOf(block)) {
      this.queue = this.queue.then(() => this.handle(event)).catch((e: Error) => this.o.onError?.(e));
    }
  }

  /** Resolves when every event observed so far has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** The newest checkpoint cosigned by this gateway and another organisation, if any. */
  get cosigned(): { note: string; checkpoint: Checkpoint } | undefined {
    return this.latest;
  }

  status(): WitnessStatus {
    const head = (c: Checkpoint) => ({ size: c.size, rootHash: toBase64(c.rootHash) });
    return {
      cosigned: this.cosignedCount,
      refused: this.refusedCount,
      stale: this.staleCount,
      raced: this.racedCount,
      ...(this.lastRefusal ? { lastRefusal: this.lastRefusal } : {}),
      ...(this.witnessed ? { witnessed: head(this.witnessed) } : {}),
      ...(this.latest
        ? { latest: { ...head(this.latest.checkpoint), signatures: this.latest.signatures } }
        : {}),
    };
  }

  private labels(note: string): Set<string> {
    return new Set(parseNote(note).signatures.map((s) => keyLabel(s.name, s.keyHash)));
  }

  private async handle(event: CheckpointEvent): Promise<void> {
    let labels: Set<string>;
    try {
      labels = this.labels(event.note);
    } catch (e) {
      return this.refuse(event, invalid(e));
    }
    if (!labels.has(this.ownLabel)) return this.cosign(event);
    if (event.kind === 'cosigned' && labels.size >= 2) await this.adopt(event.note, labels.size);
  }

  /** Checks another organisation's checkpoint against this gateway's log, then cosigns and records it. */
  private async cosign(event: CheckpointEvent): Promise<void> {
    let body: Checkpoint;
    try {
      body = parseCheckpointBody(parseNote(event.note).text);
    } catch (e) {
      return this.refuse(event, invalid(e));
    }
    // Another log's checkpoint recorded on the same channel: not this witness's to judge.
    if (body.origin !== this.o.origin) return;
    const last = this.witnessed;
    if (last && body.size <= last.size) {
      // Another note of the checkpoint this gateway already cosigned: its line is recorded.
      if (body.size === last.size && equalBytes(body.rootHash, last.rootHash)) return;
      if (body.size < last.size) {
        this.staleCount++;
        return;
      }
    }
    let cosigned: string;
    try {
      await this.checkConsistency(body);
      ({ note: cosigned } = await witnessCheckpoint(event.note, {
        origin: this.o.origin,
        key: this.o.key,
        store: this.o.store,
        reach: async (size) => {
          // The block that recorded it is in the log: a checkpoint larger than the log claims
          // entries no committed block holds.
          throw new GatewayError(
            'E_CHECKPOINT_CONFLICT',
            `the checkpoint claims ${size} entries; the ledger up to block ${event.block} holds ${this.o.store.size}`,
            { size, logSize: this.o.store.size },
          );
        },
      }));
    } catch (e) {
      if (e instanceof GatewayError) return this.refuse(event, e);
      throw e;
    }
    // Recorded first: when recording fails, the next event about this checkpoint cosigns it again.
    // A read conflict is another organisation's cosignature of the same checkpoint recorded first:
    // that is the next event (it lacks this gateway's line), so the race is counted, not reported.
    try {
      await this.o.record(cosigned);
    } catch (e) {
      if (!isReadConflict(e)) throw e;
      this.racedCount++;
      return;
    }
    await this.o.store.saveWitnessNote('witnessed', cosigned);
    this.witnessed = body;
    this.cosignedCount++;
  }

  /** RFC 9162 §2.1.4: the new checkpoint must extend the last one this gateway cosigned. */
  private async checkConsistency(next: Checkpoint): Promise<void> {
    const previous = this.witnessed;
    if (!previous || next.size > this.o.store.size) return;
    try {
      verifyCheckpointConsistency(
        previous,
        next,
        await this.o.store.consistencyProof(previous.size, next.size),
      );
    } catch (e) {
      if (!isCoreError(e)) throw e;
      throw new GatewayError(
        'E_CHECKPOINT_CONFLICT',
        `the checkpoint of size ${next.size} is not consistent with the last one this gateway cosigned (size ${previous.size}): ${e.message}`,
        { size: next.size, previousSize: previous.size, coreCode: e.code },
      );
    }
  }

  /** Keeps the newest recorded note that carries this gateway's (verified) line and another's. */
  private async adopt(note: string, signatures: number): Promise<void> {
    let checkpoint: Checkpoint;
    try {
      // Our own line must verify: a line forged under our key name and hash is never exported.
      checkpoint = verifyCheckpoint(note, {
        origin: this.o.origin,
        trusted: [{ name: this.o.origin, key: this.o.key }],
        threshold: 1,
      }).checkpoint;
    } catch (e) {
      if (isCoreError(e)) return this.o.onError?.(invalid(e));
      throw e;
    }
    const latest = this.latest;
    if (
      latest &&
      (checkpoint.size < latest.checkpoint.size ||
        (checkpoint.size === latest.checkpoint.size && signatures <= latest.signatures))
    )
      return;
    await this.o.store.saveWitnessNote('cosigned', note);
    this.latest = { note, checkpoint, signatures };
  }

  private refuse(event: CheckpointEvent, e: GatewayError): void {
    this.refusedCount++;
    this.lastRefusal = { code: e.code, message: e.message, block: event.block };
    this.o.onError?.(e);
  }
}

function invalid(e: unknown): GatewayError {
  if (isCoreError(e)) return new GatewayError('E_CHECKPOINT_INVALID', e.message, { coreCode: e.code });
  if (e instanceof GatewayError) return e;
  return new GatewayError('E_CHECKPOINT_INVALID', String(e));
}
