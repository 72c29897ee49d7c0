/** The stub's client-side logic against fabric-shim 2.5.8's own ChaincodeStub, on random input. */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ChaincodeStub } from 'fabric-shim-api';
import { shimInternals } from '../../chaincode/fabric-internals.js';
import { EmbeddedStub } from '../../engine/stub.js';

const RealStub = shimInternals().ChaincodeStub as { prototype: ChaincodeStub };
const real = RealStub.prototype;
// Only the pure methods are exercised: they use neither the stub's state nor its constructor arguments.
const ours = Object.create(EmbeddedStub.prototype) as EmbeddedStub;

function outcome<T>(f: () => T): { value: T } | { error: string } {
  try {
    return { value: f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const keyPart = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '\u0000', 'a\u0000b'),
);

test('createCompositeKey and splitCompositeKey match fabric-shim', () => {
  fc.assert(
    fc.property(keyPart, fc.array(keyPart, { maxLength: 4 }), (objectType, attributes) => {
      const expected = outcome(() => real.createCompositeKey.call({}, objectType, attributes));
      assert.deepEqual(
        outcome(() => ours.createCompositeKey(objectType, attributes)),
        expected,
      );
      if ('value' in expected) {
        assert.deepEqual(
          ours.splitCompositeKey(expected.value),
          real.splitCompositeKey.call({}, expected.value),
        );
      }
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (key) => {
      assert.deepEqual(ours.splitCompositeKey(key), real.splitCompositeKey.call({}, key));
    }),
  );
});

test('range bounds in the composite-key namespace are refused with the shim message', async () => {
  for (const [start, end] of [
    ['\u0000a', 'b'],
    ['a', '\u0000b'],
  ] as const) {
    const expected = await real.getStateByRange.call({}, start, end).then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    const actual = await ours.getStateByRange(start, end).then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    assert.equal(actual, expected);
    assert.match(actual, /contains a null character which is not allowed/);
  }
});
