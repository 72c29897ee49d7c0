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
  for await (const index of store.chainIndexes(w.by, w.value, start, size)) {
    const leaf = await store.leaf(index);
    if (!leaf) throw new Error(`log store: chain entry at leaf ${index} is missing`);
    yield leaf;
    if (w.to !== undefined && timeNanos(leaf.entry.committedAt) >= w.to) return;
  }
}

/**
 * The `.mu` texts of the chain's selected receipts, taken from the ledger's own selection (in
 * ledger-time order, which can differ from leaf order among receipts of one timestamp): texts read
 * ahead are held until their entry comes, so memory is bounded by that disorder, not the selection.
 */
export class ReceiptTexts {
  private readonly ahead = new Map<string, string>();
  private readonly source: AsyncIterator<ExportedReceipt>;
  constructor(receipts: AsyncIterable<ExportedReceipt>) {
    this.source = receipts[Symbol.asyncIterator]();
  }
  async text(id: string): Promise<string> {
    for (;;) {
      const held = this.ahead.get(id);
      if (held !== undefined) {
        this.ahead.delete(id);
        return held;
      }
      const next = await this.source.next();
      if (next.done)
        throw new Error(
          `receipt ${id} is on the chain but not in the ledger's selection: ledger and log disagree`,
        );
      this.ahead.set(next.value.id, next.value.mu);
    }
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
