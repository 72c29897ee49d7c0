import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CoreError,
  createReceiptText,
  mirror,
  parseReceipt,
  type ReceiptDocument,
  rev,
  serializeDocument,
  utf8,
} from '../../../core/index.js';

// Body text drawn from ASCII, Latin-1 letters, CJK, emoji and combining marks, so both the
// happy path and the refusals (non-NFC mirrors, unstable line ends) get exercised.
const char = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...'abcXYZ 019.,;:-*+#>`~()[]!?/'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom('é', 'ß', 'Ω', '日', '本', '✅', '🛰️', '\u0301', '\u0323', 'ﬁ') },
);
const line = fc.array(char, { maxLength: 40 }).map((cs) => cs.join(''));
const ulid = fc
  .array(fc.constantFrom(...'0123456789ABCDEFGHJKMNPQRSTVWXYZ'.split('')), { minLength: 25, maxLength: 25 })
  .map((cs) => `0${cs.join('')}`);
const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

const document: fc.Arbitrary<ReceiptDocument> = fc.record({
  fields: fc.record({
    format: fc.constant('torgo.receipt/1' as const),
    id: ulid,
    source: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/),
    operation: fc.stringMatching(/^[a-z][a-z0-9.]{0,15}$/),
    subject: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:#=-]{0,30}$/),
    occurredAt: fc
      .date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2099-12-31T23:59:59Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString()),
    payloadDigests: fc.uniqueArray(
      hex64.map((h) => `sha256:${h}`),
      { minLength: 1, maxLength: 3 },
    ),
  }),
  sections: fc
    .tuple(fc.array(line, { minLength: 1, maxLength: 6 }), fc.option(fc.array(line, { maxLength: 4 })))
    .map(([intent, context]) => [
      { name: 'Intent' as const, lines: [...intent.slice(0, -1), `${intent.at(-1)}x`.trimStart()] },
      ...(context ? [{ name: 'Context' as const, lines: context }] : []),
    ]),
});

describe('receipt properties', () => {
  it('rev is an involution on any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => rev(rev(s)) === s));
  });

  it('a document either becomes a receipt that reads back identically, or is refused with a coded error', () => {
    let accepted = 0;
    fc.assert(
      fc.property(document, (doc) => {
        let text: string;
        try {
          text = createReceiptText(doc);
        } catch (e) {
          assert.ok(e instanceof CoreError, `uncoded error: ${e}`);
          return;
        }
        accepted++;
        assert.equal(mirror(mirror(text)), text, 'mirror∘mirror = identity');
        const r = parseReceipt(text);
        assert.deepEqual(r.document, JSON.parse(JSON.stringify(doc)), 'parse ∘ create = identity');
        assert.equal(serializeDocument(r.document), r.sourceText, 'serialize ∘ parse = identity');
      }),
      { numRuns: 400 },
    );
    assert.ok(accepted > 100, `only ${accepted} of 400 generated documents were accepted`);
  });

  it('mutated receipts are refused with coded errors, never a crash', () => {
    const doc = fc.sample(
      document.filter((d) => {
        try {
          createReceiptText(d);
          return true;
        } catch {
          return false;
        }
      }),
      1,
    )[0]!;
    const bytes = utf8(createReceiptText(doc));
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const mutated = bytes.slice();
        mutated[at] = value;
        try {
          parseReceipt(mutated);
        } catch (e) {
          assert.ok(e instanceof CoreError, `uncoded error: ${e}`);
        }
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (random) => {
        try {
          parseReceipt(random);
        } catch (e) {
          assert.ok(e instanceof CoreError, `uncoded error: ${e}`);
        }
      }),
    );
  });
});
