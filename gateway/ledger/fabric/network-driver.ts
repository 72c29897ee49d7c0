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
  type CommitListener,
  type Contract,
  type GatewayOptions,
  type Network,
  type QueryHandlerFactory,
  type TxEventHandler,
  type TxEventHandlerFactory,
} from 'fabric-network';
import type { Endorser, IdentityContext } from 'fabric-common';
import { networkInternals } from '../../../chaincode/fabric-internals.js';
import { type FabricConfig, type PeerConfig, peersOf } from '../../config.js';
import { CONTRACT_CODES } from '../../errors.js';
import type { LogBlock, LogTransaction } from '../../logbuilder/builder.js';
import { type Committed, LedgerError, type LedgerDriver, READ_CONFLICTS } from '../driver.js';
import type { WalletIdentity } from '../wallet.js';
import { CHAINCODE_DOWN } from './errors.js';
import { blockNumberOf, heightOf } from './protobuf.js';

// Not among fabric-network's runtime exports (only its typings'): reached in chaincode/fabric-internals.ts.
const { FabricError, TransactionError, newFullBlockEvent, SingleQueryHandler } = networkInternals();

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
      retryable: READ_CONFLICTS.has(reason),
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
  // transactioneventhandler.js: the commit strategy failed — every event service it listened to
  // errored (peers gone, connection reset) after the transaction went to the orderer. It may well
  // have committed: unknown, like a time-out.
  if (/^No successful events received/.test(e.message)) {
    return new LedgerError(
      'commit-status',
      `the commit status of ${txId ?? 'the transaction'} is unknown: ${e.message}`,
      { ...tx, retryable: true, reason: 'COMMIT_STATUS_UNKNOWN', cause: e },
    );
  }
  const failure = e as EndorsementFailure;
  const answers = peerAnswers(failure);
  const message = contractMessage(failure, answers);
  if (message) return new LedgerError('endorse', message, { ...tx, cause: e });
  // Peers that answered only that the contract server cannot be reached or launched (the same peer
  // messages errors.ts reads from the Gateway service): transient, like the gateway client's.
  if (answers.length > 0 && answers.every((a) => CHAINCODE_DOWN.test(a.message))) {
    return new LedgerError('endorse', `CHAINCODE_UNAVAILABLE: ${e.message}`, {
      ...tx,
      retryable: true,
      reason: 'CHAINCODE_UNAVAILABLE',
      cause: e,
    });
  }
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

/**
 * A common connection profile for one peer (`peerIndex` of `fabric.peers`, default the first);
 * discovery finds the other peers and the orderers. The peer is listed under the identity's own
 * organisation, as fabric-network takes its discovery targets from there.
 */
export function connectionProfileOf(
  config: FabricConfig,
  mspId: string,
  tlsCaPem: string,
  peerIndex = 0,
): Record<string, unknown> {
  const peer = peerAt(config, peerIndex);
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

function peerAt(config: FabricConfig, index: number): PeerConfig {
  const peer = peersOf(config)[index];
  if (!peer)
    throw new LedgerError('connect', 'no Fabric peer configured (fabric.peers or fabric.peerEndpoint)');
  return peer;
}

/** The port of an endpoint (`127.0.0.1:7051`, `grpcs://localhost:7051`): asLocalhost rewrites hosts, not ports. */
function portOf(endpoint: string): string | undefined {
  return /:(\d+)\/?$/.exec(endpoint)?.[1];
}

/**
 * Queries go to the bootstrap peer, then the identity's organisation's peers, then every other
 * peer discovery found, moving on when one does not answer (fabric-network's SingleQueryHandler
 * over that list). fabric-network's own PREFER_MSPID_SCOPE_SINGLE never leaves the organisation's
 * peers while the organisation has any, so with its only peer down every query would fail.
 */
const queryAnyPeer: QueryHandlerFactory = (network) => {
  const channel = network.getChannel();
  const own = channel.getEndorsers(network.getGateway().getIdentity().mspId);
  const seen = new Set<string>();
  const peers = [...own, ...channel.getEndorsers()].filter((p) => {
    if (seen.has(p.name)) return false;
    seen.add(p.name);
    return true;
  });
  return new SingleQueryHandler(peers);
};

/** The Gateways (one per identity) built on one bootstrap peer; replaced whole on failover or reset. */
class Connection {
  readonly gateways = new Map<string, Promise<Gateway>>();
  private readonly resetController = new AbortController();
  constructor(
    readonly index: number,
    readonly endpoint: string,
  ) {}

  /** Aborted (with the reason as a string) when the driver stops using this connection. */
  get signal(): AbortSignal {
    return this.resetController.signal;
  }

  /** Ends its block streams now and disconnects its Gateways after `graceMs` (in-flight commits finish). */
  close(why: string, graceMs = 0): void {
    if (!this.resetController.signal.aborted) this.resetController.abort(why);
    const gateways = [...this.gateways.values()];
    this.gateways.clear();
    const disconnect = () => {
      for (const gw of gateways)
        void gw.then(
          (g) => g.disconnect(),
          () => {},
        );
    };
    if (graceMs > 0) setTimeout(disconnect, graceMs).unref();
    else disconnect();
  }
}

interface Peer {
  readonly endpoint: string;
  readonly tlsCaPem: string;
  /** Only for probing: is the peer accepting TLS connections (reconnects at most 1 s apart). */
  readonly probe: grpc.Client;
}

export interface NetworkDriverOptions {
  /**
   * The least time between two rebuilds of the fabric-network objects for transient failures
   * (default 5 s): enough for a rebuilt connection to be tried before the next, so a network that
   * stays down does not make the driver reconnect in a loop. Failovers to another peer found
   * unreachable and failbacks are not held back by it.
   */
  readonly minResetMs?: number;
}

export class FabricNetworkDriver implements LedgerDriver {
  readonly kind = 'fabric' as const;
  private conn: Connection;
  /** Block of each transaction this driver committed, from its commit event (kept until read). */
  private readonly committedIn = new Map<string, number>();
  private lastHeight: number | undefined;
  private lastResetAt = Number.NEGATIVE_INFINITY;
  private checking = false;
  private closed = false;
  private readonly failbackTimer: NodeJS.Timeout;
  private readonly minResetMs: number;
  /** Every change of connection, oldest first: another peer (failover, failback) or the same one rebuilt. */
  readonly connectionChanges: { from: string; to: string; why: string }[] = [];

  private constructor(
    private readonly config: FabricConfig,
    private readonly peers: readonly Peer[],
    private readonly profile: Record<string, unknown> | undefined,
    options: NetworkDriverOptions,
  ) {
    this.minResetMs = options.minResetMs ?? 5_000;
    this.conn = new Connection(0, peers[0]!.endpoint);
    this.failbackTimer = setInterval(() => void this.failback(), config.failbackMs);
    this.failbackTimer.unref();
  }

  static async open(config: FabricConfig, options: NetworkDriverOptions = {}): Promise<FabricNetworkDriver> {
    const list = peersOf(config);
    if (list.length === 0)
      throw new LedgerError('connect', 'no Fabric peer configured (fabric.peers or fabric.peerEndpoint)');
    const peers = await Promise.all(
      list.map(async (p): Promise<Peer> => {
        const tlsCaPem = await readFile(p.tlsCaCert, 'utf8');
        const probe = new grpc.Client(p.endpoint, grpc.credentials.createSsl(Buffer.from(tlsCaPem)), {
          ...(p.hostAlias ? { 'grpc.ssl_target_name_override': p.hostAlias } : {}),
          'grpc.initial_reconnect_backoff_ms': 250,
          'grpc.max_reconnect_backoff_ms': 1000,
        });
        return { endpoint: p.endpoint, tlsCaPem, probe };
      }),
    );
    let profile: Record<string, unknown> | undefined;
    if (config.connectionProfile) {
      try {
        profile = JSON.parse(await readFile(config.connectionProfile, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        for (const p of peers) p.probe.close();
        throw new LedgerError(
          'connect',
          `fabric.connectionProfile ${config.connectionProfile}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    }
    return new FabricNetworkDriver(config, peers, profile, options);
  }

  /** The endpoint of the bootstrap peer in use. */
  get currentPeer(): string {
    return this.conn.endpoint;
  }

  private probeMs(): number {
    return Math.min(this.config.timeoutMs, 5000);
  }

  private probe(index: number, ms: number): Promise<void> {
    const client = this.peers[index]!.probe;
    return new Promise((resolve, reject) =>
      client.waitForReady(Date.now() + ms, (e) => (e ? reject(e) : resolve())),
    );
  }

  /**
   * Replaces `from` by a new connection to peer `to` (the same peer: a reset — fresh discovery,
   * fresh event services), unless another call already replaced it. The old one's block streams
   * end at once (the log builder reopens them on the new one); its Gateways are disconnected after
   * `graceMs`.
   */
  private replace(from: Connection, to: number, why: string, graceMs = 0): void {
    if (this.closed || from !== this.conn) return;
    // A fixed connection profile names its own peers: there is nothing to fail over to, only a reset.
    const index = this.profile ? from.index : to;
    this.conn = new Connection(index, this.peers[index]!.endpoint);
    this.lastResetAt = Date.now();
    this.connectionChanges.push({ from: from.endpoint, to: this.conn.endpoint, why });
    from.close(
      index === from.index
        ? `the Fabric connection through ${from.endpoint} was reset: ${why}`
        : `the Fabric connection moved from ${from.endpoint} to ${this.conn.endpoint}: ${why}`,
      graceMs,
    );
  }

  /**
   * A transient failure through `conn` that stale connection state explains (connect failures,
   * commit events that never came, endorsements nobody answered): probe its peer; unreachable →
   * the next peer; reachable → rebuild on the same peer. At most one rebuild per `minResetMs` (a
   * move to the next peer: one a second), one probe at a time.
   */
  private stale(conn: Connection, why: string): void {
    if (this.closed || conn !== this.conn || this.checking) return;
    const since = Date.now() - this.lastResetAt;
    // Moving on from a peer that does not answer may come sooner than a rebuild, not in a loop.
    if (since < Math.min(this.minResetMs, 1000)) return;
    this.checking = true;
    this.probe(conn.index, Math.min(this.probeMs(), 1000))
      .then(
        () => {
          if (since >= this.minResetMs) this.replace(conn, conn.index, why);
        },
        (e: Error) => this.replace(conn, (conn.index + 1) % this.peers.length, `${why}; probe: ${e.message}`),
      )
      .finally(() => {
        this.checking = false;
      });
  }

  /** While away from the first (own-organisation) peer: move back once it answers again. */
  private async failback(): Promise<void> {
    if (this.closed || this.conn.index === 0 || this.checking) return;
    const from = this.conn;
    this.checking = true;
    try {
      await this.probe(0, this.probeMs());
      // The connection left behind is healthy: let its in-flight commits finish before disconnecting.
      this.replace(from, 0, 'failback: the first peer is reachable again', this.config.timeoutMs);
    } catch {
      // still away
    } finally {
      this.checking = false;
    }
  }

  /** Maps a failure through `conn`; the transient kinds that stale state explains trigger a check. */
  private failure(conn: Connection, e: unknown, stage: 'endorse' | 'evaluate'): unknown {
    const mapped = toLedgerError(e, stage);
    if (
      mapped instanceof LedgerError &&
      (mapped.stage === 'connect' || mapped.reason === 'COMMIT_STATUS_UNKNOWN')
    ) {
      this.stale(conn, mapped.message);
    }
    return mapped;
  }

  /**
   * Commits wait for the first valid commit event from any peer of the channel (fabric-network's
   * NETWORK_SCOPE_ANYFORTX), plus a commit listener of our own on the same transaction to learn its
   * block (fabric-network's submit returns only the payload; ours is added first, so it has run when
   * the strategy resolves).
   *
   * Why any peer: once the orderer has cut the block, its validation is deterministic — every peer
   * marks the transaction the same way — so one peer's event is as final as all of them; waiting for
   * a particular peer adds nothing but its outage. The former PREFER_MSPID_SCOPE_ALLFORTX waited
   * for every peer of our own organisation — here its only one: while that peer was down, and after
   * it came back on an event service that never restarted, every commit waited out the timeout
   * (504/503 COMMIT_STATUS_UNKNOWN for transactions that had committed). ANY (not ALL) of the
   * network also survives another organisation's peer down. The cost: the peer we read from next
   * may be a block behind the one that answered — reads are not promised to see a write at once
   * (the gateway client has the same property after failing over to another organisation's peer).
   */
  private commitStrategy(): TxEventHandlerFactory {
    return (transactionId: string, network: Network): TxEventHandler => {
      const inner = DefaultEventHandlerStrategies.NETWORK_SCOPE_ANYFORTX(transactionId, network);
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

  private gateway(conn: Connection, identity: WalletIdentity): Promise<Gateway> {
    const key = `${identity.mspId}\n${identity.label}`;
    let gw = conn.gateways.get(key);
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
        queryHandlerOptions: { timeout: seconds, strategy: queryAnyPeer },
      };
      const profile =
        this.profile ??
        connectionProfileOf(this.config, identity.mspId, this.peers[conn.index]!.tlsCaPem, conn.index);
      const opening = (async () => {
        const g = new Gateway();
        await g.connect(structuredClone(profile), options);
        return g;
      })();
      gw = opening;
      conn.gateways.set(key, gw);
      // A failed connect is not kept: the next call tries again.
      opening.catch(() => {
        if (conn.gateways.get(key) === opening) conn.gateways.delete(key);
      });
    }
    return gw;
  }

  private async network(conn: Connection, identity: WalletIdentity): Promise<Network> {
    try {
      return await (await this.gateway(conn, identity)).getNetwork(this.config.channel);
    } catch (e) {
      // A Gateway whose channel could not be initialised (discovery failed) is dropped whole.
      const key = `${identity.mspId}\n${identity.label}`;
      const gw = conn.gateways.get(key);
      conn.gateways.delete(key);
      void gw?.then(
        (g) => g.disconnect(),
        () => {},
      );
      const error = new LedgerError(
        'connect',
        `channel ${this.config.channel} is not reachable through ${conn.endpoint}: ${(e as Error).message}`,
        { retryable: true, reason: 'UNAVAILABLE', cause: e },
      );
      this.stale(conn, error.message);
      throw error;
    }
  }

  private async contract(
    conn: Connection,
    identity: WalletIdentity,
    chaincode = this.config.chaincode,
  ): Promise<Contract> {
    return (await this.network(conn, identity)).getContract(chaincode);
  }

  /** The longest any one call may take: fabric-network's own timeouts plus a margin. */
  private hardDeadlineMs(): number {
    return this.config.timeoutMs + 5000;
  }

  async submit(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<Committed> {
    const conn = this.conn;
    const contract = await this.contract(conn, identity);
    const transaction = contract.createTransaction(fcn);
    let result: Buffer;
    try {
      result = await withDeadline(transaction.submit(...args), this.hardDeadlineMs(), () => {
        const txId = safeTransactionId(transaction);
        return new LedgerError(
          'commit-status',
          `no answer for ${txId ?? 'the transaction'} within ${this.hardDeadlineMs()} ms (fabric-network's own timeouts did not fire)`,
          { ...(txId ? { txId } : {}), retryable: true, reason: 'COMMIT_STATUS_UNKNOWN' },
        );
      });
    } catch (e) {
      const txId = safeTransactionId(transaction);
      if (txId) this.committedIn.delete(txId);
      const mapped = this.failure(conn, e, 'endorse');
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
    this.noteHeight(block + 1);
    return { result: result.toString('utf8'), txId, block };
  }

  async evaluate(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<Uint8Array> {
    const conn = this.conn;
    const contract = await this.contract(conn, identity);
    try {
      return await withDeadline(
        contract.evaluateTransaction(fcn, ...args),
        this.hardDeadlineMs(),
        () =>
          new LedgerError('connect', `no answer to ${fcn} within ${this.hardDeadlineMs()} ms`, {
            retryable: true,
            reason: 'PEER_UNAVAILABLE',
          }),
      );
    } catch (e) {
      throw this.failure(conn, e, 'evaluate');
    }
  }

  /** qscc `GetBlockByTxID`: the block holding a transaction. */
  async blockOf(identity: WalletIdentity, txId: string): Promise<number | undefined> {
    const conn = this.conn;
    try {
      const qscc = await this.contract(conn, identity, 'qscc');
      return blockNumberOf(await qscc.evaluateTransaction('GetBlockByTxID', this.config.channel, txId));
    } catch (e) {
      this.failure(conn, e, 'evaluate');
      return undefined;
    }
  }

  private noteHeight(height: number): void {
    if (Number.isSafeInteger(height) && height > (this.lastHeight ?? -1)) this.lastHeight = height;
  }

  height(): number | undefined {
    return this.lastHeight;
  }

  /**
   * Ready when a peer accepts a TLS connection (trying each configured peer in turn and moving to the
   * first that does) and, with an identity, answers qscc `GetChainInfo` — which refreshes `height()`.
   */
  async checkReady(identity: WalletIdentity | undefined): Promise<void> {
    const tried: string[] = [];
    for (let i = 0; ; i++) {
      const conn = this.conn;
      try {
        await this.probe(conn.index, this.probeMs());
        break;
      } catch (e) {
        tried.push(`${conn.endpoint} (${(e as Error).message})`);
        if (i + 1 >= this.peers.length || this.closed || this.profile) {
          throw new LedgerError('connect', `no peer is reachable: ${tried.join('; ')}`, {
            retryable: true,
            reason: 'PEER_UNAVAILABLE',
          });
        }
        this.replace(conn, (conn.index + 1) % this.peers.length, `not reachable: ${(e as Error).message}`);
      }
    }
    if (!identity) return;
    const conn = this.conn;
    try {
      const qscc = await this.contract(conn, identity, 'qscc');
      this.noteHeight(heightOf(await qscc.evaluateTransaction('GetChainInfo', this.config.channel)));
    } catch (e) {
      const mapped = this.failure(conn, e, 'evaluate');
      if (mapped instanceof LedgerError)
        throw new LedgerError(mapped.stage, `peer ${conn.endpoint}: ${mapped.message}`, mapped.options);
      throw mapped;
    }
  }

  /**
   * Full blocks from `fromBlock`, through an event service of our own (fabric-common's, not
   * fabric-network's block listener: that one retries in a loop on the organisation's peers only and
   * never tells its listener, so a dead own peer left the log silently stalled). It streams from the
   * bootstrap peer if it can, else the organisation's other peers, else any peer of the channel; it
   * ends with a retryable LedgerError when that stream fails or this connection is replaced, and the
   * log builder reopens it from its persisted block — on the new connection. At most `BUFFERED_BLOCKS`
   * wait for the consumer; beyond that the gRPC stream is paused.
   */
  async *blocks(identity: WalletIdentity, fromBlock: number, signal: AbortSignal): AsyncIterable<LogBlock> {
    const conn = this.conn;
    const network = await this.network(conn, identity);
    const gateway = network.getGateway() as Gateway & { identityContext?: IdentityContext };
    const channel = network.getChannel();
    const mspId = gateway.getIdentity().mspId;
    const bootstrapPort = portOf(conn.endpoint);
    // fabric-common's Endpoint has a `url` its typings leave out.
    const urlOf = (p: Endorser) => (p.endpoint as { url?: string } | undefined)?.url ?? '';
    const rank = (p: Endorser) => (portOf(urlOf(p)) === bootstrapPort ? 0 : p.mspid === mspId ? 1 : 2);
    const peers = [...channel.getEndorsers()].sort((a, b) => rank(a) - rank(b));
    const seen = new Set<string>();
    const eventers = peers
      .filter((p) => p.endpoint && !seen.has(urlOf(p)) && seen.add(urlOf(p)))
      .map((p) => {
        const eventer = channel.client.newEventer(p.name);
        eventer.setEndpoint(p.endpoint);
        return eventer;
      });
    if (eventers.length === 0 || !gateway.identityContext) {
      throw new LedgerError('connect', `no peer to stream blocks from through ${conn.endpoint}`, {
        retryable: true,
        reason: 'UNAVAILABLE',
      });
    }
    const service = channel.newEventService(`torgo-blocks-${fromBlock}`);
    service.setTargets(eventers);

    const queue: LogBlock[] = [];
    let failure: unknown;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const stream = () =>
      (service as unknown as { _currentEventer?: { stream?: { pause(): void; resume(): void } } })
        ._currentEventer?.stream;
    let paused = false;
    const fail = (e: unknown) => {
      failure ??= e;
      notify();
    };
    service.registerBlockListener(
      (error, event) => {
        if (error) {
          fail(
            new LedgerError('connect', `the block stream through ${conn.endpoint} ended: ${error.message}`, {
              retryable: true,
              reason: 'UNAVAILABLE',
              cause: error,
            }),
          );
          return;
        }
        if (!event?.block) return;
        try {
          queue.push(logBlockOfBlockEvent(newFullBlockEvent(event), this.config.chaincode));
        } catch (e) {
          fail(e);
          return;
        }
        if (queue.length >= BUFFERED_BLOCKS && !paused) {
          stream()?.pause();
          paused = true;
        }
        notify();
      },
      { startBlock: String(fromBlock), unregister: false },
    );
    const onReset = () =>
      fail(
        new LedgerError('connect', String(conn.signal.reason ?? 'the Fabric connection was reset'), {
          retryable: true,
          reason: 'RECONNECTING',
        }),
      );
    const onAbort = () => notify();
    conn.signal.addEventListener('abort', onReset, { once: true });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (conn.signal.aborted) onReset();
      service.build(gateway.identityContext, { blockType: 'full', startBlock: String(fromBlock) });
      service.sign(gateway.identityContext);
      try {
        await service.send({ requestTimeout: this.probeMs() });
      } catch (e) {
        const error = new LedgerError(
          'connect',
          `no peer would stream blocks through ${conn.endpoint}: ${(e as Error).message}`,
          { retryable: true, reason: 'UNAVAILABLE', cause: e },
        );
        this.stale(conn, error.message);
        throw error;
      }
      while (!signal.aborted) {
        const block = queue.shift();
        if (block) {
          if (paused && queue.length < BUFFERED_BLOCKS / 2) {
            stream()?.resume();
            paused = false;
          }
          this.noteHeight(block.number + 1);
          yield block;
          continue;
        }
        if (failure) {
          if (failure instanceof LedgerError && failure.reason === 'UNAVAILABLE')
            this.stale(conn, failure.message);
          throw failure;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      conn.signal.removeEventListener('abort', onReset);
      signal.removeEventListener('abort', onAbort);
      service.close();
      for (const eventer of eventers) eventer.disconnect();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.failbackTimer);
    this.conn.close('the driver was closed');
    for (const p of this.peers) p.probe.close();
  }
}

/** Blocks held for a slow consumer before the block stream is paused. */
const BUFFERED_BLOCKS = 64;

/**
 * `promise`, or the error of `onTimeout` after `ms`. fabric-network 2.2 can leave a submit waiting
 * past its own commit timeout when its event services went stale (a peer restarted); a caller must
 * never wait forever, and an abandoned append is safe to resend (appends are idempotent).
 */
function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  promise.catch(() => {}); // a late failure of an abandoned call is not unhandled
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** fabric-network throws from getTransactionId() before the proposal was built. */
function safeTransactionId(transaction: { getTransactionId(): string }): string | undefined {
  try {
    return transaction.getTransactionId() || undefined;
  } catch {
    return undefined;
  }
}
