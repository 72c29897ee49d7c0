/**
 * Verifiable completeness (docs/bundle-format.md §6): the log store's chain back-pointers, the
 * exporter's chain segments, and the verifier's detection of every omission, each with its code.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type BundleReport,
  createReceiptText,
  formatReport,
  type KeyEntry,
  type LogEntry,
  type PrivateKey,
  parseReceipt,
  parseStatementBody,
  privateKeyFromSeed,
  publicKey,
  type ReceiptEntry,
  signCheckpoint,
  signReceipt,
  signStatement,
  toHex,
  verifyBundle,
} from '../../../core/index.js';
import { createSha256 } from '../../../core/crypto/hash.js';
import { entriesOf } from '../../../gateway/logbuilder/builder.js';
import { Checkpointer } from '../../../gateway/logbuilder/checkpointer.js';
import { type ExportedReceipt, exportBundle } from '../../../gateway/logbuilder/export.js';
import { LogStore } from '../../../gateway/logbuilder/store.js';
import { keyEntry as fixtureKeyEntry, ORIGIN, operatorKey, owner } from './fixture.js';

const trusted = [{ name: ORIGIN, key: publicKey(operatorKey.alg, operatorKey.publicKey) }];
const relay = privateKeyFromSeed('ML-DSA-65', new Uint8Array(32).fill(1));
const lab = privateKeyFromSeed('ML-DSA-44', new Uint8Array(32).fill(2));

interface Logged {
  readonly id: string;
  readonly mu: string;
  readonly source: string;
  readonly subject: string;
  readonly operation: string;
  readonly committedAt: string;
}

/** A key entry as a format-2 event gives it to the store (prevKey to be filled in). */
function keyEntry(
  key: PrivateKey,
  event: KeyEntry['event'],
  at: string,
  extra: Partial<KeyEntry> = {},
): KeyEntry {
  return fixtureKeyEntry(key, event, at, { prevKey: null, ...extra });
}

function receipt(n: number, source: string, subject: string, at: string, key: PrivateKey): Logged {
  const id = `01JDQ3J7E5V2W8X9Y0Z1A2C${String(n).padStart(3, '0')}`;
  let mu = createReceiptText({
    fields: {
      format: 'torgo.receipt/1',
      id,
      source,
      operation: 'vitals.forward',
      subject,
      occurredAt: '2026-02-01T00:00:00Z',
      payloadDigests: [`sha256:${n.toString(16).padStart(64, '0')}`],
    },
    sections: [{ name: 'Intent', lines: [`Forward batch ${n}.`] }],
  });
  mu = signReceipt(parseReceipt(mu), key, { deterministic: true });
  return { id, mu, source, subject, operation: 'vitals.forward', committedAt: at };
}

function entryOf(r: Logged, n: number): ReceiptEntry {
  const p = parseReceipt(r.mu);
  return {
    kind: 'receipt',
    id: r.id,
    digest: p.digest,
    signers: p.signatures.map((s) => s.keyId),
    submitter: owner,
    txId: `tx-receipt-${n}`,
    block: 0,
    committedAt: r.committedAt,
    source: r.source,
    subject: r.subject,
  };
}

// Leaves: 0 relay key, 1 lab key, 2 r1, 3 r2, 4 r3, 5 r4, 6 r5, 7 r6, 8 relay revoked, 9 r7, 10 r8.
const A = 'icu-relay-3';
const B = 'lab-7';
const s1 = 'urn:torgo:subject:1';
const s2 = 'urn:torgo:subject:2';
const receipts = [
  receipt(1, A, s1, '2026-02-01T00:00:00.000Z', relay),
  receipt(2, B, s1, '2026-02-02T00:00:00.000Z', lab),
  receipt(3, A, s2, '2026-02-03T00:00:00.000Z', relay),
  receipt(4, A, s1, '2026-02-04T00:00:00.000Z', relay),
  receipt(5, A, s2, '2026-02-05T00:00:00.000Z', relay),
  receipt(6, B, s2, '2026-02-06T00:00:00.000Z', lab),
  receipt(7, A, s1, '2026-03-02T00:00:00.000Z', lab),
  receipt(8, B, s1, '2026-03-03T00:00:00.000Z', lab),
];
const r = (n: number) => receipts[n - 1]!;
const blocks: LogEntry[][] = [
  [
    keyEntry(relay, 'registered', '2026-01-01T00:00:00.000Z'),
    keyEntry(lab, 'registered', '2026-01-01T00:00:00.000Z'),
  ],
  [entryOf(r(1), 1), entryOf(r(2), 2), entryOf(r(3), 3)],
  [entryOf(r(4), 4), entryOf(r(5), 5), entryOf(r(6), 6)],
  [
    keyEntry(relay, 'revoked', '2026-03-01T00:00:00.000Z', {
      revokedAt: '2026-03-01T00:00:00.000Z',
      revocationReason: 'device lost',
    }),
  ],
  [entryOf(r(7), 7), entryOf(r(8), 8)],
];

async function append(store: LogStore, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++)
    await store.appendBlock(
      i,
      blocks[i]!.map((e) => ({ ...e, block: i })),
    );
}

/** What the ledger selects for these filters, in ledger-time order (the export's receipts). */
function ledgerSelection(filters: Record<string, string>): ExportedReceipt[] {
  return receipts
    .filter(
      (x) =>
        (filters['source'] === undefined || x.source === filters['source']) &&
        (filters['subject'] === undefined || x.subject === filters['subject']) &&
        (filters['operation'] === undefined || x.operation === filters['operation']) &&
        (filters['from'] === undefined || x.committedAt >= filters['from']) &&
        (filters['to'] === undefined || x.committedAt < filters['to']),
    )
    .map((x) => ({ id: x.id, mu: x.mu }));
}

async function verifyLines(lines: readonly string[]): Promise<BundleReport> {
  return verifyBundle(
    (async function* () {
      yield* lines;
    })(),
    { trusted },
  );
}

/**
 * A dishonest exporter's edit: the operator key re-signs the statement over the edited lines
 * (digest and counts recomputed), so the signature and digest check out and only completeness
 * (§6) can tell what was left out. Against anyone else the statement's digest already detects
 * any edit (E_BUNDLE_STATEMENT_MISMATCH).
 */
function resign(lines: readonly string[]): string[] {
  const body = lines.slice(0, -1);
  const digest = createSha256();
  for (const l of body) digest.update(`${l}\n`);
  const count = (t: string) => body.filter((l) => (JSON.parse(l) as { type: string }).type === t).length;
  const note = (JSON.parse(lines.at(-1)!) as { type: string; note: string }).note;
  const original = parseStatementBody(`${note.slice(0, note.indexOf('\n\n'))}\n`);
  return [
    ...body,
    JSON.stringify({
      type: 'statement',
      note: signStatement(
        {
          ...original,
          counts: { keys: count('key'), receipts: count('receipt') },
          digest: `sha256:${toHex(digest.digest())}`,
        },
        operatorKey,
      ),
    }),
  ];
}

const typeOf = (l: string) => (JSON.parse(l) as { type: string }).type;
const leafOf = (l: string) => (JSON.parse(l) as { leafIndex: number }).leafIndex;
const codes = (rep: BundleReport) => rep.failures.map((f) => f.code);

describe('verifiable completeness: chains in the log, chain segments in bundles', () => {
  let dir: string;
  let store: LogStore;
  let checkpointer: Checkpointer;
  const exportLines = async (filters: Record<string, string>): Promise<string[]> => {
    const out: string[] = [];
    for await (const l of exportBundle({
      store,
      checkpointer,
      origin: ORIGIN,
      filters,
      receipts: async function* () {
        yield* ledgerSelection(filters);
      },
    }))
      out.push(l.toString('utf8').trimEnd());
    return out;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'torgo-chains-'));
    // Built with a restart in between: pointers must come out as if built in one run.
    store = await LogStore.open(join(dir, 'log'));
    await append(store, 0, 3);
    await store.close();
    store = await LogStore.open(join(dir, 'log'));
    await append(store, 3, blocks.length);
    checkpointer = await Checkpointer.open(store, { origin: ORIGIN, key: operatorKey });
  });
  after(async () => {
    await checkpointer.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('assigns every chained entry the leaf of the previous entry of its source, subject and key, across a restart', async () => {
    const pointers: unknown[] = [];
    for (let i = 0; i < store.size; i++) {
      const e = (await store.leaf(i))!.entry;
      pointers.push(e.kind === 'key' ? [e.prevKey] : [e.prevSource, e.prevSubject]);
    }
    assert.deepEqual(pointers, [
      [null], // relay registered
      [null], // lab registered
      [null, null], // r1 A s1
      [null, 2], // r2 B s1
      [2, null], // r3 A s2
      [4, 3], // r4 A s1
      [5, 4], // r5 A s2
      [3, 6], // r6 B s2
      [0], // relay revoked
      [6, 5], // r7 A s1
      [7, 9], // r8 B s1
    ]);
    const once = await LogStore.open(join(dir, 'once'));
    try {
      await append(once, 0, blocks.length);
      assert.equal(toHex(await once.root()), toHex(await store.root()), 'same leaves, same root');
      assert.equal(await once.chainHead('source', A), 9);
      assert.equal(await once.chainHead('source', A, 9), 6, 'the head at an earlier tree size');
      assert.equal(await once.chainHead('subject', 'nobody'), undefined);
      // The key-heads tree is reused between key changes, and recomputed after one.
      const before = (await once.keyHeadsTree()).line;
      assert.equal((await once.keyHeadsTree()).line, before);
      const size = once.size;
      await once.appendBlock(blocks.length, [
        {
          ...keyEntry(lab, 'revoked', '2026-04-01T00:00:00.000Z', { revokedAt: '2026-04-01T00:00:00.000Z' }),
          block: 5,
        },
      ]);
      const after = await once.keyHeadsTree();
      assert.notEqual(after.line, before);
      assert.equal(after.proof(lab.keyId)?.index, lab.keyId < relay.keyId ? 0 : 1);
      assert.equal((await once.keyHeadsTree(size)).line, before, 'at the older size, the older heads');
      const revoked = (await once.leaf(size))!.entry;
      assert.equal(revoked.kind === 'key' && revoked.prevKey, 1, 'the lab key registered at leaf 1');
    } finally {
      await once.close();
    }
  });

  it('a source over a window: boundaries before and after, every receipt in it, proven', async () => {
    const lines = await exportLines({ source: A, from: '2026-02-02T00:00:00Z', to: '2026-02-05T12:00:00Z' });
    const rep = await verifyLines(lines);
    assert.deepEqual(rep.failures, []);
    assert.equal(rep.valid, true);
    assert.deepEqual(
      lines.filter((l) => ['receipt', 'link'].includes(typeOf(l))).map((l) => [typeOf(l), leafOf(l)]),
      [
        ['link', 2],
        ['receipt', 4],
        ['receipt', 5],
        ['receipt', 6],
        ['link', 9],
      ],
    );
    assert.equal(rep.completeness?.status, 'proven');
    assert.equal(rep.completeness?.start, 'before-window');
    assert.equal(rep.completeness?.end, 'after-window');
    assert.equal(rep.completeness?.chainEntries, 5);
    assert.equal(rep.completeness?.keyChains, 1);
  });

  it('a source up to the present ends at the stated head; a whole subject starts at its chain start', async () => {
    const tail = await verifyLines(await exportLines({ source: A, from: '2026-02-02T00:00:00Z' }));
    assert.equal(tail.valid, true, JSON.stringify(tail.failures));
    assert.equal(tail.completeness?.end, 'stated-head');
    const subject = await verifyLines(await exportLines({ subject: s1 }));
    assert.equal(subject.valid, true, JSON.stringify(subject.failures));
    assert.equal(subject.completeness?.status, 'proven');
    assert.equal(subject.completeness?.start, 'chain-start');
    assert.equal(subject.counts.validReceipts, 5);
    assert.equal(subject.completeness?.keyChains, 2);
  });

  it('an empty window is proven empty: the entries either side of it, as links', async () => {
    const lines = await exportLines({ source: A, from: '2026-02-10T00:00:00Z', to: '2026-02-20T00:00:00Z' });
    const rep = await verifyLines(lines);
    assert.equal(rep.valid, true, JSON.stringify(rep.failures));
    assert.equal(rep.counts.receipts, 0);
    assert.deepEqual(
      lines.filter((l) => typeOf(l) === 'link').map(leafOf),
      [6, 9],
      'r5 before the window, r7 after it',
    );
    assert.equal(rep.completeness?.status, 'proven');
    assert.equal(rep.completeness?.end, 'after-window');
    // A result, not "nothing to verify" (§6.4): valid without allowEmpty, completeness lifted from notProven.
    assert.equal(rep.outcome, 'valid');
    assert.equal(rep.statement.status, 'verified');
    assert.equal(rep.counts.links, 2);
    assert.deepEqual(rep.notProven, []);
    assert.match(
      formatReport(rep),
      / {2}completeness: .*2 contiguous entries .*, none in it: the window is proven empty/,
    );
    // Without the entry after the window, emptiness rests on nothing: E_CHAIN_END, not valid.
    const noEnd = await verifyLines(resign(lines.filter((l) => !(typeOf(l) === 'link' && leafOf(l) === 9))));
    assert.equal(noEnd.outcome, 'invalid');
    assert.ok(codes(noEnd).includes('E_CHAIN_END'), codes(noEnd).join());
  });

  it('source and subject: the source chain, with entries of other subjects as links', async () => {
    const lines = await exportLines({ source: A, subject: s1 });
    const rep = await verifyLines(lines);
    assert.equal(rep.valid, true, JSON.stringify(rep.failures));
    assert.equal(rep.completeness?.status, 'proven');
    assert.equal(lines.filter((l) => typeOf(l) === 'link').length, 2, 'r3 and r5 are about s2');
    assert.equal(rep.counts.validReceipts, 3);
  });

  it('omitting any one receipt of the window is detected (E_CHAIN_GAP; E_CHAIN_START at the chain start, E_CHAIN_END at its head)', async () => {
    const cases: Record<string, string>[] = [
      { source: A, from: '2026-02-02T00:00:00Z', to: '2026-02-05T12:00:00Z' },
      { source: A, from: '2026-02-02T00:00:00Z' },
      { subject: s1 },
    ];
    for (const filters of cases) {
      const lines = await exportLines(filters);
      const receiptAt = lines.flatMap((l, i) => (typeOf(l) === 'receipt' ? [i] : []));
      assert.ok(receiptAt.length >= 3);
      for (const [k, i] of receiptAt.entries()) {
        const rep = await verifyLines(resign(lines.filter((_, j) => j !== i)));
        assert.equal(rep.valid, false);
        assert.equal(rep.statement.status, 'verified', 'the exporter re-signed the statement');
        const last = k === receiptAt.length - 1 && filters['to'] === undefined;
        const first = k === 0 && filters['from'] === undefined;
        const want = last ? 'E_CHAIN_END' : first ? 'E_CHAIN_START' : 'E_CHAIN_GAP';
        assert.ok(
          codes(rep).includes(want),
          `${JSON.stringify(filters)} without receipt line ${i}: ${codes(rep).join()}`,
        );
      }
    }
  });

  it('omitting a boundary is detected: the one before the window (E_CHAIN_START), the one after (E_CHAIN_END)', async () => {
    const lines = await exportLines({ source: A, from: '2026-02-02T00:00:00Z', to: '2026-02-05T12:00:00Z' });
    const links = lines.flatMap((l, i) => (typeOf(l) === 'link' ? [i] : []));
    assert.equal(links.length, 2);
    const noStart = await verifyLines(resign(lines.filter((_, j) => j !== links[0])));
    assert.deepEqual(codes(noStart), ['E_CHAIN_START']);
    const noEnd = await verifyLines(resign(lines.filter((_, j) => j !== links[1])));
    assert.deepEqual(codes(noEnd), ['E_CHAIN_END']);
  });

  it("link lines in bundle's verifier: their proofs checked, none twice, none before the completeness line", async () => {
    const lines = await exportLines({ source: A, from: '2026-02-02T00:00:00Z', to: '2026-02-05T12:00:00Z' });
    const first = lines.findIndex((l) => typeOf(l) === 'link');
    const link = JSON.parse(lines[first]!) as { proof: string[] };
    const badProof = [...lines];
    badProof[first] = JSON.stringify({ ...link, proof: [...link.proof].reverse() });
    const bad = await verifyLines(resign(badProof));
    assert.deepEqual(
      bad.failures.filter((f) => f.code === 'E_PROOF_INVALID').map((f) => f.line),
      [first + 1],
      'the link line, by its physical line number',
    );
    const twice = [...lines];
    twice.splice(first + 1, 0, lines[first]!);
    const dup = await verifyLines(resign(twice));
    assert.ok(codes(dup).includes('E_BUNDLE_DUPLICATE_ENTRY'), codes(dup).join());
    const at = lines.findIndex((l) => typeOf(l) === 'completeness');
    const early = [...lines];
    early.splice(at, 0, lines[first]!);
    const out = await verifyLines(resign(early.filter((_, j) => j !== first + 1)));
    assert.equal(out.stopped?.code, 'E_BUNDLE_SYNTAX');
    assert.match(out.stopped?.message ?? '', /links come after the completeness line/);
    // Links are exempt from the filter rule: the boundary entries lie outside the window, no E_BUNDLE_OUTSIDE_FILTER.
    assert.ok(!codes(await verifyLines(lines)).includes('E_BUNDLE_OUTSIDE_FILTER'));
  });

  it('a selected receipt bundled as a link, without its text, is E_CHAIN_WITHHELD', async () => {
    const lines = await exportLines({ source: A, from: '2026-02-02T00:00:00Z', to: '2026-02-05T12:00:00Z' });
    const i = lines.findIndex((l) => typeOf(l) === 'receipt');
    const { mu: _mu, ...link } = JSON.parse(lines[i]!) as Record<string, unknown>;
    const edited = [...lines];
    edited[i] = JSON.stringify({ ...link, type: 'link' });
    const rep = await verifyLines(resign(edited));
    assert.deepEqual(codes(rep), ['E_CHAIN_WITHHELD']);
  });

  it('omitting a later revocation of a signer key is E_KEY_CHAIN_END; an earlier key entry, E_KEY_CHAIN_GAP', async () => {
    const lines = await exportLines({ source: A, from: '2026-02-02T00:00:00Z', to: '2026-02-05T12:00:00Z' });
    const keys = lines.flatMap((l, i) => (typeOf(l) === 'key' ? [i] : []));
    assert.deepEqual(
      keys.map((i) => leafOf(lines[i]!)),
      [0, 8],
      'the relay key: registered, then revoked',
    );
    const full = await verifyLines(lines);
    assert.equal(full.flags.length, 3, 'the receipts are flagged: their key was revoked later');
    const noRevocation = await verifyLines(resign(lines.filter((_, j) => j !== keys[1])));
    assert.deepEqual(codes(noRevocation), ['E_KEY_CHAIN_END']);
    assert.equal(noRevocation.flags.length, 0, 'without the check, the revocation would have gone unseen');
    const noRegistration = await verifyLines(resign(lines.filter((_, j) => j !== keys[0])));
    assert.deepEqual(codes(noRegistration), ['E_KEY_CHAIN_GAP']);
  });

  it('the checkpoint commits to the key heads: omitting the revocation and restating the head is still E_KEY_CHAIN_END', async () => {
    const lines = await exportLines({ source: A, from: '2026-02-02T00:00:00Z', to: '2026-02-05T12:00:00Z' });
    const full = await verifyLines(lines);
    assert.equal(full.completeness?.keyHeads, 'proven');
    const at = lines.findIndex((l) => typeOf(l) === 'completeness');
    const claim = JSON.parse(lines[at]!) as { keyHeads: Record<string, number> };
    assert.deepEqual(claim.keyHeads, { [relay.keyId]: 8 });
    const revocation = lines.findIndex((l) => typeOf(l) === 'key' && leafOf(l) === 8);
    // The attacker restates the head as the registration (with or without its proof): the signed
    // commitment says leaf 8.
    for (const proofs of [undefined, 'keep']) {
      const edited = [...lines];
      const c = JSON.parse(lines[at]!) as Record<string, unknown>;
      edited[at] = JSON.stringify({
        ...c,
        keyHeads: { [relay.keyId]: 0 },
        ...(proofs ? {} : { keyHeadProofs: {} }),
      });
      const rep = await verifyLines(resign(edited.filter((_, j) => j !== revocation)));
      assert.deepEqual(codes(rep), ['E_KEY_CHAIN_END'], JSON.stringify(rep.failures));
      assert.equal(rep.flags.length, 0);
    }
  });

  it('a checkpoint without the key-heads commitment (before chains) leaves key heads stated, not proven', async () => {
    const lines = await exportLines({ source: A });
    const bare = signCheckpoint({ origin: ORIGIN, size: store.size, rootHash: await store.root() }, [
      { name: ORIGIN, key: operatorKey },
    ]);
    const edited = lines.map((l) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      if (o['type'] === 'checkpoint') return JSON.stringify({ type: 'checkpoint', note: bare });
      if (o['type'] === 'completeness') {
        const { keyHeadProofs: _p, ...rest } = o;
        return JSON.stringify(rest);
      }
      return l;
    });
    const rep = await verifyLines(resign(edited));
    assert.equal(rep.valid, true, JSON.stringify(rep.failures));
    assert.equal(rep.completeness?.keyHeads, 'stated');
  });

  it('a completeness line for another chain, or a foreign receipt on the chain, is E_CHAIN_INVALID', async () => {
    const lines = await exportLines({ source: A });
    const at = lines.findIndex((l) => typeOf(l) === 'completeness');
    const other = [...lines];
    other[at] = JSON.stringify({ ...JSON.parse(lines[at]!), chain: { by: 'source', value: B } });
    assert.ok(codes(await verifyLines(resign(other))).includes('E_CHAIN_INVALID'));
    const foreign = (await exportLines({ source: B })).find((l) => typeOf(l) === 'receipt')!;
    const spliced = [...lines];
    spliced.splice(at + 1, 0, foreign);
    assert.ok(codes(await verifyLines(resign(spliced))).includes('E_CHAIN_INVALID'));
  });

  it('filters no chain covers (operation) still prove the key histories, and say why the receipts are not', async () => {
    const rep = await verifyLines(await exportLines({ source: A, operation: 'vitals.forward' }));
    assert.equal(rep.valid, true, JSON.stringify(rep.failures));
    assert.equal(rep.completeness?.status, 'keys-only');
    assert.match(rep.completeness?.uncovered ?? '', /operation/);
  });

  it('a bundle without a completeness line (an exporter before chains) verifies, completeness not claimed', async () => {
    const lines = await exportLines({ source: A });
    const rep = await verifyLines(
      resign(lines.filter((l) => typeOf(l) !== 'completeness' && typeOf(l) !== 'link')),
    );
    assert.equal(rep.valid, true, JSON.stringify(rep.failures));
    assert.equal(rep.completeness?.status, 'not-claimed');
    assert.ok(
      rep.notProven.some((n) => /left out/.test(n)),
      'the report says completeness is not proven',
    );
    // Deleting the line from the operator's signed export (not re-signed) is caught by the statement's digest.
    const deleted = await verifyLines(lines.filter((l) => typeOf(l) !== 'completeness'));
    assert.deepEqual(codes(deleted), ['E_BUNDLE_DIGEST_MISMATCH']);
  });
});

describe('log entry formats in block events', () => {
  const block = (payload: object) => ({
    number: 4,
    transactions: [
      {
        txId: 't',
        valid: true,
        event: { name: 'E', payload: new TextEncoder().encode(JSON.stringify(payload)) },
      },
    ],
  });
  const { block: _b, prevKey: _p, ...key } = keyEntry(relay, 'registered', '2026-01-01T00:00:00.000Z');
  const { block: _c, source: _s, subject: _j, ...plain } = entryOf(r(1), 1);

  it('format-1 events (older blocks) are logged exactly as before: no chain fields', () => {
    const entries = entriesOf(block({ entries: [key, plain] }));
    assert.equal('prevKey' in entries[0]!, false);
    assert.equal('source' in entries[1]!, false);
  });

  it('format-2 events: receipts carry source and subject, key entries are chained', () => {
    const entries = entriesOf(block({ logFormat: 2, entries: [key, { ...plain, source: A, subject: s1 }] }));
    assert.equal((entries[0] as KeyEntry).prevKey, null);
    assert.equal((entries[1] as ReceiptEntry).source, A);
  });

  it('a half-formed entry is refused: source in format 1, a format-2 receipt without it', () => {
    assert.throws(() => entriesOf(block({ entries: [{ ...plain, source: A, subject: s1 }] })), /format 1/);
    assert.throws(() => entriesOf(block({ logFormat: 2, entries: [plain] })), /without source/);
    assert.throws(
      () => entriesOf(block({ logFormat: 2, entries: [{ ...plain, source: A }] })),
      (e: Error & { code?: string }) => e.code === 'E_BUNDLE_SYNTAX',
    );
  });
});
