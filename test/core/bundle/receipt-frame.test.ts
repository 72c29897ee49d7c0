/**
 * `readReceiptFrame` and `checkReceiptFrame` (core/bundle/frames.ts): a receipt line read from its bytes,
 * its `.mu` never built as a string, must be the plain reading of the line — `parseBundleLine` of its
 * strict UTF-8 decode, the `mu` as UTF-8 — whenever it answers, and the check of every line must equal
 * `checkReceiptFramePlain`'s, on clean lines and on edits aimed at what the fast reading relies on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  checkReceiptFrame,
  checkReceiptFramePlain,
  readMuString,
  readReceiptFrame,
} from '../../../core/bundle/frames.js';
import { parseBundleLine, type ReceiptLine } from '../../../core/bundle/format.js';
import type { ReceiptCheckContext } from '../../../core/bundle/steps/receipts.js';
import { inThreadChecker, parseReceipt, utf8, verifyBundleBytes } from '../../../core/index.js';
import {
  buildLog,
  type LogFixture,
  longerBundle,
  operatorTrust as trusted,
} from '../../gateway/logbuilder/fixture.js';
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The plain reading of a line: its parsed JSON, or undefined when that throws. */
function plainLine(bytes: Uint8Array): ReceiptLine | undefined {
  try {
    const line = parseBundleLine(strict.decode(bytes), 7);
    return line.type === 'receipt' ? line : undefined;
  } catch {
    return undefined;
  }
}

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

const text = (t: string): Uint8Array => utf8(t);
const raw = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('a receipt line read from its bytes', () => {
  let f: LogFixture;
  let lines: Uint8Array[];
  let context: ReceiptCheckContext;
  before(async () => {
    f = await buildLog();
    const bundle = await longerBundle(f, 6);
    const all = bundle.trimEnd().split('\n');
    lines = all.filter((l) => l.startsWith('{"type":"receipt"')).map((l) => utf8(l));
    const plain = inThreadChecker();
    await verifyBundleBytes(
      (async function* () {
        yield utf8(bundle);
      })(),
      {
        trusted,
        checker: {
          check: plain.check,
          async checkFrames(batch, c) {
            context ??= c;
            return plain.checkFrames!(batch, c);
          },
        },
      },
    );
    assert.ok(context, 'the bundle has batched receipt lines');
  });
  after(async () => {
    await f.close();
  });

  /**
   * Requires the fast reading to be the plain one when it answers (but for a raw control character in
   * the .mu string: the parse refuses those), and the checks to agree; true if it answered.
   */
  function same(bytes: Uint8Array, why: string): boolean {
    const frame = readReceiptFrame(bytes, 7);
    const plain = plainLine(bytes);
    if (frame && !plain) {
      // Only a raw control character inside the string does that, and the .mu parse refuses it.
      assert.throws(() => parseReceipt(frame.mu), `${why}: read fast, not JSON, and the .mu parses`);
    } else if (frame && plain) {
      const { mu, ...head } = plain;
      assert.deepStrictEqual(frame.line, head, why);
      assert.deepStrictEqual(frame.mu, utf8(mu), why);
    }
    assert.deepStrictEqual(
      checkReceiptFrame(bytes, 7, { ...context }),
      checkReceiptFramePlain(bytes, 7, { ...context }),
      why,
    );
    return frame !== undefined;
  }

  /** Where the `.mu` string's content starts in a line, and where its closing quote is. */
  const muSpan = (l: Uint8Array): [number, number] => [Buffer.from(l).indexOf(',"mu":"') + 7, l.length - 2];

  it('every clean line is read fast and checks as plainly (valid)', () => {
    for (const l of lines) {
      assert.ok(same(l, 'clean'), 'the exporter writes lines the fast reading takes');
      const r = checkReceiptFrame(l, 7, { ...context });
      assert.ok(r && !r.check.failure, 'a clean line is valid');
    }
  });

  it('edits aimed at the JSON around and inside the .mu string: the plain reading, or declined', () => {
    const l = lines[1]!;
    const [start, end] = muSpan(l);
    const mid = start + 40;
    const edits: [string, Uint8Array][] = [
      ['a raw TAB inside mu', splice(l, mid, 0, raw(9))],
      ['a raw quote inside mu', splice(l, mid, 0, text('"'))],
      ['an escaped quote inside mu', splice(l, mid, 0, text('\\"'))],
      ['an escaped backslash inside mu', splice(l, mid, 0, text('\\\\'))],
      ['a \\t escape', splice(l, mid, 0, text('\\t'))],
      ['a \\u0041 escape', splice(l, mid, 0, text('\\u0041'))],
      ['a \\/ escape', splice(l, mid, 0, text('\\/'))],
      ['a lone surrogate escape', splice(l, mid, 0, text('\\ud800'))],
      ['a backslash before the closing quote', splice(l, end, 0, text('\\'))],
      ['an unknown escape', splice(l, mid, 0, text('\\q'))],
      ['invalid UTF-8 inside mu', splice(l, mid, 0, raw(0xff))],
      ['a cut UTF-8 sequence inside mu', splice(l, mid, 0, raw(0xe2, 0x80))],
      ['a BOM inside mu', splice(l, mid, 0, raw(0xef, 0xbb, 0xbf))],
      ['a BOM at the start of mu', splice(l, start, 0, raw(0xef, 0xbb, 0xbf))],
      ['a BOM before the line', splice(l, 0, 0, raw(0xef, 0xbb, 0xbf))],
      ['white space after the object', splice(l, l.length, 0, text(' '))],
      ['white space before the value', splice(l, start - 1, 0, text(' '))],
      ['an empty mu', splice(l, start, end - start, text(''))],
      ['mu the escaped text of nothing', splice(l, start, end - start, text('\\n'))],
      ['a second mu before it', splice(l, 1, 0, text('"mu":"x",'))],
      ['a key ending in "mu"', splice(l, start - 6, 0, text('"x\\'))],
      ['a field after mu', splice(l, l.length - 1, 0, text(',"z":1'))],
      ['the line ending inside a nested object', splice(l, l.length - 1, 1, text('"}}'))],
      ['no closing brace', l.subarray(0, l.length - 1)],
      [
        'a link line with a mu',
        text(new TextDecoder().decode(l).replace('"type":"receipt"', '"type":"link"')),
      ],
      [
        'the em dash of the signature line escaped',
        text(new TextDecoder().decode(l).replace('\\n—', '\\n\\u2014')),
      ],
      ['the mirrored text changed', text(new TextDecoder().decode(l).replace('hctab', 'hctaB'))],
      ['a signature letter changed', splice(l, end - 10, 1, text(l[end - 10] === 0x41 ? 'B' : 'A'))],
    ];
    let fast = 0;
    for (const [why, bytes] of edits) if (same(bytes, why)) fast++;
    assert.ok(fast >= 4 && fast < edits.length, `${fast} of ${edits.length} read fast: both paths reached`);
  });

  it('random bytes and tokens spliced anywhere in a line: the plain reading, or declined', () => {
    const token = fc.constantFrom(
      '"',
      '\\',
      '\\n',
      '\\"',
      '\\\\',
      ',"mu":"',
      '"mu":"',
      '}',
      '{',
      ' ',
      '\t',
      '—',
      '\u0000',
      'é',
      '\\u0022',
    );
    const insert = fc.oneof(
      token.map((t) => utf8(t)),
      fc.uint8Array({ minLength: 1, maxLength: 3 }),
    );
    let fast = 0;
    fc.assert(
      fc.property(
        fc.nat(lines.length - 1),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat(2),
        insert,
        (k, where, remove, bytes) => {
          // A line never holds an LF (the framing splits there).
          if (bytes.includes(0x0a)) return;
          const l = lines[k]!;
          // Half of the edits land inside the .mu string, where the fast reading works.
          const [start, end] = muSpan(l);
          const at =
            where < 0.5
              ? Math.floor(where * 2 * l.length)
              : start + Math.floor((where - 0.5) * 2 * (end - start));
          if (same(splice(l, at, Math.min(remove, l.length - at), bytes), `line ${k}, ${at}`)) fast++;
        },
      ),
      { numRuns: 600 },
    );
    // Both paths reached. 600 random edits read 18–33 fast (12 runs): a bound of 20 failed ~1 run in 7;
    // what a fast reading answers is held to the plain one above whatever the count.
    assert.ok(fast >= 5, `${fast} edited lines read fast`);
  });

  it('readMuString: the escapes resolved, or undefined for a raw quote, another escape or an escape at the end', () => {
    const s = (t: string) => {
      const b = utf8(`${t}"`);
      return readMuString(b, 0, b.length - 1);
    };
    assert.deepStrictEqual(s('a\\nb\\"c\\\\d—'), utf8('a\nb"c\\d—'));
    assert.deepStrictEqual(s(''), new Uint8Array(0));
    assert.equal(s('a"b'), undefined);
    assert.equal(s('a\\tb'), undefined);
    assert.equal(s('a\\u0041'), undefined);
    assert.equal(s('a\\'), undefined);
    assert.deepStrictEqual(s('\\"\\"x'), utf8('""x'), 'escaped quotes one after another');
  });
});
