/**
 * JSON schemas (TypeBox) of the HTTP API v1, defined once: the gateway validates requests and
 * serialises responses with them (fields not listed never leave), @fastify/swagger publishes them
 * as /openapi.json, and the CLI, the console and @torgo/client take their types from them
 * (types.ts). Browser-safe: nothing here touches Node.
 */
import { type Static, type TSchema, Type } from 'typebox';

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable error code (docs/api.md)', examples: ['E_RECEIPT_CONFLICT'] }),
    message: Type.String({ description: 'For people; may change' }),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'Error', title: 'Error' },
);

export const Errors = {
  '4xx': Type.Ref('Error'),
  '5xx': Type.Ref('Error'),
} as const;

export const AppendAck = Type.Object(
  {
    id: Type.String({ description: 'Receipt id (ULID or UUID) from the receipt' }),
    txId: Type.String({ description: 'Ledger transaction that first appended it' }),
    block: Type.Integer({ minimum: 0, description: 'Block holding that transaction' }),
    hash: Type.String({ description: '`sha256:<hex>` of the whole .mu file' }),
    committedAt: Type.String({
      description: 'Ledger time of that transaction (RFC 3339, 9 fraction digits)',
    }),
  },
  { $id: 'AppendAck', title: 'AppendAck' },
);

export const ReceiptWrapper = Type.Object(
  { receipt: Type.String({ minLength: 1, description: 'The whole .mu file as text' }) },
  { additionalProperties: false },
);

/**
 * The .mu file itself as a body (text/markdown): bytes the receipt checks read, so no JSON type
 * (OpenAPI 3.1 describes raw file content by its media type alone).
 */
export const MuFileBody = Type.Unknown({
  description: 'The .mu file, UTF-8 (no charset, or charset=utf-8)',
});

/** The .mu file in an answer (GET /v1/receipts/{id} with Accept: text/markdown). */
export const MuFile = Type.String({ description: 'The .mu file exactly as appended' });

/** CSV rows of a query (GET /v1/receipts with Accept: text/csv). */
export const ReceiptCsv = Type.String({ description: 'RFC 4180 CSV with a header row (docs/api.md)' });

export function batchBody(maxItems: number) {
  return Type.Object(
    {
      receipts: Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        maxItems,
        description: `1–${maxItems} .mu files as text`,
      }),
    },
    { additionalProperties: false },
  );
}

export const BatchItem = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  status: Type.Integer({
    description: '201 appended, 200 identical repeat, else the status the item alone would get',
  }),
  receipt: Type.Optional(Type.Ref('AppendAck')),
  error: Type.Optional(Type.Ref('Error')),
});

export const BatchResult = Type.Object({
  results: Type.Array(BatchItem),
  appended: Type.Integer(),
  existing: Type.Integer(),
  failed: Type.Integer(),
});

const Party = Type.Object({ mspId: Type.String(), id: Type.String() }, { $id: 'Party', title: 'Party' });
export const PartySchema = Party;

export const Receipt = Type.Object(
  {
    id: Type.String(),
    hash: Type.String({ description: '`sha256:<hex>` of `mu`' }),
    source: Type.String(),
    operation: Type.String(),
    subject: Type.String(),
    occurredAt: Type.String({ description: "The source's claim, from the receipt" }),
    committedAt: Type.String({ description: 'Ledger time (what time windows filter on)' }),
    txId: Type.String(),
    block: Type.Optional(Type.Integer({ description: 'Only on GET /v1/receipts/{id}' })),
    signerKeyIds: Type.Array(Type.String()),
    submitter: Type.Ref('Party'),
    revokedSigners: Type.Array(
      Type.Object({ keyId: Type.String(), revokedAt: Type.String(), reason: Type.String() }),
      { description: 'Signer keys revoked since the receipt was appended' },
    ),
    mu: Type.String({ description: 'The .mu file' }),
  },
  { $id: 'Receipt', title: 'Receipt' },
);

export const ReceiptPage = Type.Object({
  receipts: Type.Array(Type.Ref('Receipt')),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as `cursor` for the next page; null at the end',
  }),
});

export const ReceiptId = Type.Object({ id: Type.String({ pattern: '^[0-9A-Za-z-]{26,36}$' }) });

export function queryString(maxLimit: number) {
  return Type.Object(
    {
      source: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
      subject: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      operation: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      from: Type.Optional(Type.String({ description: 'committedAt ≥ from (RFC 3339 UTC)' })),
      to: Type.Optional(Type.String({ description: 'committedAt < to (RFC 3339 UTC)' })),
      order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: maxLimit })),
      cursor: Type.Optional(Type.String({ maxLength: 2048 })),
    },
    { additionalProperties: false },
  );
}

export const KeyRecord = Type.Object(
  {
    keyId: Type.String(),
    alg: Type.String(),
    publicKey: Type.String({ description: 'SubjectPublicKeyInfo PEM' }),
    label: Type.String(),
    owner: Type.Ref('Party'),
    status: Type.Union([Type.Literal('active'), Type.Literal('retired'), Type.Literal('revoked')]),
    registeredAt: Type.String(),
    registeredTxId: Type.String(),
    predecessor: Type.Optional(Type.String()),
    retiredAt: Type.Optional(Type.String()),
    successor: Type.Optional(Type.String()),
    revokedAt: Type.Optional(Type.String()),
    revocationReason: Type.Optional(Type.String()),
    revokedBy: Type.Optional(Type.Ref('Party')),
  },
  { $id: 'KeyRecord', title: 'KeyRecord' },
);

export const KeyWrite = Type.Object({
  key: Type.Ref('KeyRecord'),
  txId: Type.String(),
  block: Type.Integer(),
});

export const KeyRotation = Type.Object({
  retired: Type.Ref('KeyRecord'),
  registered: Type.Ref('KeyRecord'),
  txId: Type.String(),
  block: Type.Integer(),
});

export const KeyHistory = Type.Object({
  keyId: Type.String(),
  history: Type.Array(
    Type.Object({
      txId: Type.String(),
      timestamp: Type.String(),
      isDelete: Type.Boolean(),
      value: Type.Union([Type.Ref('KeyRecord'), Type.Null()]),
    }),
  ),
});

export const KeyIdParams = Type.Object({ keyId: Type.String({ pattern: '^[0-9a-f]{64}$' }) });

export const RegisterKeyBody = Type.Object(
  {
    publicKey: Type.String({
      minLength: 1,
      maxLength: 16384,
      description: 'PEM SubjectPublicKeyInfo, or raw base64',
    }),
    label: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);

export const RotateKeyBody = Type.Object(
  { publicKey: Type.String({ minLength: 1, maxLength: 16384 }) },
  { additionalProperties: false },
);

export const RevokeKeyBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

export const TokenInfo = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    roles: Type.Array(Type.String()),
    identity: Type.String({ description: 'Wallet label of the identity the ledger sees' }),
    createdAt: Type.String(),
    createdBy: Type.String(),
    revokedAt: Type.Optional(Type.String()),
    revokedBy: Type.Optional(Type.String()),
    rotatedFrom: Type.Optional(
      Type.String({
        description: 'The token this one replaced by rotation (revoked when this one was made)',
      }),
    ),
  },
  { $id: 'TokenInfo', title: 'TokenInfo' },
);

export const TokenList = Type.Object({ tokens: Type.Array(Type.Ref('TokenInfo')) });

export const TokenCreated = Type.Object({
  token: Type.String({ description: 'The bearer token. Shown once: only its hash is kept' }),
  info: Type.Ref('TokenInfo'),
});

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    roles: Type.Optional(Type.Array(Type.String(), { maxItems: 4 })),
    identity: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'Use this wallet identity instead of issuing one',
      }),
    ),
  },
  { additionalProperties: false },
);

export const TokenIdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$' }) });

export const AuditQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'events with seq > after (default 0)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 100' })),
  },
  { additionalProperties: false },
);

const AuditedToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  identity: Type.String(),
  roles: Type.Array(Type.String()),
});

export const AuditEvent = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    at: Type.String({ description: 'RFC 3339 UTC' }),
    event: Type.Union([
      Type.Literal('token.issued'),
      Type.Literal('token.rotated'),
      Type.Literal('token.revoked'),
      Type.Literal('token.refused'),
      Type.Literal('token.imported'),
    ]),
    actor: Type.Union([
      Type.Object({ kind: Type.Literal('token'), tokenId: Type.String(), identity: Type.String() }),
      Type.Object({
        kind: Type.Literal('operator'),
        procedure: Type.Union([
          Type.Literal('first-start'),
          Type.Literal('bootstrap-admin'),
          Type.Literal('log-operator-token'),
          Type.Literal('import'),
        ]),
      }),
    ]),
    token: Type.Optional(AuditedToken),
    replaces: Type.Optional(
      Type.String({ description: 'token.rotated: the token revoked by this rotation' }),
    ),
    refused: Type.Optional(
      Type.Object({
        code: Type.String(),
        message: Type.String(),
        request: Type.Record(Type.String(), Type.Unknown()),
      }),
    ),
    prev: Type.String({ description: '`sha256:<hex>` of the canonical JSON of the previous event' }),
  },
  { $id: 'AuditEvent', title: 'AuditEvent' },
);

export const AuditPage = Type.Object({
  events: Type.Array(Type.Ref('AuditEvent')),
  head: Type.Object({
    seq: Type.Integer({ minimum: 0 }),
    hash: Type.String({ description: '`sha256:<hex>` of the latest event (the genesis value when empty)' }),
  }),
  nextAfter: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Pass as `after` for the next page; null when this page reaches the head',
  }),
});

export const Me = Type.Object({
  tokenId: Type.String(),
  name: Type.String(),
  roles: Type.Array(Type.String()),
  identity: Type.String(),
  mspId: Type.String(),
});

// The transparency log (docs/transparency.md, docs/bundle-format.md).
export const Size = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const Checkpoint = Type.Object({
  origin: Type.String(),
  size: Type.Integer(),
  rootHash: Type.String({ description: 'base64 RFC 9162 root hash' }),
  note: Type.String({
    description: 'the signed checkpoint (C2SP signed note), verify with the operator key',
  }),
  operatorKeyId: Type.String(),
});

export const Inclusion = Type.Object({
  id: Type.String(),
  leafIndex: Type.Integer(),
  treeSize: Type.Integer(),
  proof: Type.Array(Type.String(), { description: 'base64 nodes, RFC 9162 §2.1.3' }),
  entry: Type.Unknown({ description: 'the log entry whose leaf hash the proof is for' }),
  checkpoint: Type.Optional(
    Type.String({ description: 'the signed checkpoint of size treeSize (when size was not given)' }),
  ),
});

export const ExportQuery = Type.Object(
  {
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    operation: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    from: Type.Optional(Type.String()),
    to: Type.Optional(Type.String()),
    checkpoint: Type.Optional(
      Type.Union([Type.Literal('fresh'), Type.Literal('cosigned')], {
        description:
          "fresh (default): a checkpoint of the whole log, signed by this gateway; cosigned: the newest checkpoint recorded on the ledger with this gateway's signature and other organisations' cosignatures (receipts logged after it are left out)",
      }),
    ),
  },
  { additionalProperties: false },
);

/** An export bundle (GET /v1/export): torgo.bundle/2 JSON lines. */
export const BundleLines = Type.String({ description: 'torgo.bundle/2: one JSON value per line' });

// Witnessing (POST /v1/checkpoint/cosign).
export function cosignRequest(maxNoteBytes: number) {
  return Type.Object(
    {
      note: Type.String({
        minLength: 1,
        maxLength: maxNoteBytes,
        description: 'a signed checkpoint (C2SP signed note) of this log',
      }),
    },
    { additionalProperties: false },
  );
}

export const Cosigned = Type.Object({
  origin: Type.String(),
  size: Type.Integer(),
  rootHash: Type.String({ description: 'base64 RFC 9162 root hash' }),
  note: Type.String({ description: 'the same note with this gateway’s signature line added' }),
  operatorKeyId: Type.String({ description: 'the key this gateway cosigned with' }),
});

const WitnessHead = Type.Object({ size: Type.Integer(), rootHash: Type.String() });
export const WitnessStatus = Type.Object({
  enabled: Type.Boolean({ description: 'transparency.witness' }),
  cosigned: Type.Integer({ description: "other organisations' checkpoints checked and cosigned" }),
  refused: Type.Integer({ description: 'checkpoints refused (fork, inconsistent, malformed): never signed' }),
  stale: Type.Integer({ description: 'checkpoints older than the last one cosigned, skipped' }),
  raced: Type.Integer({
    description:
      "cosignatures whose recording lost a race with another organisation's cosignature of the same checkpoint; cosigned again on that one's event",
  }),
  lastRefusal: Type.Optional(
    Type.Object({ code: Type.String(), message: Type.String(), block: Type.Integer() }),
  ),
  witnessed: Type.Optional(WitnessHead),
  latest: Type.Optional(
    Type.Object({
      size: Type.Integer(),
      rootHash: Type.String(),
      signatures: Type.Integer({ description: 'signature lines on the newest cosigned checkpoint' }),
    }),
  ),
});

// Operations: liveness and readiness (docs/operations.md).
export const Health = Type.Object({ status: Type.Literal('ok') });

export const LogReadiness = Type.Object(
  {
    state: Type.Union([
      Type.Literal('following'),
      Type.Literal('reconnecting'),
      Type.Literal('stopped'),
      Type.Literal('off'),
    ]),
    nextBlock: Type.Optional(Type.Integer({ description: 'first ledger block not yet in the log' })),
    height: Type.Optional(Type.Integer({ description: 'ledger height the log compares itself with' })),
    lagBlocks: Type.Optional(Type.Integer()),
    stalled: Type.Optional(Type.Boolean()),
    stalledForSeconds: Type.Optional(Type.Integer()),
    reconnects: Type.Optional(Type.Integer()),
    consecutiveFailures: Type.Optional(Type.Integer()),
    lastError: Type.Optional(Type.String()),
    lastBlockAt: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const Counts = Type.Record(Type.String(), Type.Integer());
export const TlsReadiness = Type.Object(
  {
    enabled: Type.Boolean({ description: 'whether this listener speaks HTTPS' }),
    groups: Type.Optional(
      Type.Array(Type.String(), { description: 'key-exchange groups offered, preferred first' }),
    ),
    requirePostQuantum: Type.Optional(Type.Boolean()),
    clientAuth: Type.Optional(Type.String()),
    handshakes: Type.Optional(Counts),
    failures: Type.Optional(Counts),
    lastGroup: Type.Optional(
      Type.String({ description: 'key-exchange group of the latest client handshake' }),
    ),
    outbound: Type.Array(
      Type.Object({
        endpoint: Type.String(),
        servername: Type.Optional(Type.String()),
        group: Type.String(),
        at: Type.String(),
      }),
      {
        description:
          "the gateway's own TLS connections (Fabric peers, CA): latest handshake's group per endpoint",
      },
    ),
  },
  {
    additionalProperties: false,
    description: 'transport security: negotiated key-exchange groups (docs/operations.md)',
  },
);

export const Readiness = Type.Object({
  status: Type.Literal('ready'),
  ledger: Type.String(),
  height: Type.Optional(Type.Integer()),
  details: Type.Object({
    ledger: Type.Object({ ok: Type.Boolean(), reason: Type.Optional(Type.String()) }),
    commits: Type.Object(
      {
        ok: Type.Boolean(),
        stage: Type.Optional(Type.String()),
        reason: Type.Optional(Type.String()),
        since: Type.Optional(Type.String()),
        failures: Type.Optional(Type.Integer()),
      },
      {
        description: 'whether the latest append transactions committed (contract server, endorsers, orderer)',
      },
    ),
    log: LogReadiness,
    tls: Type.Optional(TlsReadiness),
  }),
});

/** Schemas referenced by `$ref` (registered with fastify.addSchema, listed in OpenAPI components). */
export const SHARED_SCHEMAS = [ErrorBody, AppendAck, Party, Receipt, KeyRecord, TokenInfo, AuditEvent];

// The types of the bodies, inferred from the schemas above (never written by hand); `$ref`s to the
// shared schemas resolve through `Shared`. Each type has its schema's name.

/** The `$ref` names of the shared schemas (their `$id`s) and the schemas they name. */
type Shared = {
  Error: typeof ErrorBody;
  AppendAck: typeof AppendAck;
  Party: typeof PartySchema;
  Receipt: typeof Receipt;
  KeyRecord: typeof KeyRecord;
  TokenInfo: typeof TokenInfo;
  AuditEvent: typeof AuditEvent;
};

/** The type of a body that `schema` describes, `$ref`s to shared schemas resolved. */
export type Body<T extends TSchema> = Static<T, Shared>;

export type ApiErrorBody = Body<typeof ErrorBody>;
export type AppendAck = Body<typeof AppendAck>;
export type BatchItem = Body<typeof BatchItem>;
export type BatchResult = Body<typeof BatchResult>;
export type Party = Body<typeof PartySchema>;
export type ReceiptResource = Body<typeof Receipt>;
export type ReceiptPage = Body<typeof ReceiptPage>;
export type ReceiptQuery = Body<ReturnType<typeof queryString>>;
export type KeyRecord = Body<typeof KeyRecord>;
export type KeyWrite = Body<typeof KeyWrite>;
export type KeyRotation = Body<typeof KeyRotation>;
export type KeyHistory = Body<typeof KeyHistory>;
export type RegisterKeyBody = Body<typeof RegisterKeyBody>;
export type TokenInfo = Body<typeof TokenInfo>;
export type TokenCreated = Body<typeof TokenCreated>;
export type TokenList = Body<typeof TokenList>;
export type CreateTokenBody = Body<typeof CreateTokenBody>;
export type AuditEvent = Body<typeof AuditEvent>;
export type AuditPage = Body<typeof AuditPage>;
export type AuditQuery = Body<typeof AuditQuery>;
export type Me = Body<typeof Me>;
export type Checkpoint = Body<typeof Checkpoint>;
export type Inclusion = Body<typeof Inclusion>;
export type ExportQuery = Body<typeof ExportQuery>;
export type Cosigned = Body<typeof Cosigned>;
export type WitnessStatus = Body<typeof WitnessStatus>;
export type Readiness = Body<typeof Readiness>;
