/**
 * Receipt queries: by source, subject and operation, committedAt windows, both orders, pages and
 * bookmarks, revoked-signer flags, permissions, argument checks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../../chaincode/json.js';
import { receiptViewBytes } from '../../chaincode/queries.js';
import type { Flags } from '../../chaincode/receipts.js';
import {
  type Cast,
  idOf,
  json,
  LEDGERS,
  openCast,
  register,
  rejectsWith,
  signedReceipt,
  testKey,
} from './ledger.js';

type View = { id: string; mu: string; committedAt: string; source: string; revokedSigners: unknown[] };
type Page = { receipts: View[]; bookmark: string };

/** Fixed-width RFC 3339 time plus 1 ns (the tests' fractions never carry into the seconds). */
function plusOneNanosecond(t: string): string {
  const nanos = String(Number(t.slice(20, 29)) + 1).padStart(9, '0');
  return `${t.slice(0, 20)}${nanos}Z`;
}

for (const kind of LEDGERS)
  describe(`queries (${kind})`, () => {
    let cast: Cast;
    const key = testKey(200);
    // Appended oldest first; `sources[i]` and `subjects[i]` per receipt.
    const appended: {
      id: string;
      source: string;
      subject: string;
      operation: string;
      committedAt: string;
    }[] = [];

    before(async () => {
      cast = await openCast(kind);
      await register(cast, cast.alice, key);
      // 7 single appends on pump-1, then a batch of 3 on pump-1 (one tx time) and 2 on pump-2.
      for (let i = 0; i < 7; i++) {
        const mu = signedReceipt([key], {
          source: 'pump-1',
          subject: `urn:s:${i % 2}`,
          operation: 'dose.start',
        });
        const r = json<View & { operation: string; subject: string }>(
          (await cast.ledger.submit(cast.alice, 'appendReceipt', mu)).result,
        );
        appended.push({
          id: r.id,
          source: r.source,
          subject: r.subject,
          operation: r.operation,
          committedAt: r.committedAt,
        });
      }
      const batch = [
        signedReceipt([key], { source: 'pump-1', subject: 'urn:s:0', operation: 'dose.stop' }),
        signedReceipt([key], { source: 'pump-1', subject: 'urn:s:1', operation: 'dose.stop' }),
        signedReceipt([key], { source: 'pump-1', subject: 'urn:s:0', operation: 'dose.stop' }),
        signedReceipt([key], { source: 'pump-2', subject: 'urn:s:0', operation: 'dose.start' }),
        signedReceipt([key], { source: 'pump-2.b', subject: 'urn:s:0~x', operation: 'dose.start' }),
      ];
      const out = json<Page>(
        (await cast.ledger.submit(cast.relay, 'appendReceipts', JSON.stringify(batch))).result,
      );
      for (const r of out.receipts as unknown as (typeof appended)[number][]) {
        appended.push({
          id: r.id,
          source: r.source,
          subject: r.subject,
          operation: r.operation,
          committedAt: r.committedAt,
        });
      }
    });
    after(() => cast.ledger.close());

    const query = (q: Record<string, unknown>, who = cast.auditor) =>
      cast.ledger.evaluate(who, 'queryReceipts', JSON.stringify(q)).then((t) => json<Page>(t));

    /** What a query must return: filter, then sort by (committedAt, id), reversed for desc. */
    function expected(
      by: 'source' | 'subject' | 'operation',
      value: string,
      order: 'asc' | 'desc',
      from?: string,
      to?: string,
    ) {
      const rows = appended
        .filter((r) => r[by] === value && (!from || r.committedAt >= from) && (!to || r.committedAt < to))
        .sort((a, b) =>
          a.committedAt < b.committedAt ? -1 : a.committedAt > b.committedAt ? 1 : a.id < b.id ? -1 : 1,
        )
        .map((r) => r.id);
      return order === 'asc' ? rows : rows.reverse();
    }

    async function all(q: Record<string, unknown>): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let bookmark = '';
      let pages = 0;
      do {
        const page = await query({ ...q, bookmark });
        pages++;
        ids.push(...page.receipts.map((r) => r.id));
        bookmark = page.bookmark;
        assert.ok(pages < 50, 'paging terminates');
      } while (bookmark);
      return { ids, pages };
    }

    for (const order of ['asc', 'desc'] as const) {
      it(`by source, ${order}: every receipt once, in order, across pages of every size`, async () => {
        const want = expected('source', 'pump-1', order);
        assert.equal(want.length, 10);
        for (const pageSize of [1, 3, 4, 10, 11, 100]) {
          const { ids, pages } = await all({ by: 'source', value: 'pump-1', order, pageSize });
          assert.deepEqual(ids, want, `pageSize ${pageSize}`);
          // The page after the last full one is never an empty one: the contract reads one entry ahead.
          assert.equal(pages, Math.ceil(want.length / pageSize));
        }
      });

      it(`by subject and by operation, ${order}`, async () => {
        for (const [by, value] of [
          ['subject', 'urn:s:0'],
          ['subject', 'urn:s:1'],
          ['subject', 'urn:s:0~x'],
          ['operation', 'dose.start'],
          ['operation', 'dose.stop'],
        ] as const) {
          const { ids } = await all({ by, value, order, pageSize: 2 });
          assert.deepEqual(ids, expected(by, value, order), `${by}=${value}`);
        }
      });

      it(`committedAt windows [from, to), ${order}`, async () => {
        const times = [...new Set(appended.map((r) => r.committedAt))].sort();
        const windows: [string | undefined, string | undefined][] = [
          [times[2], times[5]],
          [times[2], undefined],
          [undefined, times[3]],
          [times.at(-1), plusOneNanosecond(times.at(-1)!)], // exactly the batch's transaction
          [times.at(-1), undefined],
          ['2000-01-01T00:00:00Z', '2000-01-02T00:00:00Z'],
        ];
        assert.equal(
          expected('source', 'pump-1', order, times.at(-1), plusOneNanosecond(times.at(-1)!)).length,
          3,
        );
        assert.equal(expected('source', 'pump-1', order, times[2], times[5]).length, 3);
        for (const [from, to] of windows) {
          const { ids } = await all({ by: 'source', value: 'pump-1', order, pageSize: 3, from, to });
          assert.deepEqual(ids, expected('source', 'pump-1', order, from, to), `[${from}, ${to})`);
        }
      });
    }

    it('a value is never a prefix match: pump-2 does not see pump-2.b, urn:s:0 not urn:s:0~x', async () => {
      assert.deepEqual(
        (await all({ by: 'source', value: 'pump-2' })).ids,
        expected('source', 'pump-2', 'asc'),
      );
      assert.equal((await all({ by: 'source', value: 'pump-2' })).ids.length, 1);
      assert.equal((await all({ by: 'source', value: 'pump' })).ids.length, 0);
      assert.ok(!(await all({ by: 'subject', value: 'urn:s:0' })).ids.includes(appended.at(-1)!.id));
    });

    it('accepts times with 1–9 fraction digits or none, and compares them at nanosecond precision', async () => {
      const t = appended[3]!.committedAt; // e.g. 2026-…:03.000004000Z
      const seconds = t.slice(0, 19);
      const a = await all({ by: 'source', value: 'pump-1', from: `${seconds}Z` });
      const b = await all({ by: 'source', value: 'pump-1', from: `${seconds}.0Z` });
      assert.deepEqual(a.ids, b.ids);
      assert.deepEqual(a.ids, expected('source', 'pump-1', 'asc', `${seconds}.000000000Z`));
    });

    it('returns full records, text included', async () => {
      const page = await query({ by: 'source', value: 'pump-1', pageSize: 2 });
      assert.equal(page.receipts.length, 2);
      assert.ok(page.receipts[0]!.mu.startsWith('---\ntamrof: 1/tpiecer.ogrot\n'));
      assert.equal(idOf(page.receipts[0]!.mu), page.receipts[0]!.id);
      assert.deepEqual(page.receipts[0]!.revokedSigners, []);
    });

    it('default page: asc, 50 per page; pageSize bounds 1..100', async () => {
      const page = await query({ by: 'source', value: 'pump-1' });
      assert.deepEqual(
        page.receipts.map((r) => r.id),
        expected('source', 'pump-1', 'asc'),
      );
      assert.equal(page.bookmark, '');
      for (const pageSize of [0, 101, 1.5, '10']) {
        await rejectsWith(query({ by: 'source', value: 'pump-1', pageSize }), 'BAD_REQUEST', /pageSize/);
      }
    });

    it('refuses bad queries with BAD_REQUEST', async () => {
      const bad: unknown[] = [
        'nonsense',
        [],
        { by: 'digest', value: 'x' },
        { by: 'source' },
        { by: 'source', value: 'pump!1' },
        { by: 'source', value: 'pump-1', order: 'newest' },
        { by: 'source', value: 'pump-1', from: '2026-01-01' },
        { by: 'source', value: 'pump-1', from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
        { by: 'source', value: 'pump-1', extra: 1 },
        { by: 'source', value: 'pump-1', bookmark: 'not a bookmark!' },
        { by: 'source', value: 'pump-1', bookmark: 5 },
      ];
      for (const q of bad) {
        const arg = typeof q === 'string' ? q : JSON.stringify(q);
        await rejectsWith(cast.ledger.evaluate(cast.auditor, 'queryReceipts', arg), 'BAD_REQUEST');
      }
    });

    it('a bookmark only continues the query it came from', async () => {
      const first = await query({ by: 'source', value: 'pump-1', pageSize: 2 });
      assert.ok(first.bookmark);
      await rejectsWith(
        query({ by: 'source', value: 'pump-2', bookmark: first.bookmark }),
        'BAD_REQUEST',
        /another query/,
      );
      await rejectsWith(
        query({ by: 'source', value: 'pump-1', order: 'desc', bookmark: first.bookmark }),
        'BAD_REQUEST',
      );
      // A forged bookmark pointing at other state is refused too.
      const forged = Buffer.from('key!').toString('base64url');
      await rejectsWith(query({ by: 'source', value: 'pump-1', bookmark: forged }), 'BAD_REQUEST');
      // The same bookmark twice gives the same page (stable cursors).
      const a = await query({ by: 'source', value: 'pump-1', pageSize: 2, bookmark: first.bookmark });
      const b = await query({ by: 'source', value: 'pump-1', pageSize: 2, bookmark: first.bookmark });
      assert.deepEqual(a, b);
    });

    it('auditors and admins query; appenders, log operators and role-less identities may not', async () => {
      assert.ok((await query({ by: 'source', value: 'pump-1' }, cast.admin)).receipts.length > 0);
      for (const who of [cast.alice, cast.operator, cast.nobody]) {
        await rejectsWith(
          query({ by: 'source', value: 'pump-1' }, who),
          'FORBIDDEN',
          /may not query receipts/,
        );
      }
      // The role is checked before the arguments.
      await rejectsWith(cast.ledger.evaluate(cast.nobody, 'queryReceipts', 'garbage'), 'FORBIDDEN');
    });

    it('after the signer key is revoked, every receipt it signed is flagged (and still listed)', async () => {
      const revoked = json<{ revokedAt: string }>(
        (await cast.ledger.submit(cast.admin, 'revokeKey', key.keyId, 'audit finding')).result,
      );
      const { receipts } = await query({ by: 'source', value: 'pump-1', order: 'desc' });
      assert.equal(receipts.length, 10);
      for (const r of receipts) {
        assert.deepEqual(r.revokedSigners, [
          { keyId: key.keyId, reason: 'audit finding', revokedAt: revoked.revokedAt },
        ]);
      }
    });

    it('closes every iterator it opens', () => {
      const iterators = (cast.ledger as unknown as { iterators?: { closed: boolean }[] }).iterators;
      if (!iterators) return;
      assert.ok(iterators.length > 0);
      assert.ok(iterators.every((i) => i.closed));
    });
  });

describe('receiptViewBytes (a page built from stored records)', () => {
  const tricky = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 16 }),
    fc.constantFrom(',"signerKeyIds":["x"],"source":"y"', '],"source":', '\\",\\"', '— é\n"\\', ''),
  );
  const text = fc.array(tricky, { maxLength: 4 }).map((parts) => parts.join(''));
  const record = fc.record({
    id: text,
    mu: text,
    digest: text,
    source: text,
    operation: text,
    subject: text,
    occurredAt: text,
    signerKeyIds: fc.array(text, { maxLength: 3 }),
    submitter: fc.record({ mspId: text, id: text }),
    txId: text,
    committedAt: text,
  });
  /** Flags as flagsOf derives them: here every key id of odd length counts as revoked. */
  const flagsFor = async (ids: readonly string[]): Promise<Flags> => ({
    revokedSigners: ids
      .filter((id) => id.length % 2 === 1)
      .map((keyId) => ({ keyId, revokedAt: `at ${keyId}`, reason: `"${keyId}"` })),
  });

  /** The view's bytes, from a record stored as the contract stores it (jsonBytes). */
  const view = async (r: Parameters<typeof canonicalJson>[0]) =>
    Buffer.concat(await receiptViewBytes(Buffer.from(canonicalJson(r)), flagsFor));

  it('is the UTF-8 of canonicalJson({ ...record, ...flags }) of the stored canonicalJson(record)', async () => {
    await fc.assert(
      fc.asyncProperty(record, async (r) => {
        const expected = Buffer.from(canonicalJson({ ...r, ...(await flagsFor(r.signerKeyIds)) }));
        assert.deepEqual(await view(r), expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('takes the parsing path for a record of another layout, with the same answer', async () => {
    for (const odd of [
      { id: 'a', signerKeyIds: ['k1'], zeta: { signerKeyIds: ['no'] } },
      { id: 'a', signerKeyIds: ['k1'], t: { a: 1, source: 2 } },
    ]) {
      assert.deepEqual(await view(odd), Buffer.from(canonicalJson({ ...odd, ...(await flagsFor(['k1'])) })));
    }
  });

  it('refuses stored bytes that are not UTF-8, as decoding them did', async () => {
    const stored = Buffer.from(canonicalJson({ id: 'a', mu: 'x', signerKeyIds: ['k1'], source: 's' }));
    stored[stored.indexOf('x')] = 0xff;
    await assert.rejects(
      receiptViewBytes(stored, flagsFor),
      /INTERNAL: a stored receipt record is not UTF-8/,
    );
  });
});
