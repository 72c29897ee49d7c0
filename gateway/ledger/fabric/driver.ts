/**
 * The Fabric driver: the contract on a real Fabric network through a peer's Gateway service
 * (`@hyperledger/fabric-gateway` over one `@grpc/grpc-js` connection at a time). Each token's
 * identity is a wallet entry (certificate + key, fabric-network's file-system wallet format), so the
 * ledger records the real submitter; one `Gateway` per identity shares the gRPC connection.
 *
 * Several peers may be configured (`fabric.peers`, own organisation's first): the driver uses one,
 * and when it becomes unreachable (gRPC UNAVAILABLE with the channel not ready, or a failed
 * readiness probe) moves to the next with a new connection; while away from the first it tries every
 * `failbackMs` to move back. Any channel member's peer accepts any channel member's client identity.
 *
 * A connection can also die without grpc-js noticing: after a peer was killed under load, Node's
 * HTTP/2 session over TLS kept the socket "open" (the kernel had already reset it; the TLS layer held
 * a pending write and had stopped reading, so no close was ever seen), the channel stayed READY, and
 * every call on it waited for its deadline, for good (docs/fabric.md, "The gateway stall"). So every
 * `livenessMs`, and after a call timed out, the driver sends one small call on the connection (gRPC
 * health checking; a peer without that service answers UNIMPLEMENTED, which is an answer too). No
 * answer within the probe time: the connection is replaced (the next peer, or a new connection to
 * the same one), the calls waiting on it fail at once as PEER_UNAVAILABLE (retried, or 503: appends
 * are idempotent) and its block streams are ended so the log builder reopens them.
 *
 * Errors keep fabric-gateway's stages (errors.ts): the contract's refusal → `endorse` with its
 * `CODE: …` message; transient failures (no endorsers, a peer, the chaincode server or the orderer
 * unreachable) → retryable with a reason; CommitStatusError → `commit-status` (the outcome is unknown:
 * the client may retry, appends are idempotent).
 *
 * The ledger height (`height()`) is the highest seen: the block of every committed transaction + 1,
 * every block streamed to the log builder + 1, and qscc GetChainInfo at each readiness check.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { type Contract, connect, type Gateway, hash, signers, StatusCode } from '@hyperledger/fabric-gateway';
import { type FabricConfig, peersOf } from '../../config.js';
import type { LogBlock } from '../../logbuilder/builder.js';
import { type Committed, LedgerError, type LedgerDriver, READ_CONFLICTS } from '../driver.js';
import type { WalletIdentity } from '../wallet.js';
import { logBlockOfFabric } from './blocks.js';
import { isPeerUnreachable, toLedgerError } from './errors.js';
import { blockNumberOf, heightOf } from './protobuf.js';

/** The largest gRPC message taken from a peer: Fabric's default peer.maxSendMsgSize. */
const MAX_MESSAGE_BYTES = 100 * 1024 * 1024;

/** gRPC health checking: any status the server sends back (UNIMPLEMENTED included) proves the connection carries calls. */
const LIVENESS_METHOD = '/grpc.health.v1.Health/Check';
const NO_ANSWER = new Set([grpc.status.DEADLINE_EXCEEDED, grpc.status.UNAVAILABLE, grpc.status.CANCELLED]);

/**
 * Whether a call on `client` gets an answer from the server within `ms`. An empty message is a
 * HealthCheckRequest for the whole server; the answer's content does not matter.
 */
export function answers(client: grpc.Client, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      LIVENESS_METHOD,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      { deadline: Date.now() + ms },
      (e) => resolve(!e || !NO_ANSWER.has(e.code)),
    );
  });
}

interface Peer {
  readonly endpoint: string;
  readonly credentials: grpc.ChannelCredentials;
  readonly options: grpc.ClientOptions;
}

/** One gRPC connection to one peer and the Gateways (one per identity) sharing it. */
class Connection {
  readonly gateways = new Map<string, Gateway>();
  /** Aborted when the connection is found dead: its block streams end (grpc-js would wait on them forever). */
  readonly dead = new AbortController();
  constructor(
    readonly index: number,
    readonly client: grpc.Client,
  ) {}

  close(): void {
    for (const gw of this.gateways.values()) gw.close();
    this.gateways.clear();
    this.client.close();
  }
}

/**
 * TLS to a peer: its CA, and with `fabric.tlsGroups` only those key-exchange groups (e.g.
 * `X25519MLKEM768`, so the connection is post-quantum or fails; docs/operations.md).
 */
function peerCredentials(ca: Buffer, groups: string | undefined): grpc.ChannelCredentials {
  if (!groups) return grpc.credentials.createSsl(ca);
  return grpc.credentials.createFromSecureContext(createSecureContext({ ca, ecdhCurve: groups }));
}

/**
 * Settles as `call` does, or rejects with the connection's death as soon as it is found dead: calls
 * already on a dead connection would otherwise each wait for their deadline (`timeoutMs`).
 */
function unlessDead<T>(conn: Connection, call: Promise<T>): Promise<T> {
  const dead = conn.dead.signal;
  if (dead.aborted) return Promise.reject(dead.reason);
  return new Promise<T>((resolve, reject) => {
    const onDead = () => reject(dead.reason);
    dead.addEventListener('abort', onDead, { once: true });
    call.then(resolve, reject).finally(() => dead.removeEventListener('abort', onDead));
  });
}

function waitForReady(client: grpc.Client, ms: number): Promise<void> {
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + ms, (e) => (e ? reject(e) : resolve())),
  );
}

export class FabricDriver implements LedgerDriver {
  readonly kind = 'fabric' as const;
  private conn: Connection;
  private observedHeight: number | undefined;
  private readonly failbackTimer: NodeJS.Timeout;
  private readonly livenessTimer: NodeJS.Timeout;
  private probing = false;
  private checkingLiveness = false;
  private closed = false;
  /** Peer changes, oldest first (endpoint and why), for logs and tests. */
  readonly peerChanges: { from: string; to: string; why: string }[] = [];

  private constructor(
    private readonly config: FabricConfig,
    private readonly peers: readonly Peer[],
  ) {
    this.conn = new Connection(0, this.newClient(0));
    this.failbackTimer = setInterval(() => void this.failback(), config.failbackMs);
    this.failbackTimer.unref();
    this.livenessTimer = setInterval(() => void this.checkLiveness(), config.livenessMs);
    this.livenessTimer.unref();
  }

  static async open(config: FabricConfig): Promise<FabricDriver> {
    const list = peersOf(config);
    if (list.length === 0) {
      throw new LedgerError('connect', 'no Fabric peer is configured (fabric.peers or fabric.peerEndpoint)');
    }
    const peers = await Promise.all(
      list.map(async (p) => ({
        endpoint: p.endpoint,
        credentials: peerCredentials(await readFile(p.tlsCaCert), config.tlsGroups),
        options: {
          // A block arrives as one message and may be far larger than grpc-js's 4 MB default (a batch
          // of receipts is up to ~9 MB on its own; a BFT block cut from an outage's backlog was 8.5 MB):
          // accept what the peer sends (its own limit, peer.maxSendMsgSize, defaults to 100 MB).
          'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
          // Each client its own connection: grpc-js otherwise shares one per target and options
          // between clients, so a new client for a dead connection would get the same dead one back.
          'grpc.use_local_subchannel_pool': 1,
          ...(p.hostAlias ? { 'grpc.ssl_target_name_override': p.hostAlias } : {}),
        },
      })),
    );
    return new FabricDriver(config, peers);
  }

  /** The endpoint of the peer in use. */
  get currentPeer(): string {
    return this.peers[this.conn.index]!.endpoint;
  }

  private newClient(index: number): grpc.Client {
    const p = this.peers[index]!;
    return new grpc.Client(p.endpoint, p.credentials, p.options);
  }

  private probeMs(): number {
    return Math.min(this.config.timeoutMs, 5000);
  }

  /**
   * Moves from `from` to `to` (default: the next peer) unless another call already moved; to the same
   * peer only with a new `client` (a new connection replacing a dead one).
   */
  private use(
    from: Connection,
    why: string,
    to = (from.index + 1) % this.peers.length,
    client?: grpc.Client,
  ): void {
    if (this.closed || from !== this.conn || (to === from.index && !client)) {
      client?.close();
      return;
    }
    this.conn = new Connection(to, client ?? this.newClient(to));
    this.peerChanges.push({ from: this.peers[from.index]!.endpoint, to: this.peers[to]!.endpoint, why });
    this.retire(from);
  }

  /**
   * Closes a connection the driver moved away from once calls already under way on it had their
   * time (a commit-status wait may take `timeoutMs`): closing at once failed them with gRPC's
   * "Channel has been shut down" (a failback in the middle of an append load answered 500s).
   */
  private retire(conn: Connection): void {
    this.retiring.add(conn);
    setTimeout(() => {
      this.retiring.delete(conn);
      conn.close();
    }, this.config.timeoutMs).unref();
  }

  private readonly retiring = new Set<Connection>();

  /**
   * Whether the connection in use still answers a call (every `livenessMs`, and after a call through
   * it timed out); one that does not is replaced, and its block streams are ended.
   */
  private async checkLiveness(): Promise<void> {
    const conn = this.conn;
    if (this.closed || this.checkingLiveness) return;
    // Only a connection grpc-js believes in can be dead unnoticed; the others fail their calls fast.
    if (conn.client.getChannel().getConnectivityState(false) !== grpc.connectivityState.READY) return;
    this.checkingLiveness = true;
    try {
      if (await answers(conn.client, this.probeMs())) return;
      const why = `the connection did not answer a call within ${this.probeMs()} ms`;
      // Another peer if there is one (failback returns to the first once it answers); else a new connection.
      const to = this.peers.length > 1 ? (conn.index + 1) % this.peers.length : conn.index;
      this.use(conn, why, to, to === conn.index ? this.newClient(to) : undefined);
      conn.dead.abort(
        new LedgerError('connect', `peer ${this.peers[conn.index]!.endpoint}: ${why}`, {
          retryable: true,
          reason: 'PEER_UNAVAILABLE',
        }),
      );
    } finally {
      this.checkingLiveness = false;
    }
  }

  /**
   * A call through `conn` failed as if the peer were gone. Move at once when the channel says it is
   * down; probe first when it is connecting (an UNAVAILABLE can also come from the orderer). A channel
   * that says READY is checked for an answer (a call timed out on it).
   */
  private suspect(conn: Connection, why: string): void {
    if (conn !== this.conn) return;
    const state = conn.client.getChannel().getConnectivityState(false);
    if (state === grpc.connectivityState.READY) {
      void this.checkLiveness();
      return;
    }
    if (this.peers.length < 2) return;
    if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
      this.use(conn, why);
      return;
    }
    if (this.probing) return;
    this.probing = true;
    waitForReady(conn.client, Math.min(this.probeMs(), 1000))
      .catch((e: Error) => this.use(conn, `${why}; probe: ${e.message}`))
      .finally(() => {
        this.probing = false;
      });
  }

  /** While away from the first (own-organisation) peer: move back once it answers again. */
  private async failback(): Promise<void> {
    if (this.closed || this.conn.index === 0 || this.probing) return;
    const from = this.conn;
    const client = this.newClient(0);
    this.probing = true;
    try {
      await waitForReady(client, this.probeMs());
      this.use(from, 'failback: the first peer is reachable again', 0, client);
    } catch {
      client.close();
    } finally {
      this.probing = false;
    }
  }

  /** Maps a failure of a call through `conn`; a gone peer makes the driver look for another. */
  private failure(conn: Connection, e: unknown): unknown {
    const mapped = toLedgerError(e);
    if (
      isPeerUnreachable(mapped) ||
      (mapped instanceof LedgerError &&
        (mapped.reason === 'COMMIT_STATUS_UNKNOWN' || mapped.reason === 'TIMEOUT'))
    ) {
      this.suspect(conn, (mapped as LedgerError).message);
    }
    return mapped;
  }

  private noteHeight(height: number): void {
    if (Number.isSafeInteger(height) && height > (this.observedHeight ?? -1)) this.observedHeight = height;
  }

  private gateway(conn: Connection, identity: WalletIdentity): Gateway {
    const key = `${identity.mspId}\n${identity.label}`;
    let gw = conn.gateways.get(key);
    if (!gw) {
      const deadline = () => ({ deadline: Date.now() + this.config.timeoutMs });
      gw = connect({
        client: conn.client,
        identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certificate) },
        signer: signers.newPrivateKeySigner(createPrivateKey(identity.privateKey)),
        hash: hash.sha256,
        evaluateOptions: deadline,
        endorseOptions: deadline,
        submitOptions: deadline,
        commitStatusOptions: deadline,
      });
      conn.gateways.set(key, gw);
    }
    return gw;
  }

  private contract(conn: Connection, identity: WalletIdentity, chaincode = this.config.chaincode): Contract {
    return this.gateway(conn, identity).getNetwork(this.config.channel).getContract(chaincode);
  }

  /** Through the peer in use when called; the log builder reopens it after a failure (maybe on another peer). */
  async *blocks(identity: WalletIdentity, fromBlock: number, signal: AbortSignal): AsyncIterable<LogBlock> {
    const conn = this.conn;
    let events: Awaited<ReturnType<ReturnType<Gateway['getNetwork']>['getBlockEvents']>>;
    try {
      events = await this.gateway(conn, identity)
        .getNetwork(this.config.channel)
        .getBlockEvents({ startBlock: BigInt(fromBlock) });
    } catch (e) {
      throw this.failure(conn, e);
    }
    const stop = () => events.close();
    signal.addEventListener('abort', stop, { once: true });
    conn.dead.signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const block of events) {
        const logBlock = logBlockOfFabric(block, this.config.chaincode);
        this.noteHeight(logBlock.number + 1);
        yield logBlock;
      }
    } catch (e) {
      if (signal.aborted) return;
      if (conn.dead.signal.aborted) throw conn.dead.signal.reason;
      throw this.failure(conn, e);
    } finally {
      signal.removeEventListener('abort', stop);
      conn.dead.signal.removeEventListener('abort', stop);
      events.close();
    }
    // Ended without an error: only because the connection was found dead (a peer's stream does not end).
    if (conn.dead.signal.aborted) throw conn.dead.signal.reason;
  }

  async submit(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<Committed> {
    const conn = this.conn;
    let submitted: Awaited<ReturnType<Contract['submitAsync']>>;
    let status: Awaited<ReturnType<typeof submitted.getStatus>>;
    try {
      submitted = await unlessDead(
        conn,
        this.contract(conn, identity).submitAsync(fcn, { arguments: [...args] }),
      );
      status = await unlessDead(conn, submitted.getStatus());
    } catch (e) {
      throw this.failure(conn, e);
    }
    if (!status.successful) {
      const reason =
        Object.entries(StatusCode).find(([, v]) => v === status.code)?.[0] ?? String(status.code);
      throw new LedgerError('commit', `transaction ${status.transactionId} was invalidated: ${reason}`, {
        txId: status.transactionId,
        reason,
        retryable: READ_CONFLICTS.has(reason),
      });
    }
    const block = Number(status.blockNumber);
    this.noteHeight(block + 1);
    return { result: Buffer.from(submitted.getResult()).toString('utf8'), txId: status.transactionId, block };
  }

  async evaluate(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<Uint8Array> {
    const conn = this.conn;
    try {
      return await unlessDead(conn, this.contract(conn, identity).evaluate(fcn, { arguments: [...args] }));
    } catch (e) {
      throw this.failure(conn, e);
    }
  }

  /** qscc `GetBlockByTxID`: the block holding a transaction. */
  async blockOf(identity: WalletIdentity, txId: string): Promise<number | undefined> {
    const conn = this.conn;
    try {
      const block = await unlessDead(
        conn,
        this.contract(conn, identity, 'qscc').evaluate('GetBlockByTxID', {
          arguments: [this.config.channel, txId],
        }),
      );
      return blockNumberOf(block);
    } catch (e) {
      this.failure(conn, e);
      return undefined;
    }
  }

  height(): number | undefined {
    return this.observedHeight;
  }

  /**
   * Ready when a peer accepts a connection (trying each configured peer in turn, moving to the first
   * that does) and, given an identity, answers qscc `GetChainInfo` for the channel — which also
   * refreshes `height()`.
   */
  async checkReady(identity: WalletIdentity | undefined): Promise<void> {
    const tried: string[] = [];
    for (let i = 0; ; i++) {
      const conn = this.conn;
      try {
        await waitForReady(conn.client, this.probeMs());
        break;
      } catch (e) {
        tried.push(`${this.peers[conn.index]!.endpoint} (${(e as Error).message})`);
        if (i + 1 >= this.peers.length || this.closed) {
          throw new LedgerError('connect', `no peer is reachable: ${tried.join('; ')}`, {
            retryable: true,
            reason: 'PEER_UNAVAILABLE',
          });
        }
        this.use(conn, `not reachable: ${(e as Error).message}`);
      }
    }
    if (!identity) return;
    const conn = this.conn;
    try {
      const info = await unlessDead(
        conn,
        this.contract(conn, identity, 'qscc').evaluate('GetChainInfo', {
          arguments: [this.config.channel],
        }),
      );
      this.noteHeight(heightOf(info));
    } catch (e) {
      const mapped = this.failure(conn, e);
      if (mapped instanceof LedgerError) {
        throw new LedgerError(mapped.stage, `peer ${this.currentPeer}: ${mapped.message}`, mapped.options);
      }
      throw mapped;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.failbackTimer);
    clearInterval(this.livenessTimer);
    this.conn.close();
    for (const conn of this.retiring) conn.close();
    this.retiring.clear();
  }
}
