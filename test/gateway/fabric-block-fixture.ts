/**
 * Fabric blocks built with Fabric's own protos, for the log builder's block readers (fabric-gateway's
 * protobuf blocks in blocks.ts, fabric-network's decoded ones in network-driver.ts).
 */
import { common, peer } from '@hyperledger/fabric-protos';

/** An endorser transaction envelope with one chaincode event, as a peer puts it in a block. */
export function envelope(txId: string, chaincodeId: string, eventName: string, payload: string): Uint8Array {
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
  // fabric-common's BlockDecoder also decodes the proposal's input (as every real block has it).
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  const id = new peer.ChaincodeID();
  id.setName(chaincodeId);
  spec.setChaincodeId(id);
  const input = new peer.ChaincodeInput();
  input.setArgsList([new TextEncoder().encode('appendReceipt')]);
  spec.setInput(input);
  const invocation = new peer.ChaincodeInvocationSpec();
  invocation.setChaincodeSpec(spec);
  const proposalPayload = new peer.ChaincodeProposalPayload();
  proposalPayload.setInput(invocation.serializeBinary());
  cap.setChaincodeProposalPayload(proposalPayload.serializeBinary());
  const txAction = new peer.TransactionAction();
  txAction.setPayload(cap.serializeBinary());
  const tx = new peer.Transaction();
  tx.setActionsList([txAction]);
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setTxId(txId);
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(new common.SignatureHeader().serializeBinary());
  const p = new common.Payload();
  p.setHeader(header);
  p.setData(tx.serializeBinary());
  const env = new common.Envelope();
  env.setPayload(p.serializeBinary());
  return env.serializeBinary();
}

/**
 * Block 7: tx-a (torgo, VALID), tx-b (torgo, MVCC_READ_CONFLICT), tx-c (another chaincode, VALID),
 * each with one chaincode event.
 */
export function sampleBlock(): Uint8Array {
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
  return block.serializeBinary();
}
