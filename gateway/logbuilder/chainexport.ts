/**
 * The exporter's side of bundle completeness (docs/bundle-format.md §6): which chain covers an
 * export's filters, the contiguous chain segment a bundle carries for a time window, and the
 * statement of the chain heads at the checkpoint. The verifier's side is core/bundle/completeness.ts.
 */
import {
  type ChainBy,
  type Checkpoint,
  chainOfFilters,
  type CompletenessLine,
  isChainedReceipt,
  type KeyHeadProof,
  keyHeadsOf,
  type ReceiptEntry,
  timeNanos,
} from '../../core/index.js';
import type { ExportedReceipt } from './export.js';
import type { LeafRecord, LogStore } from './store.js';

export interface ChainWindow {
  readonly by: ChainBy;
  readonly value: string;
  readonly from: bigint | undefined;
  readonly to: bigint | undefined;
  /** With a source chain, the subject filter also given (entries of other subjects become links). */
  readonly subject: string | undefined;
}

/** The chain window of an export's filters, or the reason none covers them. */
export function chainWindowOf(
  filters: Readonly<Record<string, string>>,
): ChainWindow | { uncovered: string } {
  const c = chainOfFilters(filters);
  if ('uncovered' in c) return c;
  const time = (v: string | undefined) => (v === undefined ? undefined : timeNanos(v));
  return {
    ...c.chain,
    from: time(filters['from']),
    to: time(filters['to']),
    subject: c.chain.by === 'source' ? filters['subject'] : undefined,
  };
}

/** Whether the filters select this chained entry (the same test as the verifier's). */
export function selects(w: ChainWindow, e: ReceiptEntry): boolean {
  const t = timeNanos(e.committedAt);
  return (
    (w.from === undefined || t >= w.from) &&
    (w.to === undefined || t < w.to) &&
    (w.subject === undefined || e.subject === w.subject)
  );
}

/**
 * The chain's entries a bundle carries for the window, in leaf order, within the tree of `size`:
 * the last entry before the window (unless the chain starts inside it), every entry in it, and the
 * first entry at or after `to` (unless the chain ends inside it). Finding the start walks the chain
 * back along its pointers — from `hint`, a chain entry in the window (the selection's first), in
 * one step; else from the head, reading one leaf per entry after `from`. Then it streams forward.
 */
export async function* chainSegment(
  store: LogStore,
  w: ChainWindow,
  size: number,
  hint?: number,
): AsyncGenerator<LeafRecord> {
  let start = 0;
  if (w.from !== undefined) {
    let at = hint !== undefined && hint < size ? hint : await store.chainHead(w.by, w.value, size);
    while (at !== undefined) {
      const leaf = await store.leaf(at);
      const entry = leaf?.entry as ReceiptEntry | undefined;
      if (!entry || !isChainedReceipt(entry))
        throw new Error(`log store: chain entry at leaf ${at} is missing`);
      if (timeNanos(entry.committedAt) < w.from) {
        start = at;
        break;
      }
      const prev = w.by === 'source' ? entry.prevSource : entry.prevSubject;
      at = prev ?? undefined;
    }
  }
  // Leaves are read a batch at a time (one LevelDB read each); a batch may read up to
  // SEGMENT_BATCH − 1 leaves past the segment's end, which are not yielded.
  for await (const batch of inBatches(store.chainIndexes(w.by, w.value, start, size), SEGMENT_BATCH)) {
    const leaves = await store.leaves(batch);
    for (const [i, leaf] of leaves.entries()) {
      if (!leaf) throw new Error(`log store: chain entry at leaf ${batch[i]} is missing`);
      yield leaf;
      if (w.to !== undefined && timeNanos(leaf.entry.committedAt) >= w.to) return;
    }
  }
}

/**
 * Leaves read, and proofs assembled, per LevelDB read while exporting. A batch's leaves, entries and proof
 * plans live until its last line is written, across slices (gateway/slicer.ts) and so across the young
 * generation's collections: at 256 a scavenge during an export found ~5 MiB alive and promoted as much again;
 * at 64, ~2.7 and ~2.3 (docs/performance.md §12, "What an export keeps alive").
 */
export const SEGMENT_BATCH = 64;

/** `.mu` bytes of the receipts one export batch holds (with SEGMENT_BATCH, whichever comes first). */
export const BATCH_MU_BYTES = 512 * 1024;

/**
 * Groups a stream into arrays of up to `size` items, and, given `weigh`, of up to `maxWeight` in
 * all (a batch always takes at least one item; the last one may be shorter).
 */
export async function* inBatches<T>(
  items: AsyncIterable<T>,
  size: number,
  weigh?: (item: T) => number,
  maxWeight = Number.POSITIVE_INFINITY,
): AsyncGenerator<T[]> {
  let batch: T[] = [];
  let weight = 0;
  for await (const item of items) {
    batch.push(item);
    if (weigh) weight += weigh(item);
    if (batch.length === size || weight >= maxWeight) {
      yield batch;
      batch = [];
      weight = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

/** The receipts' ids alone: what a pass that needs no text batches, letting each `.mu` go at once. */
export async function* idsOf(receipts: AsyncIterable<ExportedReceipt>): AsyncGenerator<string> {
  for await (const r of receipts) yield r.id;
}

/** Batches of receipts with their texts, bounded by count and by `.mu` bytes. */
export function receiptBatches(receipts: AsyncIterable<ExportedReceipt>): AsyncGenerator<ExportedReceipt[]> {
  return inBatches(
    receipts,
    SEGMENT_BATCH,
    (r) => r.muBytes ?? Buffer.byteLength(r.mu, 'utf8'),
    BATCH_MU_BYTES,
  );
}

/** A text as a JSON string literal in UTF-8. */
const jsonLiteral = (text: string): Uint8Array => Buffer.from(JSON.stringify(text), 'utf8');

/** A receipt's `.mu` as the JSON string literal its bundle line carries, in UTF-8. */
export function muJsonOf(r: ExportedReceipt): Uint8Array {
  return r.muJson ?? jsonLiteral(r.mu);
}

/** Most receipts read ahead of the chain (ledger order vs leaf order) before the export gives up. */
const MAX_IDS_AHEAD = 100_000;
/**
 * Bytes of texts read ahead that are held (as the JSON literals their lines carry); beyond, only their
 * ids are kept (texts re-read by id).
 */
export const AHEAD_MU_BYTES = 4 * 1024 * 1024;

/**
 * The `.mu` texts of the chain's selected receipts, taken from the ledger's own selection, which is
 * in ledger-time order (committedAt, then id): that differs from leaf order (block order) among
 * receipts of one transaction, and between transactions whose timestamps (the proposal's clock: on
 * Fabric, the client's) disagree with the order they were committed in. How far is bounded only by
 * those clocks, so texts read ahead are held up to `budget` bytes (as JSON literals); past it only the receipt's
 * id is kept and the text is read again by id (`readText`) when its entry comes. Memory is so bounded
 * by the budget plus ~100 bytes per receipt of disorder, and by MAX_IDS_AHEAD receipts, beyond which
 * ledger and log disagree (the export fails).
 */
export class ReceiptTexts {
  /** Receipts read ahead: their `.mu` as JSON bytes (a copy), or undefined when not held (re-read by id). */
  private readonly ahead = new Map<string, Uint8Array | undefined>();
  private aheadBytes = 0;
  private readonly source: AsyncIterator<ExportedReceipt>;
  /** Texts read again by id (their receipt came too far ahead of the chain). */
  reread = 0;
  constructor(
    receipts: AsyncIterable<ExportedReceipt>,
    private readonly readText?: (id: string) => Promise<string>,
    private readonly budget = AHEAD_MU_BYTES,
  ) {
    this.source = receipts[Symbol.asyncIterator]();
  }

  /** Bytes of the texts held ahead now (as JSON literals). */
  get heldBytes(): number {
    return this.aheadBytes;
  }

  /** The receipt's `.mu` as its line carries it: a JSON string literal in UTF-8 (`muJsonOf`). */
  async text(id: string): Promise<Uint8Array> {
    for (;;) {
      if (this.ahead.has(id)) {
        const held = this.ahead.get(id);
        this.ahead.delete(id);
        if (held !== undefined) {
          this.aheadBytes -= held.length;
          return held;
        }
        this.reread++;
        return jsonLiteral(await this.readText!(id));
      }
      const next = await this.source.next();
      if (next.done)
        throw new Error(
          `receipt ${id} is on the chain but not in the ledger's selection: ledger and log disagree`,
        );
      if (next.value.id === id) return muJsonOf(next.value);
      if (this.ahead.size >= MAX_IDS_AHEAD)
        throw new Error(
          `more than ${MAX_IDS_AHEAD} receipts of the ledger's selection are not on the chain before ${id}: ledger and log disagree`,
        );
      this.holdAhead(next.value);
    }
  }

  private holdAhead(r: ExportedReceipt): void {
    // Held as a copy of its JSON bytes: a row's bytes are a view of its whole ledger page, which
    // holding the view would keep. A text given only as a string is encoded once, and only if it may
    // be held.
    const size = r.muJson?.length ?? r.muBytes;
    if (size === undefined || this.aheadBytes + size <= this.budget) {
      const json = r.muJson ? Buffer.from(r.muJson) : muJsonOf(r);
      if (this.aheadBytes + json.length <= this.budget) {
        this.ahead.set(r.id, json);
        this.aheadBytes += json.length;
        return;
      }
    }
    if (!this.readText)
      throw new Error(
        `more than ${this.budget} bytes of receipts of the ledger's selection are not on the chain before ${r.id}, and none can be read again by id`,
      );
    this.ahead.set(r.id, undefined);
  }

  /**
   * After the chain: the selection's receipts no chain entry claimed must all be outside the tree
   * of `size` (committed after the checkpoint); one inside it is a receipt the chain does not carry
   * (logged before chains, or ledger and log disagree), and the export fails rather than sign a
   * bundle without it. Returns how many were outside.
   */
  async finish(store: LogStore, size: number): Promise<number> {
    let outside = 0;
    const check = async (ids: string[]) => {
      for (const [i, leaf] of (await store.receiptLeaves(ids)).entries()) {
        if (leaf && leaf.index < size)
          throw new Error(
            `receipt ${ids[i]} is selected and in the log (leaf ${leaf.index}) but not on the chain: ledger and log disagree`,
          );
        outside++;
      }
    };
    await check([...this.ahead.keys()]);
    this.ahead.clear();
    this.aheadBytes = 0;
    const rest = { [Symbol.asyncIterator]: () => this.source };
    for await (const ids of inBatches(idsOf(rest), SEGMENT_BATCH)) await check(ids);
    return outside;
  }

  async close(): Promise<void> {
    await this.source.return?.();
  }
}

/**
 * The completeness line: the chain's and every bundled key's head in the checkpoint's tree, with
 * each key head's proof when the checkpoint commits to the key heads (key-heads extension line).
 */
export async function completenessLine(
  store: LogStore,
  chain: ChainWindow | undefined,
  keyIds: readonly string[],
  checkpoint: Checkpoint,
): Promise<CompletenessLine> {
  const size = checkpoint.size;
  const tree = keyHeadsOf(checkpoint) ? await store.keyHeadsTree(size) : undefined;
  const keyHeads: Record<string, number> = {};
  const keyHeadProofs: Record<string, KeyHeadProof> = {};
  for (const keyId of keyIds) {
    const head = await store.chainHead('key', keyId, size);
    if (head === undefined) continue;
    keyHeads[keyId] = head;
    const proof = tree?.proof(keyId);
    if (proof) keyHeadProofs[keyId] = proof;
  }
  return {
    type: 'completeness',
    chain: chain ? { by: chain.by, value: chain.value } : null,
    head: chain ? ((await store.chainHead(chain.by, chain.value, size)) ?? null) : null,
    keyHeads,
    ...(tree ? { keyHeadProofs } : {}),
  };
}
