import assert from 'node:assert/strict';
import { it } from 'node:test';
import { common } from '@hyperledger/fabric-protos';
import { logBlockOfFabric } from '../../gateway/ledger/fabric/blocks.js';
import { sampleBlock } from './fabric-block-fixture.js';

it('reads transaction ids, validity and our chaincode events from a Fabric block', () => {
  const decoded = logBlockOfFabric(common.Block.deserializeBinary(sampleBlock()), 'torgo');
  assert.equal(decoded.number, 7);
  assert.deepEqual(
    decoded.transactions.map((t) => [
      t.txId,
      t.valid,
      t.event?.name ?? null,
      t.event ? new TextDecoder().decode(t.event.payload) : null,
    ]),
    [
      ['tx-a', true, 'ReceiptsAppended', '{"entries":[]}'],
      ['tx-b', false, 'ReceiptsAppended', '{"entries":[1]}'],
      ['tx-c', true, null, null],
    ],
  );
});
