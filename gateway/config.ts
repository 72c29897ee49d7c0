/**
 * The gateway's configuration: one typed object, loaded once at start from defaults, then a JSON
 * file (`--config FILE` / TORGO_CONFIG), then TORGO_* environment variables, then command-line flags,
 * and validated before anything opens. Nothing else in the gateway reads `process.env`.
 * docs/operations.md lists every key.
 */
import {
  DEFAULT_START_SETTINGS,
  MALLOC_ARENA_MAX_LIMIT,
  SEMI_SPACE_MAX_MIB,
} from '../cli/young-generation.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Static, Type } from 'typebox';
import { tlsProblems } from './tls/settings.js';
import { Value } from 'typebox/value';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

/** pino's levels; the relay's config takes the same. */
export const LogLevel = Type.Union([
  Type.Literal('fatal'),
  Type.Literal('error'),
  Type.Literal('warn'),
  Type.Literal('info'),
  Type.Literal('debug'),
  Type.Literal('trace'),
  Type.Literal('silent'),
]);
const Positive = Type.Integer({ minimum: 1 });

/**
 * The organisation's Fabric CA, which issues the identities of new tokens (`torgo token create --role`):
 * a registrar registers each with `torgo.role` as an `ecert` attribute, then it is enrolled.
 */
const FabricCASchema = Type.Object(
  {
    /** `https://host:port` of the CA (use `127.0.0.1`, not `localhost`). */
    url: Type.String({ pattern: '^https?://' }),
    /** The CA's name (`--ca.name`), for servers hosting several CAs. */
    caName: Type.Optional(Type.String({ minLength: 1 })),
    /** PEM the CA's TLS certificate chains to (fabric-ca-server's `ca-cert.pem`). */
    tlsCaCert: Type.Optional(Type.String({ minLength: 1 })),
    /** MSP id of the identities it issues; default: the registrar's, else the admin identity's. */
    mspId: Type.Optional(Type.String({ minLength: 1 })),
    /** Affiliation of new identities; default `''` (the registrar's own, the root for the bootstrap registrar). */
    affiliation: Type.String(),
    /** Who registers: an identity allowed to (`hf.Registrar.Roles` includes client), by enrolment or wallet label. */
    registrar: Type.Union([
      Type.Object(
        { enrollmentId: Type.String({ minLength: 1 }), enrollmentSecret: Type.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
      Type.Object({ identity: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    ]),
  },
  { additionalProperties: false },
);

const PeerSchema = Type.Object(
  {
    /** gRPC endpoint of a peer running the Gateway service, `host:port`. */
    endpoint: Type.String({ minLength: 1 }),
    /** PEM file of the CA that signed the peer's TLS certificate. */
    tlsCaCert: Type.String({ minLength: 1 }),
    /** TLS server name to expect when it differs from the endpoint host (`grpc.ssl_target_name_override`). */
    hostAlias: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

/** OpenSSL group list (`tls.groups`, `fabric.tlsGroups`): names separated by `:`, preference tuples by ` / `. */
const GroupList = Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_:/?*\\- ]+$' });

/**
 * Native HTTPS (docs/operations.md "TLS"). TLS is on when `cert` and `key` are given; the key
 * exchange prefers the hybrid post-quantum group X25519MLKEM768 (gateway/tls/groups.ts).
 */
const TlsSchema = Type.Object(
  {
    /** PEM certificate chain of the gateway, leaf first. */
    cert: Type.Optional(Type.String({ minLength: 1 })),
    /** PEM private key of that certificate (keep it 0600). */
    key: Type.Optional(Type.String({ minLength: 1 })),
    /** Key-exchange groups the server accepts, in OpenSSL's syntax, most preferred first. */
    groups: GroupList,
    /** Refuse clients that offer no post-quantum (hybrid ML-KEM) group: TLS 1.3 only, PQ groups only. */
    requirePostQuantum: Type.Boolean(),
    /** PEM of the CA that issues client certificates (mutual TLS). */
    clientCa: Type.Optional(Type.String({ minLength: 1 })),
    /** Client certificates: `off`, `optional` (a certificate or a bearer token), `required` (certificates only). */
    clientAuth: Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')]),
  },
  { additionalProperties: false },
);

const FabricSchema = Type.Object(
  {
    /**
     * Client library: `gateway` (@hyperledger/fabric-gateway, peers with the Gateway service, Fabric ≥ 2.4)
     * or `network` (fabric-network 2.2 with service discovery, for peers without it).
     */
    client: Type.Union([Type.Literal('gateway'), Type.Literal('network')]),
    /** `network` client: a common connection profile (JSON) to use instead of one built from these settings. */
    connectionProfile: Type.Optional(Type.String({ minLength: 1 })),
    /** Shorthand for one peer: `peers: [{ endpoint: peerEndpoint, tlsCaCert, hostAlias }]`. */
    peerEndpoint: Type.Optional(Type.String({ minLength: 1 })),
    tlsCaCert: Type.Optional(Type.String({ minLength: 1 })),
    hostAlias: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Peers running the Gateway service, own organisation's first: the driver uses the first
     * reachable one, moves on when it becomes unreachable, and tries to move back to the first.
     */
    peers: Type.Optional(Type.Array(PeerSchema, { minItems: 1 })),
    /** How often the driver tries to move back to the first peer while it uses another, in ms. */
    failbackMs: Positive,
    /**
     * How often the driver checks that its peer connection still answers a call, in ms: a connection
     * that does not answer within min(timeoutMs, 5 s) is replaced (docs/operations.md).
     */
    livenessMs: Positive,
    channel: Type.String({ minLength: 1 }),
    chaincode: Type.String({ minLength: 1 }),
    /** Directory of identities in fabric-network's file-system wallet format (`<label>.id`). */
    wallet: Type.String({ minLength: 1 }),
    /** Wallet label of the identity (with `torgo.role=admin`) behind the bootstrap admin token. */
    adminIdentity: Type.String({ minLength: 1 }),
    ca: Type.Optional(FabricCASchema),
    /** How long to wait for endorsement, ordering and commit status, in ms. */
    timeoutMs: Positive,
    /** Key-exchange groups offered to peers (`gateway` client), e.g. `X25519MLKEM768`; default Node's. */
    tlsGroups: Type.Optional(GroupList),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    port: Port,
    /** Data directory: the embedded ledger, the token store and (embedded mode) the identity wallet. */
    dataDir: Type.String({ minLength: 1 }),
    ledger: Type.Union([Type.Literal('embedded'), Type.Literal('fabric')]),
    tls: TlsSchema,
    embedded: Type.Object(
      {
        /** MSP id of the identities the embedded CA issues for tokens. */
        mspId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
        /** Most transactions per block (group commit). */
        maxBlockTxs: Positive,
        /**
         * Most a block waits for more transactions after its first, and only while another is
         * expected (engine/committer.ts, engine/arrivals.ts), in ms; 0: never.
         */
        blockWindowMs: Type.Integer({ minimum: 0, maximum: 1000 }),
        /**
         * LevelDB's block cache, MiB (8: LevelDB's default). Memory the ledger may keep of
         * decompressed table blocks; docs/performance.md §11 measures what it buys a query page.
         */
        cacheMiB: Type.Integer({ minimum: 8, maximum: 65_536 }),
        /**
         * Table files LevelDB keeps open; 0 (the default): derived from the process's open-file limit
         * (gateway/ledger/embedded/open-files.ts), else 100–50,000 (LevelDB clips above), refused at
         * start above what the limit allows. A ledger of N GB has ~500 × N tables of 2 MiB; a point
         * read in one not open first opens it and reads its index and filter.
         */
        maxOpenFiles: Type.Integer({ minimum: 0, maximum: 50_000 }),
        /**
         * LevelDB's write buffer, MiB (4: LevelDB's default): the memtable, and the size of the
         * level-0 tables it is flushed to. Up to twice this much memory (one buffer filling, one
         * being flushed); docs/performance.md §4 measures what it saves per receipt, §12 what each
         * flush holds commits up for (default 8).
         */
        writeBufferMiB: Type.Integer({ minimum: 4, maximum: 1024 }),
        /**
         * Open the ledger's table files (up to what the table cache holds) in the background right
         * after start, so that early queries do not each pay for LevelDB's first open of the tables
         * they meet (engine/tables.ts). The memory open tables take is then taken at start.
         */
        openTablesAtStart: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    fabric: Type.Optional(FabricSchema),
    limits: Type.Object(
      {
        /** Largest request body of any route but the batch route, in bytes. */
        bodyBytes: Type.Integer({ minimum: 1024 }),
        /** Largest body of POST /v1/receipts/batch, in bytes. */
        batchBodyBytes: Type.Integer({ minimum: 1024 }),
        /** Most receipts in one POST /v1/receipts/batch. */
        batchItems: Type.Integer({ minimum: 1, maximum: 1000 }),
        /** Receipts waiting to be submitted (all tokens) before appends answer 503 + Retry-After. */
        queueReceipts: Positive,
        /** Most receipts the coalescer puts in one ledger transaction (the contract allows 100). */
        receiptsPerTransaction: Type.Integer({ minimum: 1, maximum: 100 }),
        /** Append transactions in flight at once. */
        transactionsInFlight: Type.Integer({ minimum: 1, maximum: 1024 }),
        /**
         * How long a single-receipt append waits for others of the same token to share its
         * transaction, in ms (0: none; append/window.ts).
         */
        appendWindowMs: Type.Integer({ minimum: 0, maximum: 1000 }),
        /**
         * Embedded: signature checks queued in one event-loop turn while the verification workers
         * are idle and the main thread is not busy, up to this many, run on the main thread instead
         * (no worker round trip; 0: never).
         */
        inlineVerifications: Type.Integer({ minimum: 0, maximum: 64 }),
        /** Most rows one JSON query page returns. */
        queryPage: Type.Integer({ minimum: 1, maximum: 1000 }),
        /** Most rows one CSV export streams. */
        csvRows: Positive,
        /**
         * How long an append keeps retrying transient ledger failures (an endorser or the peer
         * unreachable, MVCC conflicts…) before answering 503 + Retry-After, in ms (0: no retry).
         */
        retryBudgetMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
        /**
         * A connection must deliver a request's complete headers within this long of opening (or of
         * the request starting), else 408 and the connection closes: slow-loris and half-open
         * connections cannot pile up. In ms.
         */
        headersTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
        /** …and the whole request, body included, within this long (≥ headersTimeoutMs). In ms. */
        requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
        /**
         * An idle keep-alive connection is closed after this long (advertised as `Keep-Alive:
         * timeout=…`). In ms. Longer than the idle periods of clients and of proxies in front (60 s
         * is common): a server that closes an idle connection first races the client's next request
         * on it, which then fails with ECONNRESET (docs/operations.md, "Connections").
         */
        keepAliveTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
      },
      { additionalProperties: false },
    ),
    rateLimit: Type.Object(
      {
        /** Requests per token per window; 0 disables the limit. */
        max: Type.Integer({ minimum: 0 }),
        windowMs: Positive,
      },
      { additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: LogLevel,
        /**
         * JSON log lines are gathered up to this many bytes and written together (and at least every
         * second, and at shutdown); 0 writes each line as it is logged. What `kill -9` loses: docs/operations.md §Logs.
         */
        bufferBytes: Type.Integer({ minimum: 0, maximum: 16_000 }),
      },
      { additionalProperties: false },
    ),
    /** The Node.js runtime `torgo serve` runs on (cli/commands/serve.ts starts it again if needed). */
    node: Type.Object(
      {
        /**
         * V8's `--max-semi-space-size`, MiB: a semi-space of the young generation (which is two of
         * them); 0 leaves Node's default (64 MiB here, from a 4 GiB heap limit). The gateway's live
         * heap is small: with single-threaded GC a small young generation keeps each scavenge short
         * (default 8; docs/performance.md §11, eleventh pass).
         */
        maxSemiSpaceMiB: Type.Integer({ minimum: 0, maximum: SEMI_SPACE_MAX_MIB }),
        /**
         * V8's `--single-threaded-gc`: garbage collected on the thread that made it, without helper
         * threads. With bundle exports on a thread of their own, the appends' thread no longer waits
         * for helpers busy with the export thread's collections (docs/performance.md §12).
         */
        singleThreadedGc: Type.Boolean(),
        /**
         * glibc's malloc arenas at most (MALLOC_ARENA_MAX, given to the process when it starts again;
         * one set in the environment is kept); 0 leaves glibc's own cap, 8 per core. Default 2: the
         * export thread's first export then grows the gateway's RSS by ~20 MiB, not ~60
         * (docs/performance.md §12).
         */
        mallocArenaMax: Type.Integer({ minimum: 0, maximum: MALLOC_ARENA_MAX_LIMIT }),
      },
      { additionalProperties: false },
    ),
    /** How long graceful shutdown waits for in-flight requests before closing anyway, in ms. */
    shutdownTimeoutMs: Positive,
    /** Trust X-Forwarded-For from a reverse proxy (rate limits and logs then see the client address). */
    trustProxy: Type.Boolean(),
    /** The transparency log (docs/transparency.md): origin, operator key, checkpoint cadence. */
    transparency: Type.Object(
      {
        /** The log's origin line in checkpoints (unique per log; by convention a host/path name). */
        origin: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\s+]+$' }),
        /** PKCS#8 PEM of the log operator's ML-DSA key; default `<data>/log/operator.key.pem`, made on first start. */
        keyFile: Type.Optional(Type.String({ minLength: 1 })),
        /** How often a new checkpoint is signed when the log has grown, in ms. */
        checkpointIntervalMs: Positive,
        /** Fabric: the wallet label of the log-operator identity that follows blocks and records checkpoints. */
        identity: Type.Optional(Type.String({ minLength: 1 })),
        /** The log is stalled (readiness 503) when behind the ledger without progress this long, in ms. */
        stallAfterMs: Positive,
        /** How long checkpoint, proof and export requests wait for the log to catch up before 503, in ms. */
        catchUpTimeoutMs: Positive,
        /**
         * On the embedded ledger, bundle exports run on a worker thread of their own, which reads the
         * ledger and the log itself, its V8 old generation capped at this many MiB (an export that
         * outgrows it fails alone); 0 runs them on the gateway's thread, as they always run on Fabric.
         * At least 16: below what a thread needs to start, V8 ends the whole process.
         */
        exportThreadHeapMiB: Type.Union([Type.Literal(0), Type.Integer({ minimum: 16, maximum: 4096 })]),
        /**
         * Start that thread with the gateway (once it listens) rather than with the first export: the
         * memory it takes is then taken at start, and the first export waits for no thread to load.
         */
        exportThreadAtStart: Type.Boolean(),
        /** Longest wait between reconnects of the block stream (backoff from 100 ms, doubling), in ms. */
        reconnectMaxBackoffMs: Type.Integer({ minimum: 100 }),
        /**
         * Witness other organisations' checkpoints of this log as they are recorded on the ledger:
         * check each against this gateway's own log and cosign it (docs/transparency.md §3).
         */
        witness: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type GatewayConfig = Static<typeof ConfigSchema>;
export type TlsConfig = Static<typeof TlsSchema>;
export type FabricConfig = Static<typeof FabricSchema>;
export type PeerConfig = Static<typeof PeerSchema>;
export type FabricCAConfig = Static<typeof FabricCASchema>;

/** The peers to use, in order of preference: `fabric.peers`, or the one-peer shorthand. */
export function peersOf(fabric: FabricConfig): PeerConfig[] {
  if (fabric.peers) return fabric.peers;
  if (fabric.peerEndpoint && fabric.tlsCaCert) {
    return [
      {
        endpoint: fabric.peerEndpoint,
        tlsCaCert: fabric.tlsCaCert,
        ...(fabric.hostAlias ? { hostAlias: fabric.hostAlias } : {}),
      },
    ];
  }
  return [];
}

export const DEFAULT_CONFIG: GatewayConfig = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  ledger: 'embedded',
  tls: {
    groups: 'X25519MLKEM768:SecP256r1MLKEM768 / X25519:P-256:P-384',
    requirePostQuantum: false,
    clientAuth: 'off',
  },
  embedded: {
    mspId: 'TorgoMSP',
    maxBlockTxs: 500,
    blockWindowMs: 10,
    cacheMiB: 8,
    maxOpenFiles: 0,
    writeBufferMiB: 8,
    openTablesAtStart: true,
  },
  limits: {
    bodyBytes: 128 * 1024,
    batchBodyBytes: 8 * 1024 * 1024,
    batchItems: 100,
    queueReceipts: 10_000,
    receiptsPerTransaction: 50,
    transactionsInFlight: 32,
    appendWindowMs: 10,
    inlineVerifications: 8,
    queryPage: 100,
    csvRows: 1_000_000,
    retryBudgetMs: 5000,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 72_000,
  },
  rateLimit: { max: 6000, windowMs: 60_000 },
  log: { level: 'info', bufferBytes: 4096 },
  node: { ...DEFAULT_START_SETTINGS },
  shutdownTimeoutMs: 10_000,
  trustProxy: false,
  transparency: {
    origin: 'torgo-ledger.local/log',
    checkpointIntervalMs: 10_000,
    stallAfterMs: 15_000,
    catchUpTimeoutMs: 10_000,
    exportThreadHeapMiB: 64,
    exportThreadAtStart: true,
    reconnectMaxBackoffMs: 5000,
    witness: true,
  },
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'E_CONFIG';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Tree = { [key: string]: Json };

/** Environment variable → config path and value type. */
export const ENV_VARS: Readonly<Record<string, { path: string; type: 'string' | 'integer' | 'boolean' }>> = {
  TORGO_HOST: { path: 'host', type: 'string' },
  TORGO_PORT: { path: 'port', type: 'integer' },
  TORGO_DATA: { path: 'dataDir', type: 'string' },
  TORGO_LEDGER: { path: 'ledger', type: 'string' },
  TORGO_TLS_CERT: { path: 'tls.cert', type: 'string' },
  TORGO_TLS_KEY: { path: 'tls.key', type: 'string' },
  TORGO_TLS_GROUPS: { path: 'tls.groups', type: 'string' },
  TORGO_TLS_REQUIRE_POST_QUANTUM: { path: 'tls.requirePostQuantum', type: 'boolean' },
  TORGO_TLS_CLIENT_CA: { path: 'tls.clientCa', type: 'string' },
  TORGO_TLS_CLIENT_AUTH: { path: 'tls.clientAuth', type: 'string' },
  TORGO_EMBEDDED_MSP_ID: { path: 'embedded.mspId', type: 'string' },
  TORGO_EMBEDDED_MAX_BLOCK_TXS: { path: 'embedded.maxBlockTxs', type: 'integer' },
  TORGO_EMBEDDED_BLOCK_WINDOW_MS: { path: 'embedded.blockWindowMs', type: 'integer' },
  TORGO_EMBEDDED_CACHE_MIB: { path: 'embedded.cacheMiB', type: 'integer' },
  TORGO_EMBEDDED_MAX_OPEN_FILES: { path: 'embedded.maxOpenFiles', type: 'integer' },
  TORGO_EMBEDDED_OPEN_TABLES_AT_START: { path: 'embedded.openTablesAtStart', type: 'boolean' },
  TORGO_EMBEDDED_WRITE_BUFFER_MIB: { path: 'embedded.writeBufferMiB', type: 'integer' },
  TORGO_FABRIC_PEER_ENDPOINT: { path: 'fabric.peerEndpoint', type: 'string' },
  TORGO_FABRIC_TLS_CA_CERT: { path: 'fabric.tlsCaCert', type: 'string' },
  TORGO_FABRIC_HOST_ALIAS: { path: 'fabric.hostAlias', type: 'string' },
  TORGO_FABRIC_CHANNEL: { path: 'fabric.channel', type: 'string' },
  TORGO_FABRIC_CHAINCODE: { path: 'fabric.chaincode', type: 'string' },
  TORGO_FABRIC_WALLET: { path: 'fabric.wallet', type: 'string' },
  TORGO_FABRIC_TIMEOUT_MS: { path: 'fabric.timeoutMs', type: 'integer' },
  TORGO_FABRIC_FAILBACK_MS: { path: 'fabric.failbackMs', type: 'integer' },
  TORGO_FABRIC_LIVENESS_MS: { path: 'fabric.livenessMs', type: 'integer' },
  TORGO_FABRIC_TLS_GROUPS: { path: 'fabric.tlsGroups', type: 'string' },
  TORGO_FABRIC_CLIENT: { path: 'fabric.client', type: 'string' },
  TORGO_FABRIC_CONNECTION_PROFILE: { path: 'fabric.connectionProfile', type: 'string' },
  TORGO_FABRIC_ADMIN_IDENTITY: { path: 'fabric.adminIdentity', type: 'string' },
  TORGO_FABRIC_CA_URL: { path: 'fabric.ca.url', type: 'string' },
  TORGO_FABRIC_CA_NAME: { path: 'fabric.ca.caName', type: 'string' },
  TORGO_FABRIC_CA_TLS_CA_CERT: { path: 'fabric.ca.tlsCaCert', type: 'string' },
  TORGO_FABRIC_CA_MSP_ID: { path: 'fabric.ca.mspId', type: 'string' },
  TORGO_FABRIC_CA_AFFILIATION: { path: 'fabric.ca.affiliation', type: 'string' },
  TORGO_FABRIC_CA_REGISTRAR_ID: { path: 'fabric.ca.registrar.enrollmentId', type: 'string' },
  TORGO_FABRIC_CA_REGISTRAR_SECRET: { path: 'fabric.ca.registrar.enrollmentSecret', type: 'string' },
  TORGO_FABRIC_CA_REGISTRAR_IDENTITY: { path: 'fabric.ca.registrar.identity', type: 'string' },
  TORGO_MAX_BODY_BYTES: { path: 'limits.bodyBytes', type: 'integer' },
  TORGO_MAX_BATCH_BODY_BYTES: { path: 'limits.batchBodyBytes', type: 'integer' },
  TORGO_MAX_BATCH_ITEMS: { path: 'limits.batchItems', type: 'integer' },
  TORGO_QUEUE_RECEIPTS: { path: 'limits.queueReceipts', type: 'integer' },
  TORGO_RECEIPTS_PER_TRANSACTION: { path: 'limits.receiptsPerTransaction', type: 'integer' },
  TORGO_TRANSACTIONS_IN_FLIGHT: { path: 'limits.transactionsInFlight', type: 'integer' },
  TORGO_APPEND_WINDOW_MS: { path: 'limits.appendWindowMs', type: 'integer' },
  TORGO_INLINE_VERIFICATIONS: { path: 'limits.inlineVerifications', type: 'integer' },
  TORGO_QUERY_PAGE: { path: 'limits.queryPage', type: 'integer' },
  TORGO_CSV_ROWS: { path: 'limits.csvRows', type: 'integer' },
  TORGO_RETRY_BUDGET_MS: { path: 'limits.retryBudgetMs', type: 'integer' },
  TORGO_HEADERS_TIMEOUT_MS: { path: 'limits.headersTimeoutMs', type: 'integer' },
  TORGO_REQUEST_TIMEOUT_MS: { path: 'limits.requestTimeoutMs', type: 'integer' },
  TORGO_KEEP_ALIVE_TIMEOUT_MS: { path: 'limits.keepAliveTimeoutMs', type: 'integer' },
  TORGO_RATE_LIMIT_MAX: { path: 'rateLimit.max', type: 'integer' },
  TORGO_RATE_LIMIT_WINDOW_MS: { path: 'rateLimit.windowMs', type: 'integer' },
  TORGO_LOG_LEVEL: { path: 'log.level', type: 'string' },
  TORGO_LOG_BUFFER_BYTES: { path: 'log.bufferBytes', type: 'integer' },
  TORGO_NODE_MAX_SEMI_SPACE_MIB: { path: 'node.maxSemiSpaceMiB', type: 'integer' },
  TORGO_NODE_SINGLE_THREADED_GC: { path: 'node.singleThreadedGc', type: 'boolean' },
  TORGO_NODE_MALLOC_ARENA_MAX: { path: 'node.mallocArenaMax', type: 'integer' },
  TORGO_SHUTDOWN_TIMEOUT_MS: { path: 'shutdownTimeoutMs', type: 'integer' },
  TORGO_TRUST_PROXY: { path: 'trustProxy', type: 'boolean' },
  TORGO_LOG_ORIGIN: { path: 'transparency.origin', type: 'string' },
  TORGO_LOG_KEY_FILE: { path: 'transparency.keyFile', type: 'string' },
  TORGO_CHECKPOINT_INTERVAL_MS: { path: 'transparency.checkpointIntervalMs', type: 'integer' },
  TORGO_LOG_OPERATOR_IDENTITY: { path: 'transparency.identity', type: 'string' },
  TORGO_LOG_STALL_AFTER_MS: { path: 'transparency.stallAfterMs', type: 'integer' },
  TORGO_LOG_CATCH_UP_TIMEOUT_MS: { path: 'transparency.catchUpTimeoutMs', type: 'integer' },
  TORGO_LOG_EXPORT_THREAD_HEAP_MIB: { path: 'transparency.exportThreadHeapMiB', type: 'integer' },
  TORGO_LOG_EXPORT_THREAD_AT_START: { path: 'transparency.exportThreadAtStart', type: 'boolean' },
  TORGO_LOG_RECONNECT_MAX_BACKOFF_MS: { path: 'transparency.reconnectMaxBackoffMs', type: 'integer' },
  TORGO_LOG_WITNESS: { path: 'transparency.witness', type: 'boolean' },
};

/** Fabric settings that have sensible defaults once the section exists at all. */
const FABRIC_DEFAULTS = {
  client: 'gateway',
  channel: 'torgo',
  chaincode: 'torgo',
  timeoutMs: 30_000,
  failbackMs: 30_000,
  livenessMs: 2000,
  adminIdentity: 'admin',
};
const FABRIC_CA_DEFAULTS = { affiliation: '' };

function setPath(tree: Tree, dotted: string, value: Json): void {
  const parts = dotted.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) node[p] = {};
    node = node[p] as Tree;
  }
  node[parts.at(-1)!] = value;
}

function merge(base: Tree, over: Tree, where: string): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)) {
      out[k] = merge(b as Tree, v as Tree, `${where}${k}.`);
    } else {
      out[k] = v;
    }
  }
  return out;
}

function envValue(name: string, raw: string, type: 'string' | 'integer' | 'boolean'): Json {
  if (type === 'string') return raw;
  if (type === 'boolean') {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new ConfigError(`${name}=${raw}: expected true or false`);
  }
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name}=${raw}: expected an integer`);
  return Number(raw);
}

export interface ConfigSources {
  /** A JSON config file; relative paths inside it are taken relative to the file's folder. */
  file?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  /** Command-line overrides, as dotted paths (`{ port: 9000, dataDir: '/var/lib/torgo' }`). */
  overrides?: Readonly<Record<string, string | number | boolean | undefined>>;
}

function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  const tree = value as Tree;
  // Paths in a config file are relative to the file, so the file can move with its data.
  const base = path.dirname(path.resolve(file));
  const rel = (v: Json | undefined): Json | undefined =>
    typeof v === 'string' && !path.isAbsolute(v) ? path.join(base, v) : v;
  if (typeof tree['dataDir'] === 'string') tree['dataDir'] = rel(tree['dataDir'])!;
  const fabric = tree['fabric'];
  if (fabric && typeof fabric === 'object' && !Array.isArray(fabric)) {
    for (const k of ['tlsCaCert', 'wallet', 'connectionProfile'])
      if (typeof fabric[k] === 'string') fabric[k] = rel(fabric[k])!;
    const ca = fabric['ca'];
    if (ca && typeof ca === 'object' && !Array.isArray(ca) && typeof ca['tlsCaCert'] === 'string')
      ca['tlsCaCert'] = rel(ca['tlsCaCert'])!;
    if (Array.isArray(fabric['peers'])) {
      for (const peer of fabric['peers']) {
        if (peer && typeof peer === 'object' && !Array.isArray(peer) && typeof peer['tlsCaCert'] === 'string')
          peer['tlsCaCert'] = rel(peer['tlsCaCert'])!;
      }
    }
  }
  const tls = tree['tls'];
  if (tls && typeof tls === 'object' && !Array.isArray(tls)) {
    for (const k of ['cert', 'key', 'clientCa']) if (typeof tls[k] === 'string') tls[k] = rel(tls[k])!;
  }
  const transparency = tree['transparency'];
  if (transparency && typeof transparency === 'object' && !Array.isArray(transparency)) {
    if (typeof transparency['keyFile'] === 'string') transparency['keyFile'] = rel(transparency['keyFile'])!;
  }
  return tree;
}

/** Builds and validates the configuration; throws a ConfigError listing every problem. */
export function loadConfig(sources: ConfigSources = {}): GatewayConfig {
  const env = sources.env ?? {};
  const file = sources.file ?? env['TORGO_CONFIG'];
  let tree: Tree = structuredClone(DEFAULT_CONFIG) as unknown as Tree;
  if (file) tree = merge(tree, readConfigFile(file), '');
  const layer: Tree = {};
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') setPath(layer, spec.path, envValue(name, raw, spec.type));
  }
  for (const [dotted, value] of Object.entries(sources.overrides ?? {})) {
    if (value !== undefined) setPath(layer, dotted, value);
  }
  tree = merge(tree, layer, '');
  if (tree['fabric'] && typeof tree['fabric'] === 'object') {
    const fabric = merge(FABRIC_DEFAULTS, tree['fabric'] as Tree, 'fabric.');
    if (fabric['ca'] && typeof fabric['ca'] === 'object')
      fabric['ca'] = merge(FABRIC_CA_DEFAULTS, fabric['ca'] as Tree, 'fabric.ca.');
    tree['fabric'] = fabric;
  }
  const problems = [...Value.Errors(ConfigSchema, tree)]
    // A union reports its own mismatch and each branch's; the registrar's shape is explained once below.
    .filter((e) => !e.instancePath.startsWith('/fabric/ca/registrar'))
    .map((e) => `${e.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)'}: ${e.message}`);
  const ca = (tree['fabric'] as Tree | undefined)?.['ca'];
  if (
    ca &&
    typeof ca === 'object' &&
    !Array.isArray(ca) &&
    !Value.Check(FabricCASchema.properties.registrar, ca['registrar'])
  ) {
    problems.push(
      'fabric.ca.registrar: give either { enrollmentId, enrollmentSecret } or { identity: <wallet label> }, not both',
    );
  }
  const limits = tree['limits'] as Tree | undefined;
  if (
    limits &&
    typeof limits['headersTimeoutMs'] === 'number' &&
    typeof limits['requestTimeoutMs'] === 'number' &&
    limits['headersTimeoutMs'] > limits['requestTimeoutMs']
  ) {
    problems.push('limits.headersTimeoutMs: must not exceed limits.requestTimeoutMs');
  }
  const maxOpenFiles = (tree['embedded'] as Tree | undefined)?.['maxOpenFiles'];
  if (typeof maxOpenFiles === 'number' && maxOpenFiles > 0 && maxOpenFiles < 100) {
    problems.push('embedded.maxOpenFiles: 0 (derived from the open-file limit) or 100–50000');
  }
  if (tree['ledger'] === 'fabric' && !tree['fabric']) {
    problems.push('fabric: ledger "fabric" needs a fabric section (peerEndpoint, tlsCaCert, wallet…)');
  }
  const fabric = tree['fabric'];
  if (fabric && typeof fabric === 'object' && !Array.isArray(fabric)) {
    const shorthand = fabric['peerEndpoint'] !== undefined || fabric['tlsCaCert'] !== undefined;
    if (fabric['peers'] !== undefined && shorthand) {
      problems.push('fabric: give either fabric.peers or fabric.peerEndpoint + fabric.tlsCaCert, not both');
    } else if (fabric['peers'] === undefined && !(fabric['peerEndpoint'] && fabric['tlsCaCert'])) {
      problems.push('fabric: give fabric.peers, or fabric.peerEndpoint and fabric.tlsCaCert (one peer)');
    }
    if (fabric['tlsGroups'] !== undefined && fabric['client'] === 'network') {
      problems.push(
        'fabric.tlsGroups applies to fabric.client "gateway" only (fabric-network opens its own connections, with Node\'s default groups)',
      );
    }
  }
  problems.push(...tlsProblems(tree['tls'], (tree['fabric'] as Tree | undefined)?.['tlsGroups']));
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${[...new Set(problems)].join('\n  ')}`);
  }
  const config = tree as unknown as GatewayConfig;
  return { ...config, dataDir: path.resolve(config.dataDir) };
}
