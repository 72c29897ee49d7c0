/**
 * Fabric blocks as the log builder reads them: each transaction's id, validation code and
 * chaincode event, from a `common.Block` delivered by `network.getBlockEvents` (full blocks, so a
 * block's events arrive together and the builder can commit block by block and resume).
 * Path: Envelope → Payload → ChannelHeader (ENDORSER_TRANSACTION) → Transaction → actions[0] →
 * ChaincodeActionPayload → ProposalResponsePayload.extension = ChaincodeAction → events.
 */
import { common, peer } from '@hyperledger/fabric-protos';
import type { LogBlock, LogTransaction } from '../../logbuilder/builder.js';

/** Metadata index of the per-transaction validation codes (common.BlockMetadataIndex). */
const TRANSACTIONS_FILTER = common.BlockMetadataIndex.TRANSACTIONS_FILTER;

function transactionOf(
  envelopeBytes: Uint8Array,
  valid: boolean,
  chaincode: string,
): LogTransaction | undefined {
  const envelope = common.Envelope.deserializeBinary(envelopeBytes);
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const header = common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8());
  if (header.getType() !== common.HeaderType.ENDORSER_TRANSACTION) return undefined;
  const tx = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const action = tx.getActionsList()[0];
  let event: LogTransaction['event'] = null;
  if (action) {
    const cap = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    const prp = peer.ProposalResponsePayload.deserializeBinary(
      cap.getAction()!.getProposalResponsePayload_asU8(),
    );
    const ca = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
    const eventBytes = ca.getEvents_asU8();
    if (eventBytes.length > 0) {
      const ev = peer.ChaincodeEvent.deserializeBinary(eventBytes);
      // Only our contract's events are log entries; other chaincodes on the channel are ignored.
      if (ev.getChaincodeId() === chaincode)
        event = { name: ev.getEventName(), payload: ev.getPayload_asU8() };
    }
  }
  return { txId: header.getTxId(), valid, event };
}

export function logBlockOfFabric(block: common.Block, chaincode: string): LogBlock {
  const number = Number(block.getHeader()!.getNumber());
  const filter = block.getMetadata()?.getMetadataList_asU8()[TRANSACTIONS_FILTER] ?? new Uint8Array();
  const transactions: LogTransaction[] = [];
  block
    .getData()!
    .getDataList_asU8()
    .forEach((envelope, i) => {
      const valid = filter[i] === peer.TxValidationCode.VALID;
      const tx = transactionOf(envelope, valid, chaincode);
      if (tx) transactions.push(tx);
    });
  return { number, transactions };
}
