/**
 * The Fabric driver for networks whose peers have no Gateway service (Fabric 2.2 era): the contract
 * through `fabric-network` 2.2, which endorses on the peers that service discovery names, sends the
 * endorsed transaction to an orderer and waits for the commit events itself. Same interface, stages
 * and error mapping as driver.ts (the Gateway-service client); one fabric-network `Gateway` per
 * wallet identity, all built from one connection profile.
 *
 * Stages: endorsement failures → `endorse` (the contract's `CODE: …` message is dug out of the
 * per-peer responses), or `connect` (retryable) when no peer answered at all; the orderer refusing →
 * `submit`; an invalid commit → `commit`; no commit event in time → `commit-status` (unknown outcome).
 *
 * fabric-network 2.2 brings its own fabric-protos and an older @grpc/grpc-js (a second copy beside
 * fabric-gateway's); they never meet, as this driver exchanges only strings and bytes with the rest.
 */
import './sdk-logging.js';
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import {
  DefaultEventHandlerStrategies,
  Gateway,
  TimeoutError,
  type BlockEvent,
  type BlockListener,
  type CommitListener,
  type Contract,
  type GatewayOptions,
  type Network,
  type TxEventHandler,
  type TxEventHandlerFactory,
} from 'fabric-network';
// Not among fabric-network's runtime exports (only its typings'): from their own modules.
import { FabricError } from 'fabric-network/lib/errors/fabricerror.js';
import { TransactionError } from 'fabric-network/lib/errors/transactionerror.js';
import { type FabricConfig, type PeerConfig, peersOf } from '../../config.js';
import { CONTRACT_CODES } from '../../errors.js';
import type { LogBlock, LogTransaction } from '../../logbuilder/builder.js';
import { type Committed, LedgerError, type LedgerDriver } from '../driver.js';
import type { WalletIdentity } from '../wallet.js';
import { blockNumberOf, heightOf } from './protobuf.js';

const CONTRACT_MESSAGE = new RegExp(`\\b((?:${Object.keys(CONTRACT_CODES).join('|')}): [\\s\\S]*)$`);

/** What fabric-network and fabric-common hang on an endorsement failure (transaction.js, DiscoveryHandler.js). */
interface EndorsementFailure {
  message?: string;
  status?: number;
  response?: { status?: number; message?: string };
  responses?: EndorsementFailure[];
  errors?: EndorsementFailure[];
  endorsements?: EndorsementFailure[];
}

/** Every per-peer answer inside an endorsement failure, however deeply fabric-common nested it. */
function peerAnswers(e: EndorsementFailure, depth = 0): { status?: number; message: string }[] {
  if (!e || typeof e !== 'object' || depth > 4) return [];
  const out: { status?: number; message: string }[] = [];
  if (e.response && typeof e.response.message === 'string') {
    out.push({
      ...(e.response.status === undefined ? {} : { status: e.response.status }),
      message: e.response.message,
    });
  } else if (typeof e.status === 'number' && typeof e.message === 'string') {
    out.push({ status: e.status, message: e.message });
  }
  for (const nested of [e.responses, e.errors, e.endorsements]) {
    if (Array.isArray(nested)) for (const n of nested) out.push(...peerAnswers(n, depth + 1));
  }
  return out;
}

/** The contract's own message (`RECEIPT_CONFLICT: …`) in any peer's answer or in the error text. */
function contractMessage(e: EndorsementFailure, answers: { message: string }[]): string | undefined {
  const texts = [...answers.map((a) => a.message), ...(e.message ?? '').split('\n')];
  for (const text of texts) {
    const m = CONTRACT_MESSAGE.exec(text.trim());
    if (m) return m[1]!;
  }
  return undefined;
}

/**
 * fabric-network's failures as LedgerErrors, stage by stage like driver.ts. `stage` says where the
 * call was: `endorse` (submit: endorsement, ordering, commit wait) or `evaluate`.
 */
export function toLedgerError(e: unknown, stage: 'endorse' | 'evaluate'): unknown {
  if (e instanceof LedgerError || !(e instanceof Error)) return e;
  const txId = (e as { transactionId?: string }).transactionId;
  const tx = txId ? { txId } : {};
  if (e instanceof TimeoutError) {
    return new LedgerError(
      'commit-status',
      `the commit status of ${txId ?? 'the transaction'} is unknown: ${e.message}`,
      {
        ...tx,
        retryable: true,
        reason: 'COMMIT_STATUS_UNKNOWN',
        cause: e,
      },
    );
  }
  if (e instanceof TransactionError) {
    const reason = e.transactionCode ?? 'INVALID';
    return new LedgerError('commit', `transaction ${txId} was invalidated: ${reason}`, {
      ...tx,
      reason,
      retryable: reason === 'MVCC_READ_CONFLICT' || reason === 'PHANTOM_READ_CONFLICT',
      cause: e,
    });
  }
  // transaction.js: "Failed to commit transaction %<id>, orderer response status: SERVICE_UNAVAILABLE"
  const ordering = /^Failed to commit transaction %?(\S+), orderer response status: (\S+)/.exec(e.message);
  if (ordering || /Failed to send transaction successfully to the committer|No committers/.test(e.message)) {
    return new LedgerError('submit', e.message, {
      ...(ordering ? { txId: ordering[1]! } : tx),
      retryable: true,
      reason: ordering?.[2] ?? 'UNAVAILABLE',
      cause: e,
    });
  }
  const failure = e as EndorsementFailure;
  const answers = peerAnswers(failure);
  const message = contractMessage(failure, answers);
  if (message) return new LedgerError('endorse', message, { ...tx, cause: e });
  // A peer that ran the proposal and said no (status ≥ 400) refused it; no answer at all (peers down,
  // discovery empty, time-outs) says nothing about the transaction: retry.
  const refused = answers.some((a) => typeof a.status === 'number' && a.status >= 400);
  if (refused) return new LedgerError('endorse', e.message, { ...tx, cause: e });
  return new LedgerError('connect', e.message, {
    ...tx,
    retryable: true,
    reason: e instanceof FabricError || stage === 'evaluate' ? 'UNAVAILABLE' : 'NO_ENDORSEMENT',
    cause: e,
  });
}

/** A fabric-network full block event as the log builder reads it (cf. blocks.ts for fabric-gateway's). */
export function logBlockOfBlockEvent(event: BlockEvent, chaincode: string): LogBlock {
  const transactions: LogTransaction[] = event.getTransactionEvents().map((tx) => {
    // fabric-common's BlockDecoder logs and drops what it cannot decode, leaving no actions; a valid
    // endorser transaction always has one, so a missing one must not pass as "no log entry".
    const actions = (tx.transactionData as { actions?: unknown[] } | undefined)?.actions ?? [];
    if (tx.isValid && actions.length === 0) {
      throw new Error(
        `block ${event.blockNumber.toString()}: valid transaction ${tx.transactionId} has no actions (not decodable)`,
      );
    }
    // Only our contract's events are log entries; other chaincodes on the channel are ignored.
    const ours = tx.getContractEvents().find((ev) => ev.chaincodeId === chaincode);
    return {
      txId: tx.transactionId,
      valid: tx.isValid,
      event: ours ? { name: ours.eventName, payload: new Uint8Array(ours.payload ?? []) } : null,
    };
  });
  return { number: event.blockNumber.toNumber(), transactions };
}

/** A common connection profile for one peer; discovery finds the other peers and the orderers. */
export function connectionProfileOf(
  config: FabricConfig,
  mspId: string,
  tlsCaPem: string,
): Record<string, unknown> {
  const peer = firstPeer(config);
  const name = peer.hostAlias ?? peer.endpoint.replace(/:\d+$/, '');
  const grpcOptions: Record<string, unknown> = peer.hostAlias
    ? { 'ssl-target-name-override': peer.hostAlias, hostnameOverride: peer.hostAlias }
    : {};
  return {
    name: 'torgo',
    version: '1.0.0',
    client: { organization: mspId },
    organizations: { [mspId]: { mspid: mspId, peers: [name] } },
    peers: { [name]: { url: `grpcs://${peer.endpoint}`, tlsCACerts: { pem: tlsCaPem }, grpcOptions } },
  };
}

/**
 * The peer this client bootstraps from: the first of `fabric.peers` (or the one-peer shorthand).
 * Discovery then finds the endorsers and orderers; fabric-network does not fail over between
 * bootstrap peers the way the gateway client does (gateway/ledger/fabric/driver.ts).
 */
function firstPeer(config: FabricConfig): PeerConfig {
  const peer = peersOf(config)[0];
  if (!peer)
    throw new LedgerError('connect', 'no Fabric peer configured (fabric.peers or fabric.peerEndpoint)');
  return peer;
}

export class FabricNetworkDriver implements LedgerDriver {
  readonly kind = 'fabric' as const;
  private readonly gateways = new Map<string, Promise<Gateway>>();
  /** Block of each transaction this driver committed, from its commit event (kept until read). */
  private readonly committedIn = new Map<string, number>();
  private lastHeight: number | undefined;

  private constructor(
    private readonly config: FabricConfig,
    private readonly tlsCaPem: string,
    private readonly profile: Record<string, unknown> | undefined,
    /** Only for readiness without an identity: is the peer reachable at all. */
    private readonly probe: grpc.Client,
  ) {}

  static async open(config: FabricConfig): Promise<FabricNetworkDriver> {
    const peer = firstPeer(config);
    const tlsCaPem = await readFile(peer.tlsCaCert, 'utf8');
    let profile: Record<string, unknown> | undefined;
    if (config.connectionProfile) {
      try {
        profile = JSON.parse(await readFile(config.connectionProfile, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new LedgerError(
          'connect',
          `fabric.connectionProfile ${config.connectionProfile}: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
    }
    const probe = new grpc.Client(
      peer.endpoint,
      grpc.credentials.createSsl(Buffer.from(tlsCaPem)),
      peer.hostAlias ? { 'grpc.ssl_target_name_override': peer.hostAlias } : {},
    );
    return new FabricNetworkDriver(config, tlsCaPem, profile, probe);
  }

  /**
   * The default commit strategy (all of the identity's org peers, else all peers), plus a commit
   * listener of our own on the same transaction to learn its block: fabric-network's submit returns
   * only the payload. Our listener is added first, so it has run when the strategy resolves.
   */
  private commitStrategy(): TxEventHandlerFactory {
    return (transactionId: string, network: Network): TxEventHandler => {
      const inner = DefaultEventHandlerStrategies.PREFER_MSPID_SCOPE_ALLFORTX(transactionId, network);
      const listener: CommitListener = (error, event) => {
        if (!error && event?.isValid)
          this.committedIn.set(transactionId, event.getBlockEvent().blockNumber.toNumber());
      };
      const stop = () => network.removeCommitListener(listener);
      return {
        startListening: async () => {
          const channel = network.getChannel();
          const peers = channel.getEndorsers();
          if (peers.length > 0) await network.addCommitListener(listener, peers, transactionId);
          await inner.startListening();
        },
        waitForEvents: async () => {
          try {
            await inner.waitForEvents();
          } finally {
            stop();
          }
        },
        cancelListening: () => {
          stop();
          inner.cancelListening();
        },
      };
    };
  }

  private gateway(identity: WalletIdentity): Promise<Gateway> {
    const key = `${identity.mspId}\n${identity.label}`;
    let gw = this.gateways.get(key);
    if (!gw) {
      const seconds = Math.max(1, Math.ceil(this.config.timeoutMs / 1000));
      const options: GatewayOptions = {
        identity: {
          type: 'X.509',
          mspId: identity.mspId,
          credentials: { certificate: identity.certificate, privateKey: identity.privateKey },
        } as GatewayOptions['identity'],
        // Discovery names the endorsers the policy needs and the orderers; asLocalhost maps the
        // endpoints the peers advertise to this host (a local network; see docs/fabric.md).
        discovery: { enabled: true, asLocalhost: true },
        eventHandlerOptions: {
          commitTimeout: seconds,
          endorseTimeout: seconds,
          strategy: this.commitStrategy(),
        },
        queryHandlerOptions: { timeout: seconds },
      };
      const profile = this.profile ?? connectionProfileOf(this.config, identity.mspId, this.tlsCaPem);
      const opening = (async () => {
        const g = new Gateway();
        await g.connect(structuredClone(profile), options);
        return g;
      })();
      gw = opening;
      this.gateways.set(key, gw);
      // A failed connect is not kept: the next call tries again.
      opening.catch(() => {
        if (this.gateways.get(key) === opening) this.gateways.delete(key);
      });
    }
    return gw;
  }

  private async network(identity: WalletIdentity): Promise<Network> {
    try {
      return await (await this.gateway(identity)).getNetwork(this.config.channel);
    } catch (e) {
      const key = `${identity.mspId}\n${identity.label}`;
      const gw = this.gateways.get(key);
      this.gateways.delete(key);
      void gw?.then(
        (g) => g.disconnect(),
        () => {},
      );
      throw new LedgerError(
        'connect',
        `channel ${this.config.channel} is not reachable: ${(e as Error).message}`,
        {
          retryable: true,
          reason: 'UNAVAILABLE',
          cause: e,
        },
      );
    }
  }

  private async contract(identity: WalletIdentity, chaincode = this.config.chaincode): Promise<Contract> {
    return (await this.network(identity)).getContract(chaincode);
  }

  async submit(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<Committed> {
    const contract = await this.contract(identity);
    const transaction = contract.createTransaction(fcn);
    let result: Buffer;
    try {
      result = await transaction.submit(...args);
    } catch (e) {
      const txId = safeTransactionId(transaction);
      if (txId) this.committedIn.delete(txId);
      const mapped = toLedgerError(e, 'endorse');
      if (mapped instanceof LedgerError && !mapped.txId && txId)
        throw new LedgerError(mapped.stage, mapped.message, { ...mapped.options, txId });
      throw mapped;
    }
    const txId = transaction.getTransactionId();
    let block = this.committedIn.get(txId);
    this.committedIn.delete(txId);
    block ??= await this.blockOf(identity, txId);
    if (block === undefined)
      throw new LedgerError('commit-status', `transaction ${txId} committed but its block is unknown`, {
        txId,
        retryable: true,
        reason: 'COMMIT_STATUS_UNKNOWN',
      });
    return { result: result.toString('utf8'), txId, block };
  }

  async evaluate(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<string> {
    const contract = await this.contract(identity);
    try {
      return (await contract.evaluateTransaction(fcn, ...args)).toString('utf8');
    } catch (e) {
      throw toLedgerError(e, 'evaluate');
    }
  }

  /** qscc `GetBlockByTxID`: the block holding a transaction. */
  async blockOf(identity: WalletIdentity, txId: string): Promise<number | undefined> {
    try {
      const qscc = await this.contract(identity, 'qscc');
      return blockNumberOf(await qscc.evaluateTransaction('GetBlockByTxID', this.config.channel, txId));
    } catch {
      return undefined;
    }
  }

  height(): number | undefined {
    return this.lastHeight;
  }

  /** Ready when the peer accepts a TLS connection and (with an identity) answers qscc `GetChainInfo`. */
  async checkReady(identity: WalletIdentity | undefined): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.probe.waitForReady(Date.now() + Math.min(this.config.timeoutMs, 5000), (e) =>
        e
          ? reject(
              new LedgerError(
                'connect',
                `peer ${firstPeer(this.config).endpoint} is not reachable: ${e.message}`,
                {
                  retryable: true,
                },
              ),
            )
          : resolve(),
      );
    });
    if (!identity) return;
    const qscc = await this.contract(identity, 'qscc');
    try {
      this.lastHeight = heightOf(await qscc.evaluateTransaction('GetChainInfo', this.config.channel));
    } catch (e) {
      throw toLedgerError(e, 'evaluate');
    }
  }

  /**
   * Full blocks from `fromBlock` through fabric-network's block listener (it reconnects and resumes
   * by itself). The listener waits until the consumer has taken each block, so a slow log builder
   * holds the stream back instead of buffering blocks in memory.
   */
  async *blocks(identity: WalletIdentity, fromBlock: number, signal: AbortSignal): AsyncIterable<LogBlock> {
    const network = await this.network(identity);
    const chaincode = this.config.chaincode;
    let offered: { block: LogBlock; taken: () => void } | undefined;
    let wake: (() => void) | undefined;
    let failure: unknown;
    const listener: BlockListener = async (event) => {
      let block: LogBlock;
      try {
        block = logBlockOfBlockEvent(event, chaincode);
      } catch (e) {
        failure = e;
        wake?.();
        return;
      }
      await new Promise<void>((taken) => {
        offered = { block, taken };
        wake?.();
      });
    };
    const stop = () => wake?.();
    signal.addEventListener('abort', stop, { once: true });
    await network.addBlockListener(listener, { startBlock: fromBlock, type: 'full' });
    try {
      while (!signal.aborted) {
        if (failure) throw failure;
        if (offered) {
          const { block, taken } = offered;
          offered = undefined;
          taken();
          yield block;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      network.removeBlockListener(listener);
      offered?.taken();
    }
  }

  async close(): Promise<void> {
    const gateways = [...this.gateways.values()];
    this.gateways.clear();
    for (const gw of gateways)
      await gw.then(
        (g) => g.disconnect(),
        () => {},
      );
    this.probe.close();
  }
}

/** fabric-network throws from getTransactionId() before the proposal was built. */
function safeTransactionId(transaction: { getTransactionId(): string }): string | undefined {
  try {
    return transaction.getTransactionId() || undefined;
  } catch {
    return undefined;
  }
}
