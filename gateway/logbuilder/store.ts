/**
 * The transparency log on LevelDB: perfect-subtree hashes (core/log/merkle.ts storage model),
 * the entry of every leaf, lookups from receipt id / key id to leaves, and the position in the
 * ledger the log has followed up to. One atomic batch per ledger block, so a crash leaves the
 * log exactly at a block boundary and the builder resumes from there.
 */
import { Level } from 'level';
import {
  appendLeaf,
  assembleProof,
  canonicalJson,
  consistencyPlan,
  CoreError,
  entryLeafHash,
  foldNodes,
  inclusionPlan,
  type LogEntry,
  type NodeId,
  rangeNodes,
  rootPlan,
} from '../../core/index.js';

const pad = (n: number, width: number) => n.toString(16).padStart(width, '0');
const nodeKey = (level: number, index: number) => `n/${pad(level, 2)}/${pad(index, 14)}`;
const leafKey = (index: number) => `e/${pad(index, 14)}`;
const receiptKey = (id: string) => `r/${id}`;
const keyEntryKey = (keyId: string, index: number) => `k/${keyId}/${pad(index, 14)}`;
const META_SIZE = 'm/size';
const META_NEXT_BLOCK = 'm/nextBlock';
const META_CHECKPOINT = 'm/checkpoint';

export interface LeafRecord {
  readonly index: number;
  readonly entry: LogEntry;
}

export class LogStore {
  private constructor(
    private readonly db: Level<string, Uint8Array>,
    private treeSize: number,
    private next: number,
    /** The right edge of the tree: exactly the nodes `appendLeaf` reads. */
    private readonly frontier: Map<string, Uint8Array>,
  ) {}

  static async open(path: string): Promise<LogStore> {
    const db = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    const num = async (k: string) => {
      const v = await db.get(k);
      return v === undefined ? 0 : Number(new TextDecoder().decode(v));
    };
    const size = await num(META_SIZE);
    const next = await num(META_NEXT_BLOCK);
    const frontier = new Map<string, Uint8Array>();
    const ids = rangeNodes(0, size);
    const hashes = await db.getMany(ids.map((n) => nodeKey(n.level, n.index)));
    ids.forEach((n, i) => {
      const h = hashes[i];
      if (!h) throw new CoreError('E_PROOF_INVALID', `log store is missing node (${n.level}, ${n.index})`);
      frontier.set(nodeKey(n.level, n.index), h);
    });
    return new LogStore(db, size, next, frontier);
  }

  get size(): number {
    return this.treeSize;
  }

  /** The first ledger block not yet in the log. */
  get nextBlock(): number {
    return this.next;
  }

  /** Appends the entries of one ledger block, atomically with the new position. */
  async appendBlock(blockNumber: number, entries: readonly LogEntry[]): Promise<void> {
    if (blockNumber !== this.next) {
      throw new Error(`log store: block ${blockNumber} arrives out of order (expected ${this.next})`);
    }
    const batch = this.db.batch();
    const enc = new TextEncoder();
    const written = new Map<string, Uint8Array>();
    const reader = {
      getNode: (level: number, index: number) => {
        const k = nodeKey(level, index);
        const h = written.get(k) ?? this.frontier.get(k);
        if (!h)
          throw new CoreError('E_PROOF_INVALID', `log store: frontier node (${level}, ${index}) missing`);
        return h;
      },
    };
    let size = this.treeSize;
    for (const entry of entries) {
      for (const node of appendLeaf(reader, size, entryLeafHash(entry))) {
        const k = nodeKey(node.level, node.index);
        written.set(k, node.hash);
        batch.put(k, node.hash);
      }
      batch.put(leafKey(size), enc.encode(canonicalJson(entry)));
      if (entry.kind === 'receipt') batch.put(receiptKey(entry.id), enc.encode(String(size)));
      else batch.put(keyEntryKey(entry.keyId, size), enc.encode(String(size)));
      size++;
    }
    batch.put(META_SIZE, enc.encode(String(size)));
    batch.put(META_NEXT_BLOCK, enc.encode(String(blockNumber + 1)));
    await batch.write({ sync: true });
    // The new frontier: the compact range of [0, size).
    const all = new Map([...this.frontier, ...written]);
    this.frontier.clear();
    for (const n of rangeNodes(0, size))
      this.frontier.set(nodeKey(n.level, n.index), all.get(nodeKey(n.level, n.index))!);
    this.treeSize = size;
    this.next = blockNumber + 1;
  }

  private async nodes(ids: readonly NodeId[]): Promise<Map<string, Uint8Array>> {
    const keys = ids.map((n) => nodeKey(n.level, n.index));
    const values = await this.db.getMany(keys);
    const out = new Map<string, Uint8Array>();
    keys.forEach((k, i) => {
      const v = values[i];
      if (!v) throw new CoreError('E_PROOF_INVALID', `log store: node ${k} missing`);
      out.set(k, v);
    });
    return out;
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.treeSize) {
      throw new CoreError(
        'E_PROOF_INVALID',
        `tree size ${size} is not within the log's size ${this.treeSize}`,
        {
          reason: 'range',
        },
      );
    }
  }

  async root(size: number = this.treeSize): Promise<Uint8Array> {
    this.checkSize(size);
    const plan = rootPlan(size);
    const nodes = await this.nodes(plan);
    return foldNodes(plan.map((n) => nodes.get(nodeKey(n.level, n.index))!));
  }

  async inclusionProof(leafIndex: number, size: number): Promise<Uint8Array[]> {
    this.checkSize(size);
    const plan = inclusionPlan(leafIndex, size);
    const nodes = await this.nodes(plan.flat());
    return assembleProof(plan, (n) => nodes.get(nodeKey(n.level, n.index))!);
  }

  async consistencyProof(size1: number, size2: number): Promise<Uint8Array[]> {
    this.checkSize(size2);
    const plan = consistencyPlan(size1, size2);
    const nodes = await this.nodes(plan.flat());
    return assembleProof(plan, (n) => nodes.get(nodeKey(n.level, n.index))!);
  }

  async leaf(index: number): Promise<LeafRecord | undefined> {
    const v = await this.db.get(leafKey(index));
    return v ? { index, entry: JSON.parse(new TextDecoder().decode(v)) as LogEntry } : undefined;
  }

  async receiptLeaf(id: string): Promise<LeafRecord | undefined> {
    const v = await this.db.get(receiptKey(id));
    return v ? this.leaf(Number(new TextDecoder().decode(v))) : undefined;
  }

  /** Every key entry of a key, oldest first. */
  async keyLeaves(keyId: string): Promise<LeafRecord[]> {
    const out: LeafRecord[] = [];
    for await (const v of this.db.values({ gte: `k/${keyId}/`, lt: `k/${keyId}/~` })) {
      const leaf = await this.leaf(Number(new TextDecoder().decode(v)));
      if (leaf) out.push(leaf);
    }
    return out;
  }

  /** The latest signed checkpoint note, persisted beside the tree. */
  async latestCheckpoint(): Promise<string | undefined> {
    const v = await this.db.get(META_CHECKPOINT);
    return v ? new TextDecoder().decode(v) : undefined;
  }

  async saveCheckpoint(note: string): Promise<void> {
    await this.db.put(META_CHECKPOINT, new TextEncoder().encode(note), { sync: true });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
