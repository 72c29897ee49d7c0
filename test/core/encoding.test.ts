/** The fast canonical base64 decoder against @scure/base, the reference it must never disagree with. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { base64 } from '@scure/base';
import fc from 'fast-check';
import { CoreError, decodeCanonicalBase64, fromBase64, utf8 } from '../../core/index.js';
import * as nodePlatform from '../../core/crypto/platform/node.js';
import * as portablePlatform from '../../core/crypto/platform/portable.js';

function reference(text: string): Uint8Array | Error {
  try {
    return base64.decode(text);
  } catch (e) {
    return e as Error;
  }
}

it('decodeCanonicalBase64 accepts only what @scure/base accepts, with the same bytes', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const nearBase64 = fc.oneof(
    fc.uint8Array({ maxLength: 40 }).map((b) => base64.encode(b)),
    fc
      .tuple(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.constantFrom(...`${alphabet}=-_ \n\u00e9\u0100\ud800`),
      )
      .map(([b, at, c]) => {
        const s = base64.encode(b);
        const i = at % s.length;
        return s.slice(0, i) + c + s.slice(i + 1);
      }),
    fc.string({ unit: fc.constantFrom(...`${alphabet}=`), maxLength: 12 }),
    fc.uint8Array({ maxLength: 40 }).map((b) => base64.encode(b).replace(/=+$/, '')),
  );
  fc.assert(
    fc.property(nearBase64, (text) => {
      const fast = decodeCanonicalBase64(text);
      const ref = reference(text);
      if (fast) assert.deepEqual(fast, ref, JSON.stringify(text));
      const viaCore = (() => {
        try {
          return fromBase64(text, 'E_SIGNATURE_SYNTAX', 'x');
        } catch (e) {
          return e as Error;
        }
      })();
      if (ref instanceof Error) {
        assert.ok(viaCore instanceof CoreError, JSON.stringify(text));
        assert.equal(viaCore.message, `x is not canonical base64 (${ref.message})`);
      } else assert.deepEqual(viaCore, ref);
    }),
    { numRuns: 20000 },
  );
  // Every pad-bit pattern of the last quantum.
  for (let v = 0; v < 64; v++) {
    const c = alphabet[v]!;
    for (const text of [`QU${c}=`, `Q${c}==`]) {
      const fast = decodeCanonicalBase64(text);
      const ref = reference(text);
      assert.equal(fast !== undefined, !(ref instanceof Error), text);
      if (fast) assert.deepEqual(fast, ref);
    }
  }
});

it("each platform's decodeBase64Canonical gives @scure/base's bytes for canonical text and undefined for anything else", () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const mutated = fc
    .tuple(
      fc.uint8Array({ minLength: 1, maxLength: 4700 }),
      fc.nat(),
      fc.constantFrom(...`${alphabet}=-_ \t\n\r.\u00e9\u0100\ud800\u2014`),
      fc.constantFrom('replace', 'insert', 'delete'),
    )
    .map(([b, at, c, how]) => {
      const s = base64.encode(b);
      const i = at % s.length;
      return s.slice(0, i) + (how === 'delete' ? '' : c) + s.slice(how === 'insert' ? i : i + 1);
    });
  const text = fc.oneof(
    fc.uint8Array({ maxLength: 4700 }).map((b) => base64.encode(b)),
    mutated,
    fc.uint8Array({ maxLength: 40 }).map((b) => base64.encode(b).replace(/=+$/, '')),
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64url')),
    fc.string({ unit: fc.constantFrom(...`${alphabet}=`), maxLength: 12 }),
  );
  let accepted = 0;
  fc.assert(
    fc.property(text, (t) => {
      const ref = reference(t);
      for (const platform of [nodePlatform, portablePlatform]) {
        const got = platform.decodeBase64Canonical(t);
        if (ref instanceof Error) assert.equal(got, undefined, JSON.stringify(t));
        else {
          assert.deepEqual(got, ref);
          assert.equal(got!.byteOffset, 0, 'owns its buffer');
          assert.equal(got!.buffer.byteLength, got!.length, 'owns its buffer');
        }
      }
      if (!(ref instanceof Error)) accepted++;
    }),
    { numRuns: 5000 },
  );
  assert.ok(accepted > 1000, `${accepted} canonical texts among 5000`);
});

it("utf8 gives TextEncoder's bytes (lone surrogates as U+FFFD), in an array of its own, at every length", () => {
  const encoder = new TextEncoder();
  const unit = fc.oneof(
    fc.constantFrom('a', '\n', '\u2014', 'é', '日', '\ud800', '\udc00', '\ud83d\ude00', '\u0000'),
    fc.string({ unit: 'binary', maxLength: 3 }),
  );
  const text = fc.oneof(
    fc.array(unit, { maxLength: 200 }).map((u) => u.join('')),
    // Around the scratch buffer's bound (32,768 units at 3 bytes each).
    fc
      .tuple(fc.integer({ min: 32_700, max: 32_800 }), fc.constantFrom('x', '\u2014', '\ud800'))
      .map(([n, c]) => c.repeat(n)),
  );
  fc.assert(
    fc.property(text, (t) => {
      const got = utf8(t);
      assert.deepEqual(got, encoder.encode(t));
      assert.equal(got.byteOffset, 0);
      assert.equal(got.buffer.byteLength, got.length);
    }),
    { numRuns: 500 },
  );
  const a = utf8('first');
  utf8('second');
  assert.deepEqual(a, encoder.encode('first'), 'an earlier result is not overwritten');
});

it("each platform's writeAscii writes a string's UTF-8 exactly when it is ASCII, and indexOfByte finds what indexOf finds", () => {
  // Units whose low byte is an ASCII letter or digit (U+0141 "Ł" is 0x41 "A" truncated), Latin-1, "—".
  const unit = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...'AZaz09+/= -\n'.split('')) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '\u0141',
        '\u0130',
        '\u00c1',
        '\u0080',
        '\u007f',
        '\u2014',
        '\ud841',
        '\uff21',
      ),
    },
  );
  const text = fc.array(unit, { maxLength: 300 }).map((u) => u.join(''));
  let ascii = 0;
  fc.assert(
    fc.property(text, fc.nat({ max: 8 }), (t, at) => {
      const isAscii = [...t].every((c) => c.charCodeAt(0) < 0x80);
      for (const platform of [nodePlatform, portablePlatform]) {
        const out = new Uint8Array(at + t.length + 3).fill(0xee);
        const got = platform.writeAscii(t, out.subarray(1), at);
        if (!isAscii) {
          assert.equal(got, undefined, JSON.stringify(t));
          continue;
        }
        assert.equal(got, t);
        assert.deepEqual(out.subarray(1 + at, 1 + at + t.length), utf8(t));
        assert.equal(out[0], 0xee, 'nothing written before the view');
        assert.equal(out[1 + at + t.length], 0xee, 'nothing written past the text');
        const bytes = utf8(t);
        for (const from of [0, at, t.length]) {
          assert.equal(platform.indexOfByte(bytes, 0x0a, from), bytes.indexOf(0x0a, from));
        }
      }
      if (isAscii) ascii++;
    }),
    { numRuns: 2000 },
  );
  assert.ok(ascii > 100, `${ascii} ASCII texts among 2000`);
  const short = new Uint8Array(4);
  assert.equal(nodePlatform.writeAscii('abcde', short, 0), undefined, 'no room: not written in full');
});

it("each platform's isUtf8 says what a fatal TextDecoder says, on random bytes and on UTF-8 with one byte changed", () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const decodes = (b: Uint8Array) => {
    try {
      fatal.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  // Valid UTF-8 (surrogate-free strings, "—", 4-byte characters), then maybe one byte set to anything.
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc
      .tuple(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.nat(), fc.integer({ min: -1, max: 255 }))
      .map(([s, at, b]) => {
        const u = utf8(`${s}—\u{1F600}`);
        if (b >= 0) u[at % u.length] = b;
        return u;
      }),
  );
  let valid = 0;
  fc.assert(
    fc.property(bytes, (b) => {
      const want = decodes(b);
      if (want) valid++;
      assert.equal(nodePlatform.isUtf8(b), want);
      assert.equal(portablePlatform.isUtf8(b), want);
    }),
    { numRuns: 3000 },
  );
  assert.ok(valid > 300 && valid < 2900, `${valid} of 3000 valid: both answers reached`);
  assert.equal(
    nodePlatform.isUtf8(Uint8Array.of(0xed, 0xa0, 0x80)),
    false,
    'an encoded surrogate is not UTF-8',
  );
  assert.equal(nodePlatform.isUtf8(Uint8Array.of(0xc0, 0xaf)), false, 'an overlong form is not UTF-8');
});
