/**
 * The log store's append path held to the plain definition (docs/bundle-format.md §2, §6): every
 * key and value the store writes — leaves, tree nodes, receipt and chain indexes, position — equals
 * what a straightforward reference computes from the same entries: pointers by scanning every earlier
 * entry, leaves as canonical JSON, nodes from core's in-memory tree, SHA-256 from @noble/hashes
 * (not the OpenSSL backend the store uses). Blocks of 1, 3 and 50 entries, format 1 and 2, key
 * entries, recurring and new chains, across a reopen (so the chain heads come from the cache and from
 * the index); block by block and several blocks per write (`appendBlocks`, the log builder's groups).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { Level } from 'level';
import { sha256 } from '../../../core/crypto/hash.js';
import { canonicalJson, type LogEntry, MemoryTree, rangeNodes } from '../../../core/index.js';
import { entriesOf, type LogBlock } from '../../../gateway/logbuilder/builder.js';
import { chainPrefix, LogStore } from '../../../gateway/logbuilder/store.js';

const utf8 = new TextEncoder();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const pad = (n: number, w: number) => n.toString(16).padStart(w, '0');
const owner = { mspId: 'Org1MSP', id: 'x509::CN=relay::CN=ca' };

/** Event entry `n` (without `block`): every seventh a key entry, sources and subjects recurring. */
function eventEntry(n: number, chained: boolean): Record<string, unknown> {
  if (n % 7 === 3)
    return {
      kind: 'key',
      event: n % 14 === 3 ? 'registered' : 'revoked',
      keyId: pad(n % 3, 64),
      alg: 'ML-DSA-44',
      publicKey: 'AAAA',
      owner,
      validFrom: '2026-01-01T00:00:00.000Z',
      retiredAt: null,
      revokedAt: n % 14 === 3 ? null : '2026-01-02T00:00:00.000Z',
      revocationReason: n % 14 === 3 ? null : 'test',
      txId: `tx-${n}`,
      committedAt: '2026-01-02T00:00:00.000Z',
    };
  return {
    kind: 'receipt',
    id: `01JDQ3J7E5V2W8X9Y${n.toString(32).toUpperCase().padStart(9, '0')}`,
    digest: `sha256:${pad(n, 64)}`,
    signers: [pad(n % 3, 64)],
    submitter: owner,
    txId: `tx-${n}`,
    committedAt: '2026-01-02T00:00:00.000Z',
    ...(chained ? { source: `relay/${n % 4} é`, subject: `urn:torgo:subject:${(n * 13) % 23}` } : {}),
  };
}

/** Blocks of the given sizes, one event per transaction; blocks below `format2From` are format 1. */
function blocks(sizes: readonly number[], format2From: number): LogBlock[] {
  let n = 0;
  return sizes.map((size, number) => ({
    number,
    transactions: Array.from({ length: size }, () => {
      const chained = number >= format2From;
      const entry = eventEntry(n++, chained);
      const payload = { ...(chained ? { logFormat: 2 } : {}), entries: [entry] };
      return {
        txId: `tx-${n}`,
        valid: true,
        event: { name: 'torgo.log', payload: utf8.encode(JSON.stringify(payload)) },
      };
    }),
  }));
}

/** The plain definition of the store's contents after appending `all` (entries per block). */
function reference(all: readonly LogEntry[][]): Map<string, string> {
  const out = new Map<string, string>();
  const flat: LogEntry[] = [];
  const lastOf = (prefix: (e: LogEntry) => string | undefined, want: string): number | null => {
    for (let i = flat.length - 1; i >= 0; i--) if (prefix(flat[i]!) === want) return i;
    return null;
  };
  const sourceOf = (e: LogEntry) => (e.kind === 'receipt' ? e.source : undefined);
  const subjectOf = (e: LogEntry) => (e.kind === 'receipt' && e.source !== undefined ? e.subject : undefined);
  const keyOf = (e: LogEntry) => (e.kind === 'key' ? e.keyId : undefined);
  const tree = new MemoryTree();
  for (const entries of all) {
    for (const e of entries) {
      let placed: LogEntry = e;
      if (e.kind === 'receipt' && e.source !== undefined && e.subject !== undefined)
        placed = { ...e, prevSource: lastOf(sourceOf, e.source), prevSubject: lastOf(subjectOf, e.subject) };
      else if (e.kind === 'key' && e.prevKey !== undefined)
        placed = { ...e, prevKey: lastOf(keyOf, e.keyId) };
      const i = flat.length;
      const leaf = utf8.encode(canonicalJson(placed));
      out.set(`e/${pad(i, 14)}`, hex(leaf));
      tree.append(nobleSha256(new Uint8Array([0, ...leaf])));
      const at = hex(utf8.encode(String(i)));
      if (placed.kind === 'key') out.set(`${chainPrefix('key', placed.keyId)}${pad(i, 14)}`, at);
      else {
        out.set(`r/${placed.id}`, at);
        if (placed.source !== undefined && placed.subject !== undefined) {
          out.set(`${chainPrefix('source', placed.source)}${pad(i, 14)}`, at);
          out.set(`${chainPrefix('subject', placed.subject)}${pad(i, 14)}`, at);
        }
      }
      flat.push(placed);
    }
  }
  for (let level = 0; 2 ** level <= flat.length; level++)
    for (let index = 0; (index + 1) * 2 ** level <= flat.length; index++)
      out.set(`n/${pad(level, 2)}/${pad(index, 14)}`, hex(tree.getNode(level, index)));
  out.set('m/size', hex(utf8.encode(String(flat.length))));
  out.set('m/nextBlock', hex(utf8.encode(String(all.length))));
  return out;
}

async function contents(path: string): Promise<Map<string, string>> {
  const db = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
  const out = new Map<string, string>();
  for await (const [k, v] of db.iterator()) out.set(k, hex(v));
  await db.close();
  return out;
}

describe('log store append: the plain definition', () => {
  it('SHA-256 of the OpenSSL backend equals @noble/hashes on lengths 0..300', () => {
    for (let n = 0; n <= 300; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      assert.equal(hex(sha256(data)), hex(nobleSha256(data)), `length ${n}`);
    }
  });

  for (const [name, options, grouped] of [
    ['the chain heads cached from an empty log', {}, false],
    ['the chain-head cache dropped every few blocks', { maxCachedHeads: 8 }, false],
    ['blocks written in groups of 1 to 4 (appendBlocks)', {}, true],
    ['in groups, the chain-head cache dropped every few blocks', { maxCachedHeads: 8 }, true],
  ] as const) {
    it(`stores exactly the reference keys and values: blocks of 1, 3 and 50, formats 1 and 2, across a reopen; ${name}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'torgo-append-ref-'));
      try {
        const path = join(dir, 'tree');
        const sizes = [1, 3, 1, 50, 1, 1, 3, 50, 7, 1, 50, 1, 2, 1, 50];
        const all = blocks(sizes, 3);
        const entries = all.map(entriesOf);
        // Groups of consecutive blocks written in one call: one each, or 1, 2, 3, 4, 1, … (a group starts at block 9).
        const groups: number[][] = [];
        for (let i = 0; i < all.length; ) {
          const n = grouped
            ? Math.min(i < 9 ? 9 - i : all.length, (groups.length % 4) + 1, all.length - i)
            : 1;
          groups.push(Array.from({ length: n }, (_, j) => i + j));
          i += n;
        }
        let store = await LogStore.open(path, options);
        for (const group of groups) {
          if (group[0] === 9) {
            await store.close();
            store = await LogStore.open(path, options); // the chain-head cache is empty: heads come from the index
          }
          if (grouped) {
            await store.appendBlocks(group.map((i) => ({ number: all[i]!.number, entries: entries[i]! })));
          } else await store.appendBlock(all[group[0]!]!.number, entries[group[0]!]!);
          // The frontier advanced leaf by leaf is exactly the compact range of the tree (nothing stale).
          const frontier = [...store['frontier'].keys()].sort();
          const range = rangeNodes(0, store.size).map((n) => `n/${pad(n.level, 2)}/${pad(n.index, 14)}`);
          assert.deepEqual(frontier, range.sort(), `frontier after block ${group.at(-1)}`);
        }
        const root = hex(await store.root());
        await store.close();
        const want = reference(entries);
        const got = await contents(path);
        assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
        for (const [k, v] of want) assert.equal(got.get(k), v, k);
        const total = sizes.reduce((a, b) => a + b, 0);
        const tree = new MemoryTree();
        for (let i = 0; i < total; i++)
          tree.append(nobleSha256(new Uint8Array([0, ...Buffer.from(want.get(`e/${pad(i, 14)}`)!, 'hex')])));
        assert.equal(root, hex(tree.root()));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
