/** Transaction-level conventions: getInfo, unknown transactions, INTERNAL for corrupt state. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type Cast,
  json,
  LEDGERS,
  openCast,
  register,
  rejectsWith,
  signedReceipt,
  testKey,
} from './ledger.js';
import type { MemoryLedger } from './memory-ledger.js';

for (const kind of LEDGERS) {
  describe(`contract conventions (${kind})`, () => {
    let cast: Cast;
    before(async () => {
      cast = await openCast(kind);
    });
    after(() => cast.ledger.close());

    it('getInfo answers anyone with the limits callers size batches and pages by', async () => {
      const info = json<{ contract: string; limits: Record<string, number> }>(
        await cast.ledger.evaluate(cast.nobody, 'getInfo'),
      );
      assert.equal(info.contract, 'AuditContract');
      assert.deepEqual(info.limits, {
        maxBatchBytes: 4 * 1024 * 1024,
        maxBatchItems: 100,
        maxCheckpointNoteBytes: 256 * 1024,
        maxPageBytes: 2 * 1024 * 1024,
        maxPageSize: 100,
      });
    });

    it('an unknown transaction is BAD_REQUEST; contract-qualified names work', async () => {
      await rejectsWith(
        cast.ledger.evaluate(cast.auditor, 'deleteEverything'),
        'BAD_REQUEST',
        /unknown transaction/,
      );
      const info = json<{ contract: string }>(
        await cast.ledger.evaluate(cast.auditor, 'AuditContract:getInfo'),
      );
      assert.equal(info.contract, 'AuditContract');
    });
  });
}

describe('corrupt state (memory)', () => {
  let cast: Cast;
  before(async () => {
    cast = await openCast('memory');
  });
  after(() => cast.ledger.close());

  it('an index entry without its receipt is INTERNAL, never a silent gap', async () => {
    const key = testKey(400);
    await register(cast, cast.alice, key);
    const mu = signedReceipt([key], { source: 'corrupt-1' });
    const { id } = json<{ id: string }>((await cast.ledger.submit(cast.alice, 'appendReceipt', mu)).result);
    (cast.ledger as MemoryLedger).state.delete(`receipt!${id}`);
    await rejectsWith(
      cast.ledger.evaluate(
        cast.auditor,
        'queryReceipts',
        JSON.stringify({ by: 'source', value: 'corrupt-1' }),
      ),
      'INTERNAL',
      /points to missing receipt/,
    );
  });
});
