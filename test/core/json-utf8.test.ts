/**
 * The byte-wise JSON string escaper (core/json-utf8.ts) against its definition, utf8(JSON.stringify(text)):
 * strings dense in what JSON and UTF-8 treat specially, every alignment of the bytes in their buffer,
 * every ASCII character, real receipts. A lone surrogate is what the byte-wise path cannot represent:
 * `isWellFormedUtf16` must say so exactly.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { escapeJsonUtf8, isWellFormedUtf16 } from '../../core/json-utf8.js';
import { makeReceipts, signTexts } from '../../bench/receipts.js';
import { isWellFormed, trickyString } from './tricky-strings.js';

const definition = (text: string): Buffer => Buffer.from(JSON.stringify(text).slice(1, -1), 'utf8');

/** `text`'s UTF-8 placed `offset` bytes into a larger buffer (the escaper reads it four bytes at a time). */
function bytesAt(text: string, offset: number): Uint8Array {
  const encoded = Buffer.from(text, 'utf8');
  const room = new Uint8Array(offset + encoded.length + 3).fill(0x22);
  room.set(encoded, offset);
  return room.subarray(offset, offset + encoded.length);
}

it('escapeJsonUtf8 gives utf8(JSON.stringify(text)) for every well-formed text, at every alignment', () => {
  fc.assert(
    fc.property(trickyString.filter(isWellFormed), fc.integer({ min: 0, max: 7 }), (text, offset) => {
      assert.deepEqual(Buffer.from(escapeJsonUtf8(bytesAt(text, offset))), definition(text));
    }),
    { numRuns: 3000 },
  );
});

it('escapeJsonUtf8 escapes every ASCII character as JSON.stringify does, alone and between others', () => {
  for (let c = 0; c < 0x80; c++) {
    const ch = String.fromCharCode(c);
    for (const text of [ch, `ab${ch}`, `${ch}xyzw${ch}${ch}—${ch}`, `${'q'.repeat(13)}${ch}é`]) {
      for (let offset = 0; offset < 4; offset++) {
        assert.deepEqual(Buffer.from(escapeJsonUtf8(bytesAt(text, offset))), definition(text), `U+${c}`);
      }
    }
  }
});

it('escapeJsonUtf8 returns the bytes themselves when nothing needs escaping, and handles empty input', () => {
  const bytes = Buffer.from('no escapes — here 😀', 'utf8');
  assert.equal(escapeJsonUtf8(bytes), bytes);
  assert.equal(escapeJsonUtf8(new Uint8Array(0)).length, 0);
});

it('escapeJsonUtf8 gives the definition on real signed receipts', async () => {
  for (const text of await signTexts(makeReceipts(3))) {
    assert.match(text, /—/, 'a signed receipt holds a non-ASCII character');
    assert.deepEqual(Buffer.from(escapeJsonUtf8(Buffer.from(text, 'utf8'))), definition(text));
  }
});

it('isWellFormedUtf16 says exactly whether a text has a lone surrogate, U+FFFD or not', () => {
  fc.assert(
    fc.property(trickyString, (text) => {
      assert.equal(isWellFormedUtf16(text, Buffer.from(text, 'utf8')), isWellFormed(text));
    }),
    { numRuns: 3000 },
  );
  for (const text of ['\ufffd', 'a\ud800', '\udfff\ufffd', '\ud83d\ude00\ufffd', '\ude00\ud83d', '']) {
    assert.equal(
      isWellFormedUtf16(text, Buffer.from(text, 'utf8')),
      isWellFormed(text),
      JSON.stringify(text),
    );
  }
});
