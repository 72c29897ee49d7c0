/**
 * Parse once per append: a parse handed over (core/receipt/handoff.ts) is what parsing would give,
 * is taken only by an equal text and only once, never holds a failure, and stays bounded.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseReceipt, ReceiptHandOff, utf8 } from '../../../core/index.js';
import type { PositiveVector } from '../../vectors/receipt-vectors.js';

const dir = join(import.meta.dirname, '..', '..', '..', '..', 'test', 'vectors', 'receipts');
const mus = ['minimal', 'ml-dsa-44', 'multi-signature', 'rich-body'].map(
  (n) => (JSON.parse(readFileSync(join(dir, `${n}.json`), 'utf8')) as PositiveVector).mu,
);

test('a handed-over parse is what parseReceipt gives, frozen, and is taken once', () => {
  const store = new ReceiptHandOff();
  for (const mu of mus) {
    const plain = parseReceipt(mu);
    const given = parseReceipt(utf8(mu)); // the gateway parses the request body's bytes
    store.give(mu, given);
    const taken = store.parse(mu);
    assert.equal(taken, given, 'the contract parse takes the handed-over object');
    assert.deepEqual(taken, plain);
    assert.ok(Object.isFrozen(taken) && Object.isFrozen(taken.signatures));
    assert.ok(Object.isFrozen(taken.document.fields) && Object.isFrozen(taken.document.sections));
    assert.equal(store.size, 0, 'taken entries are removed');
    const again = store.parse(mu);
    assert.notEqual(again, given, 'a second parse of the same text parses');
    assert.deepEqual(again, plain);
  }
});

test('only an equal text takes a handed-over parse; a failing text still fails', () => {
  const store = new ReceiptHandOff();
  const mu = mus[0]!;
  store.give(mu, parseReceipt(mu));
  assert.equal(store.take(`${mu}\n`), undefined);
  assert.equal(store.take(mu.replace('a', 'b')), undefined);
  assert.equal(store.size, 1);
  assert.ok(store.take(mu));
  // A lone surrogate encodes to the same bytes as U+FFFD: the hand-over compares texts, not bytes.
  const withReplacement = mu.replace('\n', '\uFFFD\n');
  const withSurrogate = mu.replace('\n', '\uD800\n');
  assert.deepEqual(utf8(withReplacement), utf8(withSurrogate));
  store.give(withReplacement, parseReceipt(mus[1]!)); // (a wrong parse, to tell them apart)
  assert.throws(() => store.parse(withSurrogate), { name: 'CoreError' });
  assert.ok(store.take(withReplacement), 'the other text did not take it');
});

test('the hand-over is bounded by entries and by text length, oldest first', () => {
  const parsed = mus.map((mu) => parseReceipt(mu));
  const byCount = new ReceiptHandOff(2, 1 << 20);
  for (const [i, mu] of mus.entries()) byCount.give(mu, parsed[i]!);
  assert.equal(byCount.size, 2);
  assert.equal(byCount.take(mus[0]!), undefined, 'the oldest went first');
  assert.ok(byCount.take(mus[mus.length - 1]!));
  const longest = Math.max(...mus.map((m) => m.length));
  const byUnits = new ReceiptHandOff(100, longest + 1);
  for (const [i, mu] of mus.entries()) byUnits.give(mu, parsed[i]!);
  assert.equal(byUnits.size, 1, 'two texts never fit in one text of room');
  const tooLong = new ReceiptHandOff(100, 10);
  tooLong.give(mus[0]!, parsed[0]!);
  assert.equal(tooLong.size, 0);
});

test('texts that share a fingerprint (length and end) never take each other’s parse', () => {
  const store = new ReceiptHandOff();
  const mu = mus[0]!;
  const other = `X${mu.slice(1)}`; // same length, same end
  assert.equal(other.length, mu.length);
  assert.notEqual(other, mu);
  store.give(mu, parseReceipt(mu));
  store.give(other, parseReceipt(mus[1]!)); // (not kept: the slot is taken)
  assert.equal(store.size, 1);
  assert.equal(store.take(other), undefined, 'an equal fingerprint is not an equal text');
  assert.throws(() => store.parse(other), { name: 'CoreError' }, 'the other text is parsed (and fails)');
  const taken = store.take(mu);
  assert.ok(taken);
  assert.deepEqual(taken, parseReceipt(mu));
});
