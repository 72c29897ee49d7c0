import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mirror, mirrorWithSelfCheck } from '../../../core/index.js';
import type { NegativeVector, PositiveVector } from '../../vectors/receipt-vectors.js';

/** The plain definition: mirror the text, mirror it back, first line (1-based) that differs, 0 if none. */
function plain(text: string): { mirrored: string; unstableLine: number } {
  const mirrored = mirror(text);
  const a = text.split('\n');
  const b = mirror(mirrored).split('\n');
  return { mirrored, unstableLine: a.findIndex((l, i) => l !== b[i]) + 1 };
}

// Pieces aimed at everything the mirror reads as structure: front-matter delimiters, indents,
// dashes and ": " separators, body markers, fences (opening, closing, longer, indented), spaces at
// both ends, and surrogates (pairs and lone halves, which make the reversal not an involution).
const piece = fc.constantFrom(
  '',
  '---',
  ' ',
  '  ',
  '#',
  '## ',
  '####### ',
  '> ',
  '- ',
  '* ',
  '+ ',
  '-',
  '1. ',
  '12) ',
  '1234567890. ',
  '.',
  ')',
  '```',
  '````',
  '~~~',
  '`',
  '~',
  ':',
  ': ',
  ' :',
  '- :',
  'a',
  'bc',
  'é',
  '\u0301',
  '日',
  '✅',
  '\u{1F6F0}',
  '\uD800',
  '\uDC00',
);
const line = fc.array(piece, { maxLength: 8 }).map((ps) => ps.join(''));
const text = fc
  .tuple(fc.boolean(), fc.array(line, { maxLength: 14 }))
  .map(([front, lines]) => (front ? ['---', ...lines] : lines).join('\n'));

const dir = join(import.meta.dirname, '..', '..', '..', '..', 'test', 'vectors', 'receipts');
const load = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;

describe('mirrorWithSelfCheck: the mirror and its self-check in one pass', () => {
  it('equals the plain definition (mirror, mirror back, first differing line) on structure-aimed texts', () => {
    let unstable = 0;
    fc.assert(
      fc.property(text, (t) => {
        const expected = plain(t);
        if (expected.unstableLine) unstable++;
        assert.deepStrictEqual(mirrorWithSelfCheck(t), expected);
      }),
      { numRuns: 6000 },
    );
    // The generator reaches both verdicts, often.
    assert.ok(unstable > 600 && unstable < 5400, `unstable texts: ${unstable}`);
  });

  it('equals the plain definition on arbitrary strings (any code unit, LF-rich)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.constant('\n')), { maxLength: 20 }),
        (parts) => {
          const t = parts.join('');
          assert.deepStrictEqual(mirrorWithSelfCheck(t), plain(t));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('equals the plain definition on the golden vectors: receipts, their documents and the negative files', () => {
    const texts: string[] = [];
    for (const name of ['minimal', 'ml-dsa-44', 'ml-dsa-87', 'multi-signature', 'rich-body']) {
      const v = load<PositiveVector>(`${name}.json`);
      texts.push(v.receiptText, mirror(v.receiptText));
    }
    for (const v of load<NegativeVector[]>('negative.json')) {
      texts.push(Buffer.from(v.muBase64, 'base64').toString('utf8'));
    }
    let stable = 0;
    for (const t of texts) {
      const got = mirrorWithSelfCheck(t);
      assert.deepStrictEqual(got, plain(t));
      if (!got.unstableLine) stable++;
    }
    assert.ok(stable >= 10, `stable texts: ${stable}`);
  });
});
