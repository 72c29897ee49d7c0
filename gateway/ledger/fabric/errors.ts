/**
 * fabric-gateway errors → LedgerError, by stage and cause. Two kinds matter to a client:
 * - the contract refused the transaction: its message starts with a stable code
 *   (`RECEIPT_CONFLICT: …`, chaincode/errors.ts) dug out of the peer's wrapping → non-retryable;
 * - the network could not run it now: a peer, an endorser, the chaincode server or the orderer is
 *   unreachable, or no set of reachable peers satisfies the endorsement policy → retryable, with a
 *   `reason` saying which part was missing (FABRIC-NOTES: the other org's peer down answers
 *   FAILED_PRECONDITION "no combination of peers can be derived…" or ABORTED; the gateway's own
 *   peer down answers UNAVAILABLE; on a BFT channel, Fabric 3's Gateway service sends a transaction to
 *   every orderer and answers UNAVAILABLE "insufficient number of orderers could successfully process
 *   transaction to satisfy quorum requirement" when fewer than a quorum of them took it).
 * An EndorseError without a contract code is always of the second kind: the contract prefixes every
 * refusal it makes, so a message without a code came from the peer, not from the contract.
 */
import * as grpc from '@grpc/grpc-js';
import {
  CommitStatusError,
  EndorseError,
  GatewayError as FabricGatewayError,
} from '@hyperledger/fabric-gateway';
import { CONTRACT_CODES } from '../../errors.js';
import { LedgerError } from '../driver.js';

const CONTRACT_MESSAGE = new RegExp(`\\b((?:${Object.keys(CONTRACT_CODES).join('|')}): [\\s\\S]*)$`);

/** Why a transaction could not run now. */
export type TransientReason =
  | 'NO_ENDORSERS'
  | 'ENDORSER_UNAVAILABLE'
  | 'PEER_UNAVAILABLE'
  | 'PEER_BUSY'
  | 'CHAINCODE_UNAVAILABLE'
  | 'ORDERER_UNAVAILABLE'
  | 'ORDERER_QUORUM_LOST'
  | 'TIMEOUT';

/** The peer's words when the chaincode server cannot be reached or launched (Fabric 2.5 peer messages). */
export const CHAINCODE_DOWN =
  /failed to execute transaction|could not launch chaincode|connection refused|chaincode .*(?:not (?:available|running)|unavailable)|error (?:sending|starting)|timeout expired while (?:starting|executing)|container .* exited|stream terminated|context deadline exceeded/i;
/** Fabric 3 Gateway service, BFT channel: fewer than a quorum of orderers took the transaction. */
const NO_ORDERING_QUORUM = /insufficient number of orderers|quorum requirement/i;
/** The Gateway service could not find a set of peers satisfying the endorsement policy. */
const NO_LAYOUT =
  /no combination of peers|no peers available|failed to (?:find|select) .*endorsers?|no endorsement plan/i;

/** The contract's own message inside a peer's error text (`chaincode response 500, RECEIPT_CONFLICT: …`). */
export function contractMessage(e: FabricGatewayError): string | undefined {
  for (const text of [...e.details.map((d) => d.message), e.message]) {
    const m = CONTRACT_MESSAGE.exec(text);
    if (m) return m[1]!;
  }
  return undefined;
}

function allText(e: FabricGatewayError): string {
  return [e.message, ...e.details.map((d) => `${d.address} ${d.mspId}: ${d.message}`)].join('\n');
}

/**
 * Why a fabric-gateway error that is not the contract's refusal happened, or undefined when it is
 * neither a network nor an endorsement-layout failure (then it is reported as it is, not retried).
 */
export function transientReason(e: FabricGatewayError): TransientReason | undefined {
  const text = allText(e);
  const submit = e.name === 'SubmitError';
  switch (e.code) {
    case grpc.status.UNAVAILABLE:
      if (submit) return NO_ORDERING_QUORUM.test(text) ? 'ORDERER_QUORUM_LOST' : 'ORDERER_UNAVAILABLE';
      if (NO_LAYOUT.test(text)) return 'NO_ENDORSERS';
      // Details come from the nodes the gateway peer called; none means the gateway peer itself is gone.
      return e.details.length > 0 ? 'ENDORSER_UNAVAILABLE' : 'PEER_UNAVAILABLE';
    case grpc.status.DEADLINE_EXCEEDED:
      return 'TIMEOUT';
    case grpc.status.RESOURCE_EXHAUSTED:
      return 'PEER_BUSY';
    case grpc.status.FAILED_PRECONDITION:
      return 'NO_ENDORSERS';
    case grpc.status.ABORTED:
      if (submit) return 'ORDERER_UNAVAILABLE';
      return CHAINCODE_DOWN.test(text) ? 'CHAINCODE_UNAVAILABLE' : 'ENDORSER_UNAVAILABLE';
  }
  if (submit) return 'ORDERER_UNAVAILABLE';
  if (e instanceof EndorseError || e.code === grpc.status.UNKNOWN) {
    if (CHAINCODE_DOWN.test(text)) return 'CHAINCODE_UNAVAILABLE';
    if (NO_LAYOUT.test(text)) return 'NO_ENDORSERS';
    if (e instanceof EndorseError) return 'ENDORSER_UNAVAILABLE';
  }
  return undefined;
}

/** The gateway peer itself is unreachable: the driver should move to another peer. */
export function isPeerUnreachable(e: unknown): boolean {
  return e instanceof LedgerError && e.reason === 'PEER_UNAVAILABLE';
}

/**
 * A fabric-gateway error as a LedgerError (from submit, evaluate or qscc calls: on evaluate the
 * contract's refusal arrives as a plain GatewayError with the code in its text, not an EndorseError).
 */
export function toLedgerError(e: unknown): unknown {
  if (e instanceof LedgerError) return e;
  if (e instanceof CommitStatusError) {
    return new LedgerError(
      'commit-status',
      `the commit status of ${e.transactionId} is unknown: ${e.message}`,
      { txId: e.transactionId, retryable: true, reason: 'COMMIT_STATUS_UNKNOWN', cause: e },
    );
  }
  if (!(e instanceof FabricGatewayError)) {
    // grpc-js refuses a call on a closed client this way (not a fabric-gateway error): the driver
    // closed a connection it moved away from while this call was being made. Try again on the new one.
    if (e instanceof Error && /Channel has been shut down/.test(e.message)) {
      return new LedgerError('connect', `the peer connection was closed: ${e.message}`, {
        retryable: true,
        reason: 'PEER_UNAVAILABLE',
        cause: e,
      });
    }
    return e;
  }
  const txId = (e as { transactionId?: string }).transactionId;
  const message = contractMessage(e);
  if (message) return new LedgerError('endorse', message, { ...(txId ? { txId } : {}), cause: e });
  const reason = transientReason(e);
  if (reason) {
    const where =
      reason === 'ORDERER_UNAVAILABLE' || reason === 'ORDERER_QUORUM_LOST'
        ? 'submit'
        : reason === 'PEER_UNAVAILABLE'
          ? 'connect'
          : 'endorse';
    return new LedgerError(where, `${reason}: ${e.message}`, {
      ...(txId ? { txId } : {}),
      retryable: true,
      reason,
      cause: e,
    });
  }
  return new LedgerError('endorse', e.message, {
    ...(txId ? { txId } : {}),
    reason: grpc.status[e.code] ?? String(e.code),
    cause: e,
  });
}
