import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Arrivals } from '../../engine/arrivals.js';

/** `creator` sent at each of `times` (ms), each transaction leaving the committer before the next. */
function rhythm(arrivals: Arrivals, creator: string, times: readonly number[]): void {
  for (const at of times) {
    arrivals.arrived(creator, at);
    arrivals.left(creator);
  }
}

test('a creator seen once has no rhythm and is not expected', () => {
  const a = new Arrivals();
  rhythm(a, 'x', [0]);
  assert.equal(a.expectedBy(1_000_000, 1), false);
});

test('a creator is expected when its next transaction is due by the deadline, not after it, and not once overdue', () => {
  const a = new Arrivals();
  rhythm(a, 'x', [0, 50, 100]); // mean gap 50: next due at 150
  assert.equal(a.expectedBy(160, 140), true);
  assert.equal(a.expectedBy(149, 140), false, 'due after the deadline');
  assert.equal(a.expectedBy(260, 250), false, 'overdue by more than a mean gap: it stopped');
});

test('a client with its one transaction in the committer is not expected; one with several in flight is', () => {
  const a = new Arrivals();
  rhythm(a, 'one', [0, 10, 20]);
  a.arrived('one', 30);
  assert.equal(a.expectedBy(100, 31), false, 'its only transaction is in the committer');
  a.left('one');
  assert.equal(a.expectedBy(100, 31), true, 'written: it may send the next');

  const b = new Arrivals();
  rhythm(b, 'many', [0, 10]);
  b.arrived('many', 20);
  b.arrived('many', 21); // two at once: a client with several requests in flight
  b.left('many');
  assert.equal(b.expectedBy(100, 22), true, 'one of its two in the committer: another may come');
});

test('dueBy: by the rhythm alone, whatever the creator has in flight', () => {
  const a = new Arrivals();
  rhythm(a, 'x', [0, 50, 100]); // mean gap 50: next due at 150
  a.arrived('x', 150);
  a.arrived('x', 151); // mean gap ~40 now; both in flight (expects would say no: at its peak)
  assert.equal(a.expects('x', 200, 151), false, 'at its peak of transactions in flight');
  assert.equal(a.dueBy('x', 200, 151), true, 'its next is due by 200 all the same');
  assert.equal(a.dueBy('x', 160, 151), false, 'not due within 9 ms');
  assert.equal(a.dueBy('x', 1000, 900), false, 'overdue by more than a mean gap: it stopped');
  assert.equal(a.dueBy('unknown', 1000, 0), false, 'a creator never seen is not due');
});
