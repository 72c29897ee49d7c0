/**
 * `parseReceipt`'s fast path (`readWellFormedFile`) held to the plain definition (`readHead`,
 * `parseReceiptPlain`): on the golden vectors and on signed receipts mutated in every way that matters to
 * the split, the canonical form, the encoding and the signature lines, the fast path either declines or
 * gives exactly `readHead`'s result, and `parseReceipt` gives exactly `parseReceiptPlain`'s receipt or error.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createReceiptText,
  parseReceipt,
  verifyReceiptSignatures,
  privateKeyFromSeed,
  signReceipt,
  utf8,
} from '../../../core/index.js';
import {
  parseReceiptPlain,
  readHead,
  readWellFormedFile,
  signedBytes,
} from '../../../core/receipt/receipt.js';
import type { NegativeVector, PositiveVector } from '../../vectors/receipt-vectors.js';

const dir = join(import.meta.dirname, '..', '..', '..', '..', 'test', 'vectors', 'receipts');
const load = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
const names = ['minimal', 'ml-dsa-44', 'ml-dsa-87', 'multi-signature', 'rich-body'];

function outcome<T>(f: () => T): { value: T } | { error: unknown } {
  try {
    return { value: f() };
  } catch (error) {
    return { error };
  }
}

/** Same receipt, or the same error (class, code, message, details), for both forms of the input. */
function assertSameAsPlain(input: Uint8Array | string): void {
  const fast = outcome(() => parseReceipt(input));
  const plain = outcome(() => parseReceiptPlain(input));
  assert.deepStrictEqual(fast, plain, typeof input === 'string' ? JSON.stringify(input) : undefined);
  const bytes = typeof input === 'string' ? utf8(input) : input;
  const well = readWellFormedFile(input);
  if (well) {
    assert.deepStrictEqual(well.head, readHead(input, bytes));
    // A string's UTF-8, made on the way, is `utf8`'s; the text's, when kept, too.
    assert.deepStrictEqual(well.bytes, bytes);
    if (well.textBytes) assert.deepStrictEqual(well.textBytes, utf8(well.head.text));
  }
  // The signed message kept from parsing is the text's UTF-8.
  if ('value' in fast) assert.deepStrictEqual(signedBytes(fast.value), utf8(fast.value.text));
}

const key65 = privateKeyFromSeed('ML-DSA-65', new Uint8Array(32).fill(3));
const key44 = privateKeyFromSeed('ML-DSA-44', new Uint8Array(32).fill(4));

function signed(intent: string, keys = [key65]): string {
  let mu = createReceiptText({
    fields: {
      format: 'torgo.receipt/1',
      id: '01KB4Z6Q2W3E4R5T6Y7U8I9O0P'.replace(/[IOU]/g, 'A'),
      source: 'bench-relay',
      operation: 'vitals.forward',
      subject: 'urn:torgo:subject:7',
      occurredAt: '2026-12-02T02:40:00.123Z',
      payloadDigests: [`sha256:${'ab'.repeat(32)}`],
    },
    sections: [{ name: 'Intent', lines: [intent] }],
  });
  for (const key of keys) mu = signReceipt(parseReceipt(mu), key, { deterministic: true });
  return mu;
}

const bases = [
  signed('Forward vitals batch 1.'),
  signed('Déjà vu — 日本 ✅', [key65, key44]),
  signed('unsigned'),
];
bases.push(bases[2]!.slice(0, bases[2]!.indexOf('\n\n\u2014 ') + 1)); // no signature block at all

describe('parseReceipt: the fast path against the plain definition', () => {
  it('takes the fast path for the golden vectors and the bench-like receipts, with the plain result', () => {
    const positives = names.map((n) => load<PositiveVector>(`${n}.json`));
    assert.equal(positives.length, 5);
    for (const v of positives) {
      for (const input of [utf8(v.mu), v.mu]) {
        assert.ok(readWellFormedFile(input), `${v.name}: fast path taken`);
        assertSameAsPlain(input);
      }
    }
    for (const mu of bases) {
      assert.ok(readWellFormedFile(mu), 'fast path taken (string)');
      assert.ok(readWellFormedFile(utf8(mu)), 'fast path taken (bytes)');
    }
  });

  it('verifies against the parsed text: a receipt whose text was changed after parsing does not verify', () => {
    const mu = signed('kept bytes');
    const receipt = parseReceipt(mu);
    const resolve = (id: string) => (id === key65.keyId ? key65 : undefined);
    assert.equal(verifyReceiptSignatures(receipt, resolve).length, 1);
    receipt.bytes.fill(0); // the caller's file bytes are not the kept message
    assert.equal(verifyReceiptSignatures(receipt, resolve).length, 1);
    const swapped = { ...receipt, text: parseReceipt(signed('kept bytez')).text };
    assert.notEqual(swapped.text, receipt.text);
    assert.throws(() => verifyReceiptSignatures(swapped, resolve), { code: 'E_SIGNATURE_INVALID' });
    (receipt as { text: string }).text = swapped.text;
    assert.throws(() => verifyReceiptSignatures(receipt, resolve), { code: 'E_SIGNATURE_INVALID' });
  });

  it('gives the plain outcome for every negative golden vector', () => {
    const negatives = load<NegativeVector[]>('negative.json');
    assert.ok(negatives.length >= 25);
    for (const v of negatives) {
      const mu = Buffer.from(v.muBase64, 'base64');
      assertSameAsPlain(new Uint8Array(mu));
      assertSameAsPlain(mu.toString('utf8'));
    }
  });

  it('gives the plain outcome for receipts edited at random (strings)', () => {
    // What matters to the split, canonical form, encoding and signature syntax.
    const pieces = [
      '\n',
      '\n\n',
      '\u2014 ',
      '\u2014',
      ' ',
      '\t',
      '\r',
      '=',
      'A',
      '+',
      '-',
      'f',
      '0',
      '\u00a0',
      '\u0301',
      'e\u0301',
      '\ufeff',
      '\u202e',
      '\u2028',
      '\ud800',
      '\udc00',
      '\ud83d\ude00',
      'é',
      '\u0000',
    ];
    const edit = fc.record({
      at: fc.nat(),
      del: fc.nat({ max: 3 }),
      insert: fc.array(fc.constantFrom(...pieces), { maxLength: 2 }).map((p) => p.join('')),
    });
    const mutant = fc
      .tuple(fc.constantFrom(...bases), fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([base, edits, nearSignatures]) => {
        let s = base;
        const block = Math.max(0, s.indexOf('\n\n\u2014 '));
        for (const e of edits) {
          // Half the edits land around the text / signature block boundary and the lines' heads.
          const i = nearSignatures ? (block + (e.at % 140)) % (s.length + 1) : e.at % (s.length + 1);
          s = s.slice(0, i) + e.insert + s.slice(i + e.del);
        }
        return s;
      });
    fc.assert(
      fc.property(mutant, (mu) => {
        assertSameAsPlain(mu);
        assertSameAsPlain(utf8(mu));
      }),
      { numRuns: 1500 },
    );
  });

  it('gives the plain outcome for receipts with bytes edited at random (invalid UTF-8 included)', () => {
    const edit = fc.record({
      at: fc.nat(),
      del: fc.nat({ max: 2 }),
      insert: fc.uint8Array({ maxLength: 3 }).map((b) => [...b]),
      special: fc.constantFrom(
        [],
        [0x0a],
        [0xe2, 0x80, 0x94, 0x20],
        [0xe2, 0x80],
        [0xef, 0xbb, 0xbf],
        [0xc3, 0x28],
      ),
    });
    const mutant = fc
      .tuple(fc.constantFrom(...bases), fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([base, edits, atStart]) => {
        let b = [...utf8(base)];
        for (const e of edits) {
          const i = atStart ? e.at % 4 : e.at % (b.length + 1);
          b = [...b.slice(0, i), ...e.special, ...e.insert, ...b.slice(i + e.del)];
        }
        return new Uint8Array(b);
      });
    fc.assert(
      fc.property(mutant, (bytes) => assertSameAsPlain(bytes)),
      { numRuns: 1000 },
    );
  });

  it('gives the plain outcome for reordered, repeated, re-spaced and oversized signature blocks', () => {
    const mu = bases[1]!;
    const at = mu.indexOf('\n\n\u2014 ') + 2;
    const text = mu.slice(0, at);
    const lines = mu.slice(at, -1).split('\n');
    const variants = [
      `${text}${[...lines].reverse().join('\n')}\n`, // out of order
      `${text}${lines[0]}\n${lines[0]}\n`, // the same key twice
      `${text}${Array.from({ length: 9 }, () => lines[0]).join('\n')}\n`, // over MAX_SIGNATURES
      `${text}${lines[0]!.replace(' ', '  ')}\n`, // two spaces
      `${text}${lines[0]!.toUpperCase().replace('\u2014', '\u2014')}\n`, // upper-case key id
      `${text}${lines[0]}\n\n${lines[1]}\n`, // an empty line inside the block
      `${text}${lines[0]}`, // no final LF
      `${text}${lines[0]} \n`, // trailing space
      `${text}${lines[0]!.slice(0, -4)}\n`, // a signature of the wrong length
      `${text.slice(0, -1)}${lines[0]}\n`, // no empty line before the block
      `${lines[0]}\n${mu}`, // a signature line first
      `${text}${'x'.repeat(100_000)}\n`, // too large
    ];
    for (const v of variants) {
      assertSameAsPlain(v);
      assertSameAsPlain(utf8(v));
    }
  });
});
