/**
 * The byte-wise JSON string escaper (core/json-utf8.ts) against its definition, utf8(JSON.stringify(text)):
 * strings dense in what JSON and UTF-8 treat specially (lone surrogates and U+FFFD included), every
 * alignment of the bytes in their buffer, every ASCII character, real receipts.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { jsonEscapedUtf8 } from '../../core/json-utf8.js';
import { makeReceipts, signTexts } from '../../bench/receipts.js';
import { trickyString } from './tricky-strings.js';

const definition = (text: string): Buffer => Buffer.from(JSON.stringify(text).slice(1, -1), 'utf8');

/** `text`'s UTF-8 placed `offset` bytes into a larger buffer (the escaper reads it four bytes at a time). */
function bytesAt(text: string, offset: number): Uint8Array {
  const encoded = Buffer.from(text, 'utf8');
  const room = new Uint8Array(offset + encoded.length + 3).fill(0x22);
  room.set(encoded, offset);
  return room.subarray(offset, offset + encoded.length);
}

const escaped = (text: string, offset = 0): Buffer =>
  Buffer.from(jsonEscapedUtf8(text, bytesAt(text, offset)));

it('jsonEscapedUtf8 gives utf8(JSON.stringify(text)) for every text, at every alignment', () => {
  fc.assert(
    fc.property(trickyString, fc.integer({ min: 0, max: 7 }), (text, offset) => {
      assert.deepEqual(escaped(text, offset), definition(text));
    }),
    { numRuns: 5000 },
  );
});

it('jsonEscapedUtf8 escapes every ASCII character as JSON.stringify does, alone and between others', () => {
  for (let c = 0; c < 0x80; c++) {
    const ch = String.fromCharCode(c);
    for (const text of [ch, `ab${ch}`, `${ch}xyzw${ch}${ch}—${ch}`, `${'q'.repeat(13)}${ch}é`]) {
      for (let offset = 0; offset < 4; offset++)
        assert.deepEqual(escaped(text, offset), definition(text), `U+${c}`);
    }
  }
});

it('jsonEscapedUtf8 tells a lone surrogate from U+FFFD, wherever either falls in a word', () => {
  for (const special of ['\ufffd', '\ud800', '\udfff', '\ud83d\ude00', '\ude00\ud83d', '\ufffd\ud800']) {
    for (let at = 0; at < 6; at++) {
      const text = `${'x'.repeat(at)}${special}${'"'.repeat(at % 2)}yz`;
      for (let offset = 0; offset < 4; offset++) {
        assert.deepEqual(escaped(text, offset), definition(text), JSON.stringify(text));
      }
    }
  }
});

it('jsonEscapedUtf8 returns the bytes themselves when nothing needs escaping, and handles empty input', () => {
  const bytes = Buffer.from('no escapes — here 😀 \ufffd', 'utf8');
  assert.equal(jsonEscapedUtf8('no escapes — here 😀 \ufffd', bytes), bytes);
  assert.equal(jsonEscapedUtf8('', new Uint8Array(0)).length, 0);
});

it('jsonEscapedUtf8 gives the definition on real signed receipts', async () => {
  for (const text of await signTexts(makeReceipts(3))) {
    assert.match(text, /—/, 'a signed receipt holds a non-ASCII character');
    assert.deepEqual(Buffer.from(jsonEscapedUtf8(text, Buffer.from(text, 'utf8'))), definition(text));
  }
});
