/**
 * gateway/ledger/page.ts: the API's receipt JSON written from the contract's bytes must be, byte for
 * byte, what the route answered before — fastify's serialisation (the route's own response schemas)
 * of the parsed contract answer mapped by `resourceOf`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ReceiptPage, SHARED_SCHEMAS } from '@torgo/api';
import Fastify, { type FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { Type } from 'typebox';
import { canonicalJson } from '../../chaincode/json.js';
import { type ReceiptView, receiptViewBytes } from '../../chaincode/queries.js';
import {
  ReceiptJson,
  receiptPage,
  receiptPageJson,
  receiptPageOfParts,
  writeReceiptPage,
} from '../../gateway/ledger/page.js';
import { resourceOf } from '../../gateway/http/receipts.js';
import { exportedReceipt } from '../../gateway/ledger/selection.js';

/** Strings that stress the cut: member names, `,"`, escapes, non-ASCII, control characters. */
const tricky = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    ',"signerKeyIds":["x"],"source":"y"',
    ',{"committedAt":',
    '],"source":',
    '\\",\\"',
    '— é\n"\\',
    '\u0001',
    '',
  ),
);
const text = fc.array(tricky, { maxLength: 4 }).map((parts) => parts.join(''));
const view: fc.Arbitrary<ReceiptView> = fc.record({
  committedAt: text,
  digest: text,
  id: text,
  mu: text,
  occurredAt: text,
  operation: text,
  revokedSigners: fc.array(fc.record({ keyId: text, revokedAt: text, reason: text }), { maxLength: 2 }),
  signerKeyIds: fc.array(text, { maxLength: 3 }),
  source: text,
  subject: text,
  submitter: fc.record({ mspId: text, id: text }),
  txId: text,
});

/** The contract's page bytes (chaincode/queries.ts: canonicalJson of the page). */
function contractPage(views: readonly ReceiptView[], bookmark: string): Buffer {
  return Buffer.from(canonicalJson({ bookmark, receipts: views as unknown as ReceiptView[] } as never));
}

describe('receipt JSON from the contract’s bytes', () => {
  // The plain definition: fastify serialising the parsed answer with the routes' own response schemas.
  let app: FastifyInstance;
  let pending: { page?: unknown; receipt?: unknown } = {};
  before(async () => {
    app = Fastify();
    for (const s of SHARED_SCHEMAS) app.addSchema(s);
    const json = (schema: unknown) => ({ 200: { content: { 'application/json': { schema } } } });
    app.get('/page', { schema: { response: json(ReceiptPage) } }, async () => pending.page);
    app.get('/receipt', { schema: { response: json(Type.Ref('Receipt')) } }, async () => pending.receipt);
    await app.ready();
  });
  after(() => app.close());

  const served = async (path: '/page' | '/receipt', body: unknown) => {
    pending = path === '/page' ? { page: body } : { receipt: body };
    const res = await app.inject({ method: 'GET', url: path });
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    return res.rawPayload;
  };

  it('a page: the same bytes as fastify’s serialisation of the parsed page', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(view, { maxLength: 4 }),
        fc.option(text, { nil: null }),
        fc.string(),
        async (views, cursor, bookmark) => {
          const bytes = contractPage(views, bookmark);
          const page = receiptPage(bytes);
          assert.equal(page.bookmark, bookmark);
          const expected = await served('/page', {
            receipts: views.map((v) => resourceOf(v)),
            nextCursor: cursor,
          });
          assert.deepEqual(receiptPageJson(page.receipts, cursor), expected);
          // Into a lent buffer larger than the page, holding an earlier page's bytes: the same bytes.
          const lent = writeReceiptPage(page.receipts, cursor, (n) => Buffer.alloc(n + 37, 0x7b));
          assert.deepEqual(lent, expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('one receipt, with and without its block: the same bytes as fastify’s serialisation', async () => {
    await fc.assert(
      fc.asyncProperty(view, fc.option(fc.nat(), { nil: undefined }), async (v, block) => {
        const bytes = Buffer.from(canonicalJson(v as never));
        assert.ok(ReceiptJson.cut(bytes), 'the contract’s layout is cut, not parsed');
        const expected = await served('/receipt', resourceOf(v, block));
        assert.deepEqual(Buffer.concat(ReceiptJson.of(bytes).resource(block)), expected);
        assert.equal(ReceiptJson.of(bytes).value('mu'), v.mu);
        assert.equal(ReceiptJson.of(bytes).value('source'), v.source);
      }),
      { numRuns: 500 },
    );
  });

  it('a CSV row’s receipt: the API’s Receipt but its .mu, from the bytes and from a parsed view', () => {
    fc.assert(
      fc.property(view, (v) => {
        const { mu: _, ...rest } = resourceOf(v);
        const expected = JSON.parse(JSON.stringify(rest)); // plain objects: the generator's have no prototype
        const bytes = Buffer.from(canonicalJson(v as never));
        assert.deepEqual(ReceiptJson.of(bytes).summary(), expected);
        assert.deepEqual(ReceiptJson.fromView(v).summary(), expected);
      }),
      { numRuns: 500 },
    );
  });

  it('an export row: the view’s id and .mu, decoded on each read of mu; its size never less than the .mu’s UTF-8', () => {
    fc.assert(
      fc.property(view, (v) => {
        const bytes = Buffer.from(canonicalJson(v as never));
        for (const r of [ReceiptJson.of(bytes), ReceiptJson.fromView(v)]) {
          const row = exportedReceipt(r);
          assert.equal(row.id, v.id);
          assert.equal(row.mu, v.mu);
          assert.equal(row.mu, v.mu, 'read again, the same text');
          assert.equal(row.muBytes, r.jsonBytes('mu'));
          assert.equal(r.jsonBytes('mu'), Buffer.byteLength(canonicalJson(v.mu)), 'the member’s JSON text');
          assert.ok(row.muBytes >= Buffer.byteLength(v.mu, 'utf8') + 2);
          assert.deepEqual(
            Buffer.from(row.muJson),
            Buffer.from(JSON.stringify(v.mu), 'utf8'),
            'the bytes a bundle line carries: JSON.stringify’s',
          );
        }
      }),
      { numRuns: 500 },
    );
  });

  it('another layout (a member more, a member missing, other order) is parsed, with the same answer', async () => {
    const v: ReceiptView = {
      committedAt: 't',
      digest: 'd',
      id: 'i',
      mu: 'm — "x"',
      occurredAt: 'o',
      operation: 'op',
      revokedSigners: [{ keyId: 'k', revokedAt: 'r', reason: 'why' }],
      signerKeyIds: ['k'],
      source: 's',
      subject: 'u',
      submitter: { mspId: 'M', id: 'I' },
      txId: 'x',
    };
    const expected = await served('/page', { receipts: [resourceOf(v)], nextCursor: null });
    const extra = { ...v, note: 'between mu and occurredAt', zz: 1 };
    for (const odd of [
      canonicalJson({ bookmark: '', receipts: [extra] } as never),
      JSON.stringify({ receipts: [v], bookmark: '' }),
      JSON.stringify({
        bookmark: '',
        receipts: [{ ...v, committedAt: undefined, txId: 'x', committed: 't' }],
      }).replace('"committed":', '"committedAt":'),
    ]) {
      const bytes = Buffer.from(odd);
      const first = JSON.parse(odd).receipts[0] as Record<string, unknown>;
      if (first['note']) assert.equal(ReceiptJson.cut(Buffer.from(canonicalJson(first as never))), undefined);
      assert.deepEqual(receiptPageJson(receiptPage(bytes).receipts, null), expected, odd);
    }
  });

  /** A view as the contract answers it in a page: its stored record's bytes with revokedSigners spliced in. */
  async function contractPieces(v: ReceiptView): Promise<Buffer[]> {
    const { revokedSigners, ...record } = v;
    const stored = Buffer.from(canonicalJson(record as never));
    const pieces = await receiptViewBytes(stored, async () => ({ revokedSigners }));
    return pieces.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  /** `bytes` cut at `cuts` (positions, any order, repeats and the ends allowed). */
  function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
    const at = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort(
      (a, b) => a - b,
    );
    return at.slice(1).map((end, i) => bytes.subarray(at[i]!, end));
  }

  /** What a page answers through the API, with its bookmark. */
  const answered = (page: { bookmark: string; receipts: ReceiptJson[] }) => [
    page.bookmark,
    receiptPageJson(page.receipts, page.bookmark || null).toString('utf8'),
  ];

  it('a page in the contract’s parts: the same answer as its concatenation, each view cut in its pieces', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(view, { maxLength: 4 }), fc.string(), async (views, bookmark) => {
        const parts: Buffer[] = [Buffer.from(`{"bookmark":${JSON.stringify(bookmark)},"receipts":[`)];
        for (const [i, v] of views.entries()) {
          if (i > 0) parts.push(Buffer.from(','));
          const pieces = await contractPieces(v);
          // The contract's pieces are cut wherever the whole view is: the parts path does not fall back.
          const whole = Buffer.concat(pieces);
          assert.deepEqual(whole, Buffer.from(canonicalJson(v as never)), 'the pieces make the view');
          assert.equal(Boolean(ReceiptJson.cutPieces(pieces)), Boolean(ReceiptJson.cut(whole)));
          parts.push(...pieces);
        }
        parts.push(Buffer.from(']}'));
        const concatenated = Buffer.concat(parts);
        assert.deepEqual(concatenated, contractPage(views, bookmark));
        assert.deepEqual(answered(receiptPageOfParts(parts)), answered(receiptPage(concatenated)));
      }),
      { numRuns: 300 },
    );
  });

  it('a page in any parts, and a view in any pieces: the answer of the concatenation, or undefined for a view', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(view, { maxLength: 3 }),
        fc.string(),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (views, bookmark, cuts) => {
          const page = contractPage(views, bookmark);
          // Arbitrary cuts: through member names, multi-byte characters, the head, the separators.
          assert.deepEqual(answered(receiptPageOfParts(splitAt(page, cuts))), answered(receiptPage(page)));
          for (const v of views) {
            const whole = Buffer.from(canonicalJson(v as never));
            const pieces = ReceiptJson.cutPieces(splitAt(whole, cuts));
            if (pieces) assert.deepEqual(pieces.resource(7), ReceiptJson.cut(whole)?.resource(7));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('parts the page cut does not read as the contract’s: a view holding `,{"committedAt":` across two pieces, a stray `,`, a bad head', async () => {
    const v = {
      committedAt: 'c',
      digest: 'd',
      id: 'i',
      mu: 'm',
      occurredAt: 'o',
      operation: 'op',
      revokedSigners: [],
      signerKeyIds: [],
      source: 's',
      subject: 'su',
      submitter: { mspId: 'M', id: 'x' },
      txId: 't',
    } satisfies ReceiptView;
    const one = Buffer.from(canonicalJson(v as never));
    const head = Buffer.from('{"bookmark":"b","receipts":[');
    const end = Buffer.from(']}');
    const comma = Buffer.from(',');
    for (const parts of [
      [head, one, comma, one, end],
      [head, one, comma, comma, one, end],
      [head, one, comma, end],
      [Buffer.from('{"bookmark":"b",'), Buffer.from('"receipts":['), one, end],
      [head, one.subarray(0, 5), one.subarray(5), end],
      [head, end],
    ]) {
      const concatenated = Buffer.concat(parts);
      let expected: unknown;
      try {
        expected = answered(receiptPage(concatenated));
      } catch (e) {
        expected = (e as { code?: string }).code;
      }
      let actual: unknown;
      try {
        actual = answered(receiptPageOfParts(parts));
      } catch (e) {
        actual = (e as { code?: string }).code;
      }
      assert.deepEqual(actual, expected, concatenated.toString());
    }
    // Two views glued without their `,` part: cutPage would see one view holding `,{"committedAt":`.
    const glued = [head, one, Buffer.from(',{"committedAt":"c"'), end];
    assert.throws(
      () => receiptPageOfParts(glued),
      (e: unknown) => (e as { code?: string }).code === 'E_INTERNAL',
    );
  });

  it('refuses an answer that is not UTF-8, not JSON or not receipts with E_INTERNAL', () => {
    for (const bad of [
      Buffer.from([0x7b, 0xff, 0x7d]),
      Buffer.from('{"bookmark":'),
      Buffer.from('{"bookmark":"","receipts":[{"id":1}]}'),
    ]) {
      assert.throws(
        () => receiptPage(bad),
        (e: unknown) => (e as { code?: string }).code === 'E_INTERNAL',
      );
    }
  });
});
