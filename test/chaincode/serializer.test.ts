/** The contract's serializer: bytes handed over for a string go on the wire as they are; all else is stock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSONSerializer } from 'fabric-contract-api';
import { ByteParts } from '../../chaincode/bytes.js';
import { serializers, TransactionSerializer } from '../../chaincode/serializer.js';

describe('TransactionSerializer', () => {
  const ours = new TransactionSerializer();
  const stock = new JSONSerializer();

  it('sends a string’s UTF-8 bytes, given as bytes, exactly as the stock serializer sends the string', () => {
    const text = '{"mu":"— é \\n ok","n":1}';
    const bytes = new TextEncoder().encode(text);
    assert.deepEqual(ours.toBuffer(bytes, undefined), stock.toBuffer(text, {}));
    // A view into a larger buffer: only its own bytes.
    const backing = new Uint8Array(bytes.length + 4).fill(0x78);
    backing.set(bytes, 2);
    assert.deepEqual(ours.toBuffer(backing.subarray(2, 2 + bytes.length), {}), Buffer.from(text));
    assert.deepEqual(ours.toBuffer(Buffer.from(backing.buffer, 2, bytes.length), {}), Buffer.from(text));
  });

  it('sends an answer in parts as their concatenation: one buffer, as a peer must', () => {
    const text = '{"bookmark":"","receipts":[{"mu":"— é"},{"mu":"x"}]}';
    const bytes = Buffer.from(text);
    const backing = Buffer.concat([Buffer.from('zz'), bytes, Buffer.from('zz')]);
    const parts = new ByteParts([
      backing.subarray(2, 10),
      new Uint8Array(0),
      backing.subarray(10, 30),
      new Uint8Array(backing.subarray(30, 2 + bytes.length)),
    ]);
    assert.equal(parts.byteLength, bytes.length);
    const sent = ours.toBuffer(parts, undefined);
    assert.ok(Buffer.isBuffer(sent));
    assert.deepEqual(sent, stock.toBuffer(text, {}));
  });

  it('serialises everything else as the stock serializer does', () => {
    for (const [value, schema] of [
      ['plain', {}],
      [42, {}],
      [true, {}],
      [{ b: 1, a: [1, 'x'] }, {}],
      ['typed', { type: 'string' }],
      [undefined, {}],
      [null, {}],
    ] as const) {
      assert.deepEqual(ours.toBuffer(value, schema), stock.toBuffer(value, schema));
    }
    assert.throws(() => ours.toBuffer(1, { type: 'string' }), /does not match schema type of string/);
  });

  it('is the transaction serializer the package exports', () => {
    assert.equal(
      serializers.serializers[serializers.transaction as 'transactionSerializer'],
      TransactionSerializer,
    );
  });
});
