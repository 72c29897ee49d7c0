/**
 * Export bundles (docs/bundle-format.md, torgo.bundle/2): a stream of JSON lines — header, a
 * fresh signed checkpoint, the key entries the receipts depend on, the completeness line, the
 * receipts with their ledger entries and inclusion proofs (with the chain's link lines between
 * them, §6), and the export statement the operator key signs over all of it, links included.
 *
 * Constant memory in the number of receipts: every read is a range scan or a batch of point reads
 * (SEGMENT_BATCH leaves and their inclusion proofs per LevelDB read), the statement's digest is
 * computed as lines go out, and `inChunks` hands them on in chunks as the consumer asks (a stream's
 * backpressure reaches the reads). When the selection is a whole chain (docs/bundle-format.md
 * §6.3), the key ids come from the log's chain segment and the ledger is read once, for the `.mu`
 * texts; otherwise it is read twice (key ids first, then receipts).
 */
import { createHash, type Hash } from 'node:crypto';
import {
  BUNDLE_FORMAT,
  type ExportStatement,
  type HeaderLine,
  isChainedReceipt,
  type KeyLine,
  type LinkLine,
  type ReceiptEntry,
  type ReceiptLine,
  type StatementLine,
} from '../../core/index.js';
import {
  type ChainWindow,
  chainSegment,
  chainWindowOf,
  completenessLine,
  idsOf,
  inBatches,
  muJsonOf,
  ReceiptTexts,
  receiptBatches,
  SEGMENT_BATCH,
  selects,
} from './chainexport.js';
import type { IssuedCheckpoint } from './checkpointer.js';
import { Slicer } from '../slicer.js';
import type { LeafRecord, LogStore } from './store.js';

export interface ExportedReceipt {
  readonly id: string;
  /**
   * The `.mu` text as committed. It may be decoded on each read (a getter over the ledger's bytes,
   * so that receipts held in a batch are not held as strings): read it once, when it is needed.
   */
  readonly mu: string;
  /** About the `.mu`'s UTF-8 size (never less), when known without decoding it: what batches weigh. */
  readonly muBytes?: number;
  /**
   * The `.mu` as a JSON string literal in UTF-8, quotes and escapes as JSON.stringify writes them,
   * when the ledger holds it so (its receipt records do: core/json-utf8.ts). The receipt's line takes
   * these bytes as they are: the text is never decoded, escaped again or encoded again.
   */
  readonly muJson?: Uint8Array;
}

/**
 * Who vouches for an export (the log's Checkpointer): a fresh checkpoint when none is given, and the
 * statement's signature. An export on a thread of its own asks the gateway's thread for the
 * signature (export-thread.ts): the operator key stays there.
 */
export interface ExportSigner {
  issue(): Promise<IssuedCheckpoint>;
  signStatement(statement: ExportStatement): string | Promise<string>;
}

export interface ExportOptions {
  readonly store: LogStore;
  readonly checkpointer: ExportSigner;
  /** The selection, as a fresh iterable each call (it is walked twice). */
  readonly receipts: () => AsyncIterable<ExportedReceipt>;
  /**
   * One receipt's `.mu` by id: a chain export reads again the texts that came too far ahead of the
   * chain to hold (chainexport.ts `ReceiptTexts`). Without it, such an export fails instead.
   */
  readonly readText?: (id: string) => Promise<string>;
  readonly filters: Readonly<Record<string, string>>;
  readonly origin: string;
  /**
   * The checkpoint to bundle, signed by this gateway's key among others (a cosigned one); default a
   * fresh one. Receipts logged after it are left out (counted as skipped).
   */
  readonly checkpoint?: IssuedCheckpoint;
  readonly onProgress?: (receipts: number) => void;
  /** Most main-thread time at a stretch before the export yields to the event loop (default SLICE_MS, gateway/slicer.ts). */
  readonly sliceMs?: number;
}

export interface ExportSummary {
  keys: number;
  receipts: number;
  /** Selected receipts not yet in the log when the checkpoint was taken (committed during the export). */
  skipped: number;
  /** Chain entries bundled as links (docs/bundle-format.md §6); not counted in the statement's counts. */
  links?: number;
}

/** What follows a receipt line's other members: its `.mu`, the last member. */
const MU_MEMBER = Buffer.from(',"mu":');
const LINE_END = Buffer.from('}\n');

/** A receipt line before it is written: its members but the `.mu`, and the `.mu` as JSON (`muJsonOf`). */
interface PendingReceipt {
  readonly receipt: Omit<ReceiptLine, 'mu'>;
  readonly muJson: Uint8Array;
}

/**
 * Bytes of one slab that bundle lines are written into (`LineSlab`), and of the chunks `inChunks`
 * hands on: a chunk is then one slab's lines, handed on as a view without a copy.
 */
const CHUNK_BYTES = 64 * 1024;

/**
 * Room for lines, cut from slabs of CHUNK_BYTES in order. A receipt line is ~6 KB: written into a
 * buffer of its own, each line was an ArrayBuffer outside V8's heap, and a chunk joining ten of them
 * another; under an export of 120 MiB, V8 counted that external memory and ran full mark-compacts for
 * it (docs/performance.md §12, "An export's garbage"). From slabs, ~10 lines share one allocation, and
 * `inChunks` hands a slab's lines on as one view of it. A slab is never written again once cut, so
 * every line handed out stays valid for as long as anyone holds it.
 */
export class LineSlab {
  private slab = Buffer.allocUnsafe(0);
  private at = 0;

  constructor(private readonly slabBytes = CHUNK_BYTES) {}

  /** `bytes` bytes of room, to be filled by the caller: the rest of this slab, or a fresh one. */
  take(bytes: number): Buffer {
    if (this.at + bytes > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(this.slabBytes, bytes)); // its own memory, never Node's pool
      this.at = 0;
    }
    const room = this.slab.subarray(this.at, this.at + bytes);
    this.at += bytes;
    return room;
  }
}

/** The digest the statement signs: SHA-256 over every line before it, as written (§3). */
class BundleDigest {
  private readonly hash: Hash = createHash('sha256');
  private readonly slab = new LineSlab();

  /** The object as a bundle line (JSON and LF) in UTF-8, counted in the digest. */
  line(o: object): Buffer {
    const text = `${JSON.stringify(o)}\n`;
    const bytes = this.slab.take(Buffer.byteLength(text, 'utf8'));
    bytes.write(text, 0, 'utf8');
    this.hash.update(bytes);
    return bytes;
  }

  /**
   * A receipt line, counted in the digest: the same bytes as `line` of the line with `mu` last (its
   * place in ReceiptLine), the `.mu` copied in as the JSON literal it is. test/gateway/logbuilder/
   * batches.test.ts holds it to `line`.
   */
  receiptLine({ receipt, muJson }: PendingReceipt): Buffer {
    const head = JSON.stringify(receipt); // `{…}`: the `}` gives way to the `.mu` member
    const headBytes = Buffer.byteLength(head, 'utf8') - 1;
    const bytes = this.slab.take(headBytes + MU_MEMBER.length + muJson.length + LINE_END.length);
    bytes.write(head, 0, headBytes, 'utf8');
    let at = headBytes;
    at += MU_MEMBER.copy(bytes, at);
    bytes.set(muJson, at);
    LINE_END.copy(bytes, at + muJson.length);
    this.hash.update(bytes);
    return bytes;
  }

  get value(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** Whether `line` begins where `run` ends, in the same memory. */
function continues(run: Uint8Array, line: Uint8Array): boolean {
  return run.buffer === line.buffer && run.byteOffset + run.length === line.byteOffset;
}

/** The parts as one Buffer: a view when they are one run of memory, a copy otherwise. */
function joined(parts: readonly Uint8Array[], bytes: number): Buffer {
  const [only] = parts;
  return parts.length === 1 && only
    ? Buffer.from(only.buffer, only.byteOffset, only.length)
    : Buffer.concat(parts, bytes);
}

/**
 * Joins lines (UTF-8) into chunks of about CHUNK_BYTES, pulled one at a time (a consumer's
 * backpressure reaches `lines`, and through it every read). Lines that lie one after another in
 * memory (`LineSlab`'s) are handed on as one view, not copied: a chunk that is one such run ends where
 * the run does once it holds half a chunk, so a chunk is one slab's lines. Other lines are copied
 * into chunks of CHUNK_BYTES.
 */
export async function* inChunks(lines: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let parts: Uint8Array[] = [];
  let bytes = 0;
  for await (const line of lines) {
    const last = parts.at(-1);
    if (last && continues(last, line)) {
      parts[parts.length - 1] = new Uint8Array(last.buffer, last.byteOffset, last.length + line.length);
    } else {
      // A run of half a chunk goes out as it is (a view) rather than be copied into a longer chunk.
      if (parts.length === 1 && bytes >= CHUNK_BYTES / 2) {
        yield joined(parts, bytes);
        parts = [];
        bytes = 0;
      }
      parts.push(line);
    }
    bytes += line.length;
    if (bytes >= CHUNK_BYTES) {
      yield joined(parts, bytes);
      parts = [];
      bytes = 0;
    }
  }
  if (parts.length > 0) yield joined(parts, bytes);
}

/** What pass 2 walks: the chain segment covering the filters, or the ledger's selection. */
interface ExportPlan {
  readonly chain: (ChainWindow & { firstLeaf: number | undefined }) | undefined;
  readonly keyIds: readonly string[];
  /** Selected receipts not in the tree (selection passes only: a chain-only plan counts them at the end). */
  readonly notInLog: number;
}

/** The chain window of the filters, if any chain covers them. */
function chainWindow(filters: Readonly<Record<string, string>>): ChainWindow | undefined {
  try {
    const w = chainWindowOf(filters);
    return 'uncovered' in w ? undefined : w;
  } catch {
    return undefined;
  }
}

/** The chain segment's selected entries, from the log alone: how many, and their signer keys. */
async function scanChain(
  store: LogStore,
  w: ChainWindow,
  size: number,
  hint: number | undefined,
  slicer: Slicer,
): Promise<{ selected: number; keyIds: Set<string> }> {
  const keyIds = new Set<string>();
  let selected = 0;
  for await (const l of chainSegment(store, w, size, hint)) {
    await slicer.pace();
    const entry = l.entry as ReceiptEntry;
    if (!selects(w, entry)) continue;
    selected++;
    for (const k of entry.signers) keyIds.add(k);
  }
  return { selected, keyIds };
}

/**
 * A plan for a whole chain (no time window) from the log alone, reading no receipt text: the
 * chain's selected entries give the key ids. The ledger's first selected receipt tells whether the
 * chain can carry the selection (not when receipts were logged before chains: format 1);
 * `ReceiptTexts.finish` checks the rest as pass 2 goes.
 */
async function wholeChainPlan(
  options: ExportOptions,
  w: ChainWindow,
  size: number,
  slicer: Slicer,
): Promise<ExportPlan | undefined> {
  const selection = options.receipts()[Symbol.asyncIterator]();
  let first: ExportedReceipt | undefined;
  try {
    const next = await selection.next();
    first = next.done ? undefined : next.value;
  } finally {
    await selection.return?.();
  }
  const leaf = first ? await options.store.receiptLeaf(first.id) : undefined;
  const inTree = leaf !== undefined && leaf.index < size;
  if (inTree && !isChainedReceipt(leaf.entry as ReceiptEntry)) return undefined;
  const hint = inTree ? leaf.index : undefined;
  const { keyIds } = await scanChain(options.store, w, size, hint, slicer);
  return { chain: { ...w, firstLeaf: hint }, keyIds: [...keyIds].sort(), notInLog: 0 };
}

/** A first pass over the ledger's selection: its receipts' key ids, and what the chain check needs. */
async function selectionPass(
  options: ExportOptions,
  size: number,
  slicer: Slicer,
): Promise<ExportPlan & { inLog: number; allChained: boolean; firstLeaf: number | undefined }> {
  const keyIds = new Set<string>();
  let notInLog = 0;
  let inLog = 0;
  let allChained = true;
  let firstLeaf: number | undefined;
  for await (const ids of inBatches(idsOf(options.receipts()), SEGMENT_BATCH)) {
    for (const leaf of await options.store.receiptLeaves(ids)) {
      await slicer.pace();
      if (!leaf || leaf.index >= size) {
        notInLog++;
        continue;
      }
      const entry = leaf.entry as ReceiptEntry;
      for (const k of entry.signers) keyIds.add(k);
      inLog++;
      if (!isChainedReceipt(entry)) allChained = false;
      if (firstLeaf === undefined || leaf.index < firstLeaf) firstLeaf = leaf.index;
    }
  }
  return { chain: undefined, keyIds: [...keyIds].sort(), notInLog, inLog, allChained, firstLeaf };
}

/**
 * What the export walks. A whole chain is planned from the log alone (one ledger pass in all). A
 * chain window is planned from a ledger pass and checked against the chain segment: at the window's
 * edges a chain's `committedAt` can step back (docs/bundle-format.md §6.4), so a selected receipt
 * may lie outside the segment; then, as when no chain covers the filters, the bundle carries the
 * ledger's selection without a completeness claim.
 */
async function planExport(options: ExportOptions, size: number, slicer: Slicer): Promise<ExportPlan> {
  const w = chainWindow(options.filters);
  if (w && w.from === undefined && w.to === undefined) {
    const plan = await wholeChainPlan(options, w, size, slicer);
    if (plan) return plan;
  }
  const pass = await selectionPass(options, size, slicer);
  if (!w || !pass.allChained) return pass;
  const { selected } = await scanChain(options.store, w, size, pass.firstLeaf, slicer);
  return selected === pass.inLog ? { ...pass, chain: { ...w, firstLeaf: pass.firstLeaf } } : pass;
}

/** Every entry of each key up to the checkpoint, with its inclusion proof. */
async function* keyLines(store: LogStore, keyIds: readonly string[], size: number): AsyncGenerator<KeyLine> {
  for (const keyId of keyIds) {
    const leaves = (await store.keyLeaves(keyId)).filter((l) => l.index < size);
    const proofs = await store.inclusionProofs(
      leaves.map((l) => l.index),
      size,
    );
    for (const [i, leaf] of leaves.entries()) {
      yield {
        type: 'key',
        leafIndex: leaf.index,
        proof: proofs.proofBase64(i),
        entry: leaf.entry as KeyLine['entry'],
      };
    }
  }
}

/** Pass 2 along the chain: its segment's entries, selected ones as receipts, the others as links. */
async function* chainLines(
  options: ExportOptions,
  chain: ChainWindow & { firstLeaf: number | undefined },
  size: number,
  summary: ExportSummary,
): AsyncGenerator<PendingReceipt | LinkLine> {
  const texts = new ReceiptTexts(options.receipts(), options.readText);
  try {
    const segment = chainSegment(options.store, chain, size, chain.firstLeaf);
    for await (const batch of inBatches(segment, SEGMENT_BATCH)) {
      const proofs = await options.store.inclusionProofs(
        batch.map((l) => l.index),
        size,
      );
      for (const [i, leaf] of batch.entries()) {
        const entry = leaf.entry as ReceiptEntry;
        const proof = proofs.proofBase64(i);
        if (selects(chain, entry)) {
          const muJson = await texts.text(entry.id);
          yield { receipt: { type: 'receipt', leafIndex: leaf.index, proof, entry }, muJson };
        } else {
          summary.links = (summary.links ?? 0) + 1;
          yield { type: 'link', leafIndex: leaf.index, proof, entry };
        }
      }
    }
    summary.skipped = await texts.finish(options.store, size);
  } finally {
    await texts.close();
  }
}

/** Pass 2 over the ledger's selection: each receipt in the tree, with its entry and proof. */
async function* selectionLines(
  options: ExportOptions,
  size: number,
  summary: ExportSummary,
): AsyncGenerator<PendingReceipt> {
  for await (const batch of receiptBatches(options.receipts())) {
    const leaves = await options.store.receiptLeaves(batch.map((r) => r.id));
    const inTree: [ExportedReceipt, LeafRecord][] = [];
    for (const [i, leaf] of leaves.entries()) {
      if (!leaf || leaf.index >= size) summary.skipped++;
      else inTree.push([batch[i]!, leaf]);
    }
    const proofs = await options.store.inclusionProofs(
      inTree.map(([, l]) => l.index),
      size,
    );
    for (const [i, [r, leaf]] of inTree.entries()) {
      const receipt = {
        type: 'receipt',
        leafIndex: leaf.index,
        proof: proofs.proofBase64(i),
        entry: leaf.entry as ReceiptEntry,
      } as const;
      yield { receipt, muJson: muJsonOf(r) };
    }
  }
}

/**
 * Yields the bundle's lines in UTF-8, each ending with LF. `summary` is filled in as it goes. Stopping
 * the iteration (a client gone) stops every read behind it.
 */
export async function* exportBundle(
  options: ExportOptions,
  summary: ExportSummary = { keys: 0, receipts: 0, skipped: 0 },
): AsyncGenerator<Buffer> {
  const { store } = options;
  const issued = options.checkpoint ?? (await options.checkpointer.issue());
  const size = issued.checkpoint.size;
  const digest = new BundleDigest();
  const header: HeaderLine = {
    type: 'header',
    format: BUNDLE_FORMAT,
    createdAt: new Date().toISOString(),
    origin: options.origin,
    filters: options.filters,
    generator: 'torgo-ledger/0.1.0',
  };
  yield digest.line(header);
  yield digest.line({ type: 'checkpoint', note: issued.note });

  const slicer = new Slicer(options.sliceMs);
  const plan = await planExport(options, size, slicer);
  for await (const line of keyLines(store, plan.keyIds, size)) {
    summary.keys++;
    await slicer.pace();
    yield digest.line(line);
  }
  yield digest.line(await completenessLine(store, plan.chain, plan.keyIds, issued.checkpoint));

  summary.skipped = plan.notInLog;
  const lines = plan.chain
    ? chainLines(options, plan.chain, size, summary)
    : selectionLines(options, size, summary);
  for await (const line of lines) {
    await slicer.pace();
    if ('muJson' in line) {
      summary.receipts++;
      if (summary.receipts % 1000 === 0) options.onProgress?.(summary.receipts);
      yield digest.receiptLine(line);
    } else yield digest.line(line);
  }
  const statement: StatementLine = {
    type: 'statement',
    note: await options.checkpointer.signStatement({
      origin: options.origin,
      checkpoint: { size, rootHash: issued.checkpoint.rootHash },
      filters: header.filters,
      createdAt: header.createdAt,
      counts: { keys: summary.keys, receipts: summary.receipts },
      digest: digest.value,
    }),
  };
  yield Buffer.from(`${JSON.stringify(statement)}\n`, 'utf8');
}
