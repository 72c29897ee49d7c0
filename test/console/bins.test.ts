/** Timeline buckets: readable widths, every point counted once, per source. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { binPoints, STEPS } from '../../console/src/bins.js';

test('points fall in buckets of a readable width, counted per source', () => {
  const t0 = Date.parse('2026-11-25T13:00:00Z');
  const b = binPoints(
    [
      { source: 'b', at: t0 },
      { source: 'a', at: t0 + 30_000 },
      { source: 'a', at: t0 + 90 * 60_000 },
    ],
    48,
  );
  assert.equal(b.step, 5 * 60_000);
  assert.deepEqual(b.sources, ['a', 'b']);
  assert.equal(b.start, t0);
  assert.deepEqual(b.counts[0], [1, 1]);
  assert.deepEqual(b.counts[18], [1, 0]);
  assert.equal(b.max, 2);
  assert.deepEqual(binPoints([], 48).counts, []);
});

test('property: no more buckets than asked (within the widest step), nothing lost', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ source: fc.constantFrom('x', 'y', 'z'), at: fc.integer({ min: 0, max: 4e11 }) }), {
        minLength: 1,
        maxLength: 200,
      }),
      fc.integer({ min: 4, max: 100 }),
      (points, maxBins) => {
        const b = binPoints(points, maxBins);
        const total = b.counts.flat().reduce((x, y) => x + y, 0);
        assert.equal(total, points.length);
        if (b.step !== STEPS[STEPS.length - 1]) assert.ok(b.counts.length <= maxBins);
      },
    ),
  );
});
