/**
 * The transparency log on LevelDB: perfect-subtree hashes (core/log/merkle.ts storage model),
 * the entry of every leaf, lookups from receipt id / key id to leaves, and the position in the
 * ledger the log has followed up to. One atomic batch per ledger block, or per group of consecutive
 * blocks (the builder's, at a trickle of small blocks), so a crash leaves the log exactly at a block
 * boundary and the builder resumes from there.
 *
 * Block batches are written without fsync (issue 18: at one receipt per block that was a second
 * fsync per receipt). The log needs none: it is a deterministic function of the ledger's blocks,
 * which are durable, so a power loss that drops the newest batches only rewinds the log, and the
 * builder rebuilds the same leaves and nodes. What is published with a signature is: a checkpoint is
 * saved with `sync`, and LevelDB's log is sequential, so syncing it makes every earlier batch
 * durable with it — a signed tree head is never ahead of the tree on disk.
 */
import { Level } from 'level';
import {
  appendLeaf,
  assembleProof,
  canonicalJson,
  consistencyPlan,
  CoreError,
  foldNodes,
  hashLeaf,
  inclusionPlan,
  KeyHeadsTree,
  type LogEntry,
  type NodeId,
  type ProofPlan,
  type StoredNode,
  rangeNodes,
  rootPlan,
} from '../../core/index.js';

const pad = (n: number, width: number) => n.toString(16).padStart(width, '0');
const nodeKey = (level: number, index: number) => `n/${pad(level, 2)}/${pad(index, 14)}`;
const leafKey = (index: number) => `e/${pad(index, 14)}`;
const receiptKey = (id: string) => `r/${id}`;

/** The chains of docs/bundle-format.md §6: receipts by source, by subject; key entries by key id. */
export type ChainKind = 'source' | 'subject' | 'key';
/**
 * A chain's index prefix. Names are percent-encoded so no name is a prefix of another's range
 * (`encodeURIComponent` leaves no `/`); key ids are hex already (and keep their v1 layout `k/`).
 */
export const chainPrefix = (kind: ChainKind, name: string): string =>
  kind === 'key' ? `k/${name}/` : `${kind === 'source' ? 's' : 'j'}/${encodeURIComponent(name)}/`;
/** Most chain heads kept in memory; beyond it the cache is dropped and refilled from the index. */
const MAX_CACHED_HEADS = 100_000;
/** Chain-head index reads a block's append has in flight at once (cache misses only). */
const HEAD_LOOKUPS_IN_FLIGHT = 64;
const META_SIZE = 'm/size';
const META_NEXT_BLOCK = 'm/nextBlock';
const META_CHECKPOINT = 'm/checkpoint';
/** The witness's notes (witness.ts): the last checkpoint it cosigned, the newest one cosigned by others too. */
export type WitnessNote = 'witnessed' | 'cosigned';
const metaWitness = (which: WitnessNote): string => `m/witness/${which}`;

/** One chain an entry joins: its index prefix (computed once per entry per block). */
interface ChainLink {
  readonly kind: ChainKind;
  readonly name: string;
  readonly prefix: string;
}

const link = (kind: ChainKind, name: string): ChainLink => ({ kind, name, prefix: chainPrefix(kind, name) });

/**
 * The chains an entry is indexed under, in the order of its index keys: a key entry under its key
 * id (every one, v1 layout), a receipt carrying source and subject under both, other receipts none.
 */
function chainsOf(e: LogEntry): ChainLink[] {
  if (e.kind === 'key') return [link('key', e.keyId)];
  if (e.source !== undefined && e.subject !== undefined)
    return [link('source', e.source), link('subject', e.subject)];
  return [];
}

interface ChainedBlock {
  readonly entries: LogEntry[];
  /** The chains of each entry, by position. */
  readonly chains: ChainLink[][];
  /** Chain prefix → newest leaf index after the block. */
  readonly heads: Map<string, number>;
}

const utf8 = new TextEncoder();

/**
 * The compact range of [0, size + 1) from that of [0, size) and the nodes `appendLeaf` produced for
 * leaf `size` (the leaf, then each node it completed, bottom up): every node but the last merged with
 * its left sibling, which leaves the range; the last node joins it. Same nodes as
 * `rangeNodes(0, size + 1)` (held by test/gateway/logbuilder/append-reference.test.ts).
 */
function advanceFrontier(frontier: Map<string, Uint8Array>, nodes: readonly StoredNode[]): void {
  for (let j = 0; j < nodes.length - 1; j++) frontier.delete(nodeKey(nodes[j]!.level, nodes[j]!.index - 1));
  const top = nodes[nodes.length - 1]!;
  frontier.set(nodeKey(top.level, top.index), top.hash);
}

/**
 * The store's LevelDB, shared between this process's threads (classic-level's `multithreading`): one
 * LevelDB instance, which the appending store opens and a reader on another thread opens again.
 */
function openLevel(path: string, create: boolean): Level<string, Uint8Array> {
  return new Level<string, Uint8Array>(path, {
    keyEncoding: 'utf8',
    valueEncoding: 'view',
    multithreading: true,
    createIfMissing: create,
  });
}

const FILL = { fillCache: true };
const NO_FILL = { fillCache: false };

export interface LogStoreOptions {
  /** Most chain heads kept in memory (default 100,000); beyond it the cache is dropped. */
  readonly maxCachedHeads?: number;
}

export interface LeafRecord {
  readonly index: number;
  readonly entry: LogEntry;
}

export class LogStore {
  private constructor(
    private readonly db: Level<string, Uint8Array>,
    /** Whether this store appends (`open`); a reader (`openReader`) reads a tree of a given size only. */
    private readonly appends: boolean,
    private treeSize: number,
    private next: number,
    /** The right edge of the tree (the compact range of [0, size)): exactly the nodes `appendLeaf` reads. */
    private frontier: Map<string, Uint8Array>,
    /** Chain prefix → leaf index of the chain's newest entry (a cache of the index's last keys). */
    private readonly heads: Map<string, number>,
    /**
     * Whether `heads` holds every chain of the log: true for a log opened empty (every chain since
     * was appended here and cached), false once the cache is dropped. While it holds, a chain the
     * cache lacks has no entry, and no index read is needed to say so (issue 14: one per new subject).
     */
    private headsComplete: boolean,
    private readonly maxCachedHeads: number,
  ) {}

  /** The last key-heads tree, valid for every size above its newest key leaf until a key entry is appended. */
  private keyTreeMemo: { tree: KeyHeadsTree; lastKeyLeaf: number } | undefined;
  /** Counts appends with key entries, so a walk that raced one does not leave a stale memo. */
  private keyGeneration = 0;

  static async open(path: string, options: LogStoreOptions = {}): Promise<LogStore> {
    const db = openLevel(path, true);
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
    return new LogStore(
      db,
      true,
      size,
      next,
      frontier,
      new Map(),
      size === 0,
      options.maxCachedHeads ?? MAX_CACHED_HEADS,
    );
  }

  /**
   * A store that only reads the tree of `size` (a checkpoint's), from another thread of this process
   * than the one that appends (gateway/logbuilder/export-thread.ts): the same LevelDB instance, shared
   * between threads, so it sees every batch the appending store has written. The log may grow behind
   * it; it caches no chain head and reads no index past `size`.
   */
  static async openReader(path: string, size: number): Promise<LogStore> {
    const db = openLevel(path, false);
    await db.open();
    return new LogStore(db, false, size, 0, new Map(), new Map(), false, 0);
  }

  /**
   * What point reads pass LevelDB: a reader's leave its block cache to the appending store (LevelDB's
   * advice for bulk reads; iterators never fill it).
   */
  private get reads(): { fillCache: boolean } {
    return this.appends ? FILL : NO_FILL;
  }

  private writer(): Level<string, Uint8Array> {
    if (!this.appends) throw new Error('log store: a reader does not write');
    return this.db;
  }

  get size(): number {
    return this.treeSize;
  }

  /** The first ledger block not yet in the log. */
  get nextBlock(): number {
    return this.next;
  }

  /** Leaf index of the newest entry of a chain below leaf `size` (default: the whole log), if any. */
  async chainHead(kind: ChainKind, name: string, size: number = this.treeSize): Promise<number | undefined> {
    const prefix = chainPrefix(kind, name);
    // Only the store that appends knows the log's whole size; a reader's may have grown since.
    const whole = size >= this.treeSize && this.appends;
    if (whole) {
      const cached = this.heads.get(prefix);
      if (cached !== undefined || this.headsComplete) return cached;
    }
    const hi = whole ? `${prefix}~` : `${prefix}${pad(size, 14)}`;
    for await (const k of this.db.keys({ gte: prefix, lt: hi, reverse: true, limit: 1 })) {
      return parseInt(k.slice(prefix.length), 16);
    }
    return undefined;
  }

  /**
   * The key-heads commitment's tree (core/bundle/keyheads.ts) for the tree of `size`: the newest
   * key-entry leaf of every key id below `size`. Walks the key index — O(key entries) — only when
   * a key entry was appended since the last walk or `size` predates the newest key entry; a
   * checkpoint otherwise reuses the last tree, so its cost per checkpoint is nil between key changes.
   */
  async keyHeadsTree(size: number = this.treeSize): Promise<KeyHeadsTree> {
    const memo = this.keyTreeMemo;
    if (memo && size > memo.lastKeyLeaf && size <= this.treeSize) return memo.tree;
    const generation = this.keyGeneration;
    const heads = new Map<string, number>();
    let lastKeyLeaf = -1;
    let complete = true;
    for await (const k of this.db.keys({ gte: 'k/', lt: 'k/~' })) {
      const slash = k.lastIndexOf('/');
      const index = parseInt(k.slice(slash + 1), 16);
      if (index < size) {
        heads.set(k.slice(2, slash), index);
        lastKeyLeaf = Math.max(lastKeyLeaf, index);
      } else complete = false;
    }
    const tree = new KeyHeadsTree([...heads].map(([keyId, head]) => ({ keyId, head })));
    if (complete && generation === this.keyGeneration) this.keyTreeMemo = { tree, lastKeyLeaf };
    return tree;
  }

  /** Leaf indexes of a chain's entries in [from, to), oldest first (streams). */
  async *chainIndexes(kind: ChainKind, name: string, from: number, to: number): AsyncGenerator<number> {
    const prefix = chainPrefix(kind, name);
    for await (const k of this.db.keys({ gte: `${prefix}${pad(from, 14)}`, lt: `${prefix}${pad(to, 14)}` })) {
      yield parseInt(k.slice(prefix.length), 16);
    }
  }

  /**
   * Assigns the back-pointers of chained entries (docs/bundle-format.md §6.1): a receipt entry that carries `source` gets
   * `prevSource` and `prevSubject`, a key entry that carries `prevKey` gets the real one. The
   * previous entry is this block's own when there is one, else the index's — so the result depends
   * only on the log's entries, identically in every organisation and after any restart.
   */
  private async chained(
    entries: readonly LogEntry[],
    firstIndex: number,
    /** Heads placed by the blocks before this one in the same batch (not yet in the cache or the index). */
    earlier: ReadonlyMap<string, number>,
  ): Promise<ChainedBlock> {
    const chains = entries.map(chainsOf);
    // The heads this block needs and the cache lacks: looked up together, a few at a time.
    const heads = new Map<string, number | undefined>();
    const missing = new Map<string, [ChainKind, string]>();
    for (const links of chains) {
      for (const { kind, name, prefix } of links) {
        if (heads.has(prefix) || missing.has(prefix)) continue;
        const cached = earlier.get(prefix) ?? this.heads.get(prefix);
        if (cached !== undefined || this.headsComplete) heads.set(prefix, cached);
        else missing.set(prefix, [kind, name]);
      }
    }
    const lookups = [...missing];
    for (let i = 0; i < lookups.length; i += HEAD_LOOKUPS_IN_FLIGHT) {
      const part = lookups.slice(i, i + HEAD_LOOKUPS_IN_FLIGHT);
      const found = await Promise.all(part.map(([, [kind, name]]) => this.chainHead(kind, name)));
      part.forEach(([prefix], j) => {
        heads.set(prefix, found[j]);
      });
    }
    const previous = (link: ChainLink, index: number): number | null => {
      const prev = heads.get(link.prefix);
      heads.set(link.prefix, index);
      return prev ?? null;
    };
    const out: LogEntry[] = [];
    let index = firstIndex;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const links = chains[i]!;
      if (entry.kind === 'receipt' && links.length === 2) {
        out.push({
          ...entry,
          prevSource: previous(links[0]!, index),
          prevSubject: previous(links[1]!, index),
        });
      } else if (entry.kind === 'key') {
        // Every key entry is indexed (v1 layout); only format-2 entries carry the pointer.
        const prevKey = previous(links[0]!, index);
        out.push(entry.prevKey !== undefined ? { ...entry, prevKey } : entry);
      } else out.push(entry);
      index++;
    }
    const placed = new Map<string, number>();
    for (const [prefix, head] of heads) if (head !== undefined) placed.set(prefix, head);
    return { entries: out, chains, heads: placed };
  }

  /** Appends the entries of one ledger block, atomically with the new position (not fsync'd: see above). */
  appendBlock(blockNumber: number, unchained: readonly LogEntry[]): Promise<void> {
    return this.appendBlocks([{ number: blockNumber, entries: unchained }]);
  }

  /**
   * Appends consecutive ledger blocks in one batch, atomically with the new position: the same keys
   * and values as appending them one by one, one LevelDB write (and one wake of its thread) for all.
   */
  async appendBlocks(blocks: readonly { number: number; entries: readonly LogEntry[] }[]): Promise<void> {
    const batch = this.writer().batch();
    // The frontier after these blocks, advanced leaf by leaf; it replaces the store's once the batch is written.
    const frontier = new Map(this.frontier);
    const reader = {
      getNode: (level: number, index: number) => {
        const h = frontier.get(nodeKey(level, index));
        if (!h)
          throw new CoreError('E_PROOF_INVALID', `log store: frontier node (${level}, ${index}) missing`);
        return h;
      },
    };
    let size = this.treeSize;
    let next = this.next;
    let keyEntries = false;
    const placed = new Map<string, number>();
    try {
      for (const block of blocks) {
        if (block.number !== next) {
          throw new Error(`log store: block ${block.number} arrives out of order (expected ${next})`);
        }
        const { entries, chains, heads } = await this.chained(block.entries, size, placed);
        for (let i = 0; i < entries.length; i++) {
          const entry = entries[i]!;
          // The stored leaf is the entry's canonical JSON, and its hash is entryLeafHash: one encoding for both.
          const leaf = utf8.encode(canonicalJson(entry));
          const nodes = appendLeaf(reader, size, hashLeaf(leaf));
          for (const node of nodes) batch.put(nodeKey(node.level, node.index), node.hash);
          advanceFrontier(frontier, nodes);
          batch.put(leafKey(size), leaf);
          // Every index key of this leaf holds the same value, the leaf index in decimal: encoded once.
          const at = utf8.encode(String(size));
          if (entry.kind === 'receipt') batch.put(receiptKey(entry.id), at);
          else keyEntries = true;
          const position = pad(size, 14);
          for (const link of chains[i]!) batch.put(`${link.prefix}${position}`, at);
          size++;
        }
        for (const [prefix, index] of heads) placed.set(prefix, index);
        next = block.number + 1;
      }
    } catch (e) {
      await batch.close();
      throw e;
    }
    batch.put(META_SIZE, utf8.encode(String(size)));
    batch.put(META_NEXT_BLOCK, utf8.encode(String(next)));
    await batch.write();
    this.frontier = frontier;
    this.treeSize = size;
    this.next = next;
    if (keyEntries) {
      this.keyGeneration++;
      this.keyTreeMemo = undefined;
    }
    if (this.heads.size + placed.size > this.maxCachedHeads) {
      this.heads.clear();
      this.headsComplete = false;
    }
    for (const [prefix, index] of placed) this.heads.set(prefix, index);
  }

  /** The nodes' hashes, in the order given, from one read. */
  private async nodeValues(ids: readonly NodeId[]): Promise<Uint8Array[]> {
    const keys = ids.map((n) => nodeKey(n.level, n.index));
    const values = await this.db.getMany(keys, this.reads);
    return keys.map((k, i) => {
      const v = values[i];
      if (!v) throw new CoreError('E_PROOF_INVALID', `log store: node ${k} missing`);
      return v;
    });
  }

  private async nodes(ids: readonly NodeId[]): Promise<Map<string, Uint8Array>> {
    const values = await this.nodeValues(ids);
    return new Map(ids.map((n, i) => [nodeKey(n.level, n.index), values[i]!]));
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

  /**
   * The inclusion proofs of several leaves in the tree of `size`, from one read of the nodes they
   * need: leaves close together share most of their path (an export's batch of 64 chain entries
   * reads about 64 + log2(size) nodes, not 64 × log2(size)). Each proof is assembled when asked
   * for (`proof(i)`, i the position in `leafIndexes`), so an export spreads the work over its lines;
   * a group of nodes shared by several proofs (the right edge of the tree) is folded once.
   * `proofBase64(i)` is `proof(i)` in base64 as bundle lines carry it, each distinct hash of the batch
   * encoded once: neighbours' proofs share all but their lowest nodes, so a line encodes about one
   * hash, not log2(size) (docs/performance.md §12, "What an export keeps alive").
   */
  async inclusionProofs(
    leafIndexes: readonly number[],
    size: number,
  ): Promise<{ proof(i: number): Uint8Array[]; proofBase64(i: number): string[] }> {
    this.checkSize(size);
    const plans = leafIndexes.map((i) => inclusionPlan(i, size));
    // Each node once, numbered in the order first needed (by level, then index: no key strings
    // for the ~log2(size) nodes of every proof, only for the distinct ones read).
    const slots: Map<number, number>[] = [];
    const ids: NodeId[] = [];
    for (const plan of plans) {
      for (const group of plan) {
        for (const n of group) {
          let level = slots[n.level];
          if (!level) {
            level = new Map();
            slots[n.level] = level;
          }
          if (!level.has(n.index)) {
            level.set(n.index, ids.length);
            ids.push(n);
          }
        }
      }
    }
    const values = await this.nodeValues(ids);
    const slot = (n: NodeId) => slots[n.level]!.get(n.index)!;
    // A group is a range of perfect subtrees left to right: its first node and length name it.
    const folded = new Map<number, Uint8Array>();
    const fold = (group: readonly NodeId[]): Uint8Array => {
      const first = slot(group[0]!);
      if (group.length === 1) return values[first]!;
      const key = first * 64 + group.length;
      let hash = folded.get(key);
      if (!hash) {
        hash = foldNodes(group.map((n) => values[slot(n)]!));
        folded.set(key, hash);
      }
      return hash;
    };
    const planOf = (i: number): ProofPlan => {
      const plan = plans[i];
      if (!plan) throw new RangeError(`no proof ${i} of ${plans.length}`);
      return plan;
    };
    // By the hash array itself: `values` and `folded` give every proof the same array for a node.
    const encoded = new Map<Uint8Array, string>();
    const base64 = (hash: Uint8Array): string => {
      let text = encoded.get(hash);
      if (text === undefined) {
        text = Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('base64');
        encoded.set(hash, text);
      }
      return text;
    };
    return {
      proof: (i) => planOf(i).map(fold),
      // Straight from the groups: no array of the hashes per line on the way to their text.
      proofBase64: (i) => planOf(i).map((group) => base64(fold(group))),
    };
  }

  async consistencyProof(size1: number, size2: number): Promise<Uint8Array[]> {
    this.checkSize(size2);
    const plan = consistencyPlan(size1, size2);
    const nodes = await this.nodes(plan.flat());
    return assembleProof(plan, (n) => nodes.get(nodeKey(n.level, n.index))!);
  }

  async leaf(index: number): Promise<LeafRecord | undefined> {
    const v = await this.db.get(leafKey(index), this.reads);
    return v ? { index, entry: JSON.parse(new TextDecoder().decode(v)) as LogEntry } : undefined;
  }

  /** The leaves at these indexes, in the order given (one read); undefined where there is none. */
  async leaves(indexes: readonly number[]): Promise<(LeafRecord | undefined)[]> {
    const values = await this.db.getMany(indexes.map(leafKey), this.reads);
    const dec = new TextDecoder();
    return values.map((v, i) =>
      v ? { index: indexes[i]!, entry: JSON.parse(dec.decode(v)) as LogEntry } : undefined,
    );
  }

  /** The leaves of these receipt ids, in the order given (two reads); undefined where not in the log. */
  async receiptLeaves(ids: readonly string[]): Promise<(LeafRecord | undefined)[]> {
    const dec = new TextDecoder();
    const at = (await this.db.getMany(ids.map(receiptKey), this.reads)).map((v) =>
      v ? Number(dec.decode(v)) : undefined,
    );
    const found = at.filter((i): i is number => i !== undefined);
    const leaves = new Map((await this.leaves(found)).map((l, i) => [found[i]!, l]));
    return at.map((i) => (i === undefined ? undefined : leaves.get(i)));
  }

  async receiptLeaf(id: string): Promise<LeafRecord | undefined> {
    const v = await this.db.get(receiptKey(id), this.reads);
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
    await this.writer().put(META_CHECKPOINT, new TextEncoder().encode(note), { sync: true });
  }

  async witnessNote(which: WitnessNote): Promise<string | undefined> {
    const v = await this.db.get(metaWitness(which));
    return v ? new TextDecoder().decode(v) : undefined;
  }

  async saveWitnessNote(which: WitnessNote, note: string): Promise<void> {
    await this.writer().put(metaWitness(which), new TextEncoder().encode(note), { sync: true });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** The log store's key classes, for `torgo ledger stats` (engine/stats.ts). */
export const LOG_STORE_CLASSES = [
  { name: 'log: tree nodes', prefix: 'n/' },
  { name: 'log: leaf entries', prefix: 'e/' },
  { name: 'log: receipt id → leaf', prefix: 'r/' },
  { name: 'log: key chains', prefix: 'k/' },
  { name: 'log: source chains', prefix: 's/' },
  { name: 'log: subject chains', prefix: 'j/' },
  { name: 'log: meta', prefix: 'm/' },
] as const;
