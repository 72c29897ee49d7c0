/**
 * Export bundles (docs/bundle-format.md, torgo.bundle/2): a stream of JSON lines — header, a
 * fresh signed checkpoint, the key entries the receipts depend on, the completeness line, the
 * receipts with their ledger entries and inclusion proofs (with the chain's link lines between
 * them, §6), and the export statement the operator key signs over all of it, links included.
 * Constant memory in the number of receipts (two passes over the selection: key ids first, then
 * receipts), so a million-receipt export streams.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  BUNDLE_FORMAT,
  type HeaderLine,
  isChainedReceipt,
  type KeyLine,
  type LinkLine,
  type ReceiptEntry,
  type ReceiptLine,
  type StatementLine,
  toBase64,
  toHex,
} from '../../core/index.js';
import {
  type ChainWindow,
  chainSegment,
  chainWindowOf,
  completenessLine,
  ReceiptTexts,
  selects,
} from './chainexport.js';
import type { Checkpointer, IssuedCheckpoint } from './checkpointer.js';
import type { LogStore } from './store.js';

export interface ExportedReceipt {
  readonly id: string;
  /** The `.mu` text as committed. */
  readonly mu: string;
}

export interface ExportOptions {
  readonly store: LogStore;
  readonly checkpointer: Checkpointer;
  /** The selection, as a fresh iterable each call (it is walked twice). */
  readonly receipts: () => AsyncIterable<ExportedReceipt>;
  readonly filters: Readonly<Record<string, string>>;
  readonly origin: string;
  /**
   * The checkpoint to bundle, signed by this gateway's key among others (a cosigned one); default a
   * fresh one. Receipts logged after it are left out (counted as skipped).
   */
  readonly checkpoint?: IssuedCheckpoint;
  readonly onProgress?: (receipts: number) => void;
}

export interface ExportSummary {
  keys: number;
  receipts: number;
  /** Selected receipts not yet in the log when the checkpoint was taken (committed during the export). */
  skipped: number;
  /** Chain entries bundled as links (docs/bundle-format.md §6); not counted in the statement's counts. */
  links?: number;
}

/** The chain the bundle can show complete, if the selection is exactly that chain's in the window. */
async function coveringChain(
  store: LogStore,
  filters: Readonly<Record<string, string>>,
  size: number,
  inLog: number,
  allChained: boolean,
  firstLeaf: number | undefined,
): Promise<(ChainWindow & { firstLeaf: number | undefined }) | undefined> {
  if (!allChained) return undefined; // receipts logged before chains: the chain cannot show them
  let w: ChainWindow | { uncovered: string };
  try {
    w = chainWindowOf(filters);
  } catch {
    return undefined;
  }
  if ('uncovered' in w) return undefined;
  let selected = 0;
  for await (const leaf of chainSegment(store, w, size, firstLeaf))
    if (selects(w, leaf.entry as ReceiptEntry)) selected++;
  return selected === inLog ? { ...w, firstLeaf } : undefined;
}

/** Yields the bundle's lines, each ending with LF. `summary` is filled in as it goes. */
export async function* exportBundle(
  options: ExportOptions,
  summary: ExportSummary = { keys: 0, receipts: 0, skipped: 0 },
): AsyncGenerator<string> {
  const { store } = options;
  const issued = options.checkpoint ?? (await options.checkpointer.issue());
  const size = issued.checkpoint.size;
  const digest = sha256.create();
  const enc = new TextEncoder();
  const line = (o: object): string => {
    const text = `${JSON.stringify(o)}\n`;
    digest.update(enc.encode(text));
    return text;
  };
  const header: HeaderLine = {
    type: 'header',
    format: BUNDLE_FORMAT,
    createdAt: new Date().toISOString(),
    origin: options.origin,
    filters: options.filters,
    generator: 'torgo-ledger/0.1.0',
  };
  yield line(header);
  yield line({ type: 'checkpoint', note: issued.note });

  // Pass 1: which keys the selected receipts were signed with, and whether they are all chained.
  const keyIds = new Set<string>();
  let inLog = 0;
  let notInLog = 0;
  let allChained = true;
  let firstLeaf: number | undefined;
  for await (const r of options.receipts()) {
    const leaf = await store.receiptLeaf(r.id);
    if (!leaf || leaf.index >= size) notInLog++;
    else {
      const entry = leaf.entry as ReceiptEntry;
      for (const k of entry.signers) keyIds.add(k);
      inLog++;
      if (!isChainedReceipt(entry)) allChained = false;
      if (firstLeaf === undefined || leaf.index < firstLeaf) firstLeaf = leaf.index;
    }
  }
  const chain = await coveringChain(store, options.filters, size, inLog, allChained, firstLeaf);
  const sortedKeyIds = [...keyIds].sort();
  for (const keyId of sortedKeyIds) {
    for (const leaf of await store.keyLeaves(keyId)) {
      if (leaf.index >= size) continue;
      const proof = (await store.inclusionProof(leaf.index, size)).map(toBase64);
      const keyLine: KeyLine = {
        type: 'key',
        leafIndex: leaf.index,
        proof,
        entry: leaf.entry as KeyLine['entry'],
      };
      summary.keys++;
      yield line(keyLine);
    }
  }

  yield line(await completenessLine(store, chain, sortedKeyIds, issued.checkpoint));

  // Pass 2: the receipts — along the chain (with its links) when one covers the filters.
  if (chain) {
    const texts = new ReceiptTexts(options.receipts());
    try {
      for await (const leaf of chainSegment(store, chain, size, chain.firstLeaf)) {
        const entry = leaf.entry as ReceiptEntry;
        const proof = (await store.inclusionProof(leaf.index, size)).map(toBase64);
        if (!selects(chain, entry)) {
          const link: LinkLine = { type: 'link', leafIndex: leaf.index, proof, entry };
          summary.links = (summary.links ?? 0) + 1;
          yield line(link);
          continue;
        }
        const receiptLine: ReceiptLine = {
          type: 'receipt',
          leafIndex: leaf.index,
          proof,
          entry,
          mu: await texts.text(entry.id),
        };
        summary.receipts++;
        if (summary.receipts % 1000 === 0) options.onProgress?.(summary.receipts);
        yield line(receiptLine);
      }
    } finally {
      await texts.close();
    }
    summary.skipped = notInLog;
  } else {
    for await (const r of options.receipts()) {
      const leaf = await store.receiptLeaf(r.id);
      if (!leaf || leaf.index >= size) {
        summary.skipped++;
        continue;
      }
      const proof = (await store.inclusionProof(leaf.index, size)).map(toBase64);
      const receiptLine: ReceiptLine = {
        type: 'receipt',
        leafIndex: leaf.index,
        proof,
        entry: leaf.entry as ReceiptEntry,
        mu: r.mu,
      };
      summary.receipts++;
      if (summary.receipts % 1000 === 0) options.onProgress?.(summary.receipts);
      yield line(receiptLine);
    }
  }
  const statement: StatementLine = {
    type: 'statement',
    note: options.checkpointer.signStatement({
      origin: options.origin,
      checkpoint: { size, rootHash: issued.checkpoint.rootHash },
      filters: header.filters,
      createdAt: header.createdAt,
      counts: { keys: summary.keys, receipts: summary.receipts },
      digest: `sha256:${toHex(digest.digest())}`,
    }),
  };
  yield `${JSON.stringify(statement)}\n`;
}
