/**
 * Export bundles (docs/bundle-format.md, torgo.bundle/2): a stream of JSON lines — header, a
 * fresh signed checkpoint, the key entries the receipts depend on, the receipts with their ledger
 * entries and inclusion proofs, and the export statement the operator key signs over all of it.
 * Constant memory in the number of receipts (two passes over the selection: key ids first, then
 * receipts), so a million-receipt export streams.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  BUNDLE_FORMAT,
  type HeaderLine,
  type KeyLine,
  type ReceiptEntry,
  type ReceiptLine,
  type StatementLine,
  toBase64,
  toHex,
} from '../../core/index.js';
import type { Checkpointer } from './checkpointer.js';
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
  readonly onProgress?: (receipts: number) => void;
}

export interface ExportSummary {
  keys: number;
  receipts: number;
  /** Selected receipts not yet in the log when the checkpoint was taken (committed during the export). */
  skipped: number;
}

/** Yields the bundle's lines, each ending with LF. `summary` is filled in as it goes. */
export async function* exportBundle(
  options: ExportOptions,
  summary: ExportSummary = { keys: 0, receipts: 0, skipped: 0 },
): AsyncGenerator<string> {
  const { store } = options;
  const issued = await options.checkpointer.issue();
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

  // Pass 1: which keys the selected receipts were signed with.
  const keyIds = new Set<string>();
  for await (const r of options.receipts()) {
    const leaf = await store.receiptLeaf(r.id);
    if (leaf && leaf.index < size) for (const k of (leaf.entry as ReceiptEntry).signers) keyIds.add(k);
  }
  for (const keyId of [...keyIds].sort()) {
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

  // Pass 2: the receipts.
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
