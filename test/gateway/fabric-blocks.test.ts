import assert from 'node:assert/strict';
import { it } from 'node:test';
import { common, peer } from '@hyperledger/fabric-protos';
import { logBlockOfFabric } from '../../gateway/ledger/fabric/blocks.js';

/** A Fabric endorser transaction envelope carrying one chaincode event, built with Fabric's own protos. */
function envelope(txId: string, chaincodeId: string, eventName: string, payload: string): Uint8Array {
  const event = new peer.ChaincodeEvent();
  event.setChaincodeId(chaincodeId);
  event.setTxId(txId);
  event.setEventName(eventName);
  event.setPayload(new TextEncoder().encode(payload));
  const action = new peer.ChaincodeAction();
  action.setEvents(event.serializeBinary());
  const prp = new peer.ProposalResponsePayload();
  prp.setExtension$(action.serializeBinary());
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(prp.serializeBinary());
  const cap = new peer.ChaincodeActionPayload();
  cap.setAction(endorsed);
  const txAction = new peer.TransactionAction();
  txAction.setPayload(cap.serializeBinary());
  const tx = new peer.Transaction();
  tx.setActionsList([txAction]);
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setTxId(txId);
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  const p = new common.Payload();
  p.setHeader(header);
  p.setData(tx.serializeBinary());
  const env = new common.Envelope();
  env.setPayload(p.serializeBinary());
  return env.serializeBinary();
}

it('reads transaction ids, validity and our chaincode events from a Fabric block', () => {
  const block = new common.Block();
  const header = new common.BlockHeader();
  header.setNumber(7);
  block.setHeader(header);
  const data = new common.BlockData();
  data.setDataList([
    envelope('tx-a', 'torgo', 'ReceiptsAppended', '{"entries":[]}'),
    envelope('tx-b', 'torgo', 'ReceiptsAppended', '{"entries":[1]}'),
    envelope('tx-c', 'other-cc', 'Whatever', '{}'),
  ]);
  block.setData(data);
  const metadata = new common.BlockMetadata();
  metadata.setMetadataList([
    new Uint8Array(),
    new Uint8Array(),
    Uint8Array.of(peer.TxValidationCode.VALID, peer.TxValidationCode.MVCC_READ_CONFLICT, 0),
  ]);
  block.setMetadata(metadata);

  const decoded = logBlockOfFabric(common.Block.deserializeBinary(block.serializeBinary()), 'torgo');
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
