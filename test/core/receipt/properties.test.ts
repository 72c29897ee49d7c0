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
import { isTimestamp } from '../../../core/receipt/fields.js';

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

/** The definition `isTimestamp` is held to: the syntax, the fields' ranges, and a `Date` that keeps the day. */
function timestampByDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

describe('receipt properties', () => {
  it('isTimestamp accepts exactly the real instants: month lengths, leap years (1900, 2000, 2024), ranges', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const year = fc.oneof(
      fc.integer({ min: 0, max: 9999 }),
      fc.constantFrom(0, 1, 4, 100, 400, 1600, 1900, 2000, 2023, 2024, 2100, 9999),
    );
    const stamp = fc
      .tuple(year, two(13), two(32), two(24), two(60), two(60), fc.constantFrom('', '.1', '.123456789', '.'))
      .map(
        ([y, mo, d, h, mi, s, frac]) => `${String(y).padStart(4, '0')}-${mo}-${d}T${h}:${mi}:${s}${frac}Z`,
      );
    let real = 0;
    fc.assert(
      fc.property(stamp, (t) => {
        assert.equal(isTimestamp(t), timestampByDate(t), t);
        if (isTimestamp(t)) real++;
      }),
      { numRuns: 20_000 },
    );
    // Leap days of a leap year, a century leap year and a century that is not; month ends; year 0.
    const known = { '2024-02-29': true, '2000-02-29': true, '1900-02-29': false, '2023-02-29': false };
    const ends = { '2026-04-30': true, '2026-04-31': false, '0001-01-01': true, '0000-01-01': false };
    for (const [day, real] of Object.entries({ ...known, ...ends })) {
      assert.equal(isTimestamp(`${day}T00:00:00Z`), real, day);
    }
    assert.ok(real > 5000, `${real} real instants among 20,000`);
  });

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
