/**
 * The relay's configuration: one typed object, loaded once at start from defaults, then a JSON file
 * (`--config FILE` / TORGO_RELAY_CONFIG), then TORGO_RELAY_* environment variables, then flags, and
 * validated before anything opens. Nothing else in the relay reads `process.env`. docs/relay.md
 * lists every key.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { LogLevel } from '../gateway/config.js';
import { RelayError } from './errors.js';

const Positive = Type.Integer({ minimum: 1 });

export const RelayConfigSchema = Type.Object(
  {
    /** The outbox's LevelDB folder. */
    dataDir: Type.String({ minLength: 1 }),
    /** Intake over TCP: a loopback address only (intake has no authentication). */
    host: Type.String({ minLength: 1 }),
    /** 0 for any free port. */
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** False: intake on the Unix socket only. */
    tcp: Type.Boolean(),
    /** Intake over a Unix socket at this path too. */
    socket: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** The socket file's mode, octal (`600`: the relay's user only; `660`: its group too). */
    socketMode: Type.String({ pattern: '^[0-7]{3}$' }),
    /** Gateway URLs of ONE ledger, tried in turn (failover, not fan-out). */
    gateways: Type.Array(Type.String({ pattern: '^https?://' }), { minItems: 1, maxItems: 16 }),
    /** File holding the appender token the relay presents to the gateways. */
    tokenFile: Type.Optional(Type.String({ minLength: 1 })),
    /** HTTPS gateways: a PEM CA to trust, and a client certificate + key (mutual TLS). */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    certFile: Type.Optional(Type.String({ minLength: 1 })),
    keyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** PEM ML-DSA private key: the relay signs every receipt it accepts with it (registered at the gateway). */
    signKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Outbox bounds: receipts (queued + rejected) and bytes of `.mu` text. */
    maxReceipts: Positive,
    maxBytes: Positive,
    /**
     * Receipts per forward request: at most the gateway's `limits.receiptsPerTransaction` (50), so a
     * request is one transaction and commits in order (a larger one is split into concurrent ones).
     */
    batchSize: Type.Integer({ minimum: 1, maximum: 1000 }),
    minBackoffMs: Positive,
    maxBackoffMs: Positive,
    requestTimeoutMs: Positive,
    logLevel: LogLevel,
  },
  { additionalProperties: false },
);

export type RelayConfig = Static<typeof RelayConfigSchema>;

export const DEFAULT_RELAY_CONFIG: Omit<RelayConfig, 'gateways'> & { gateways: string[] } = {
  dataDir: './relay-data',
  host: '127.0.0.1',
  port: 8087,
  tcp: true,
  socketMode: '600',
  gateways: [],
  maxReceipts: 1_000_000,
  maxBytes: 2 * 1024 ** 3,
  batchSize: 50,
  minBackoffMs: 250,
  maxBackoffMs: 30_000,
  requestTimeoutMs: 30_000,
  logLevel: 'info',
};

type Kind = 'string' | 'integer' | 'boolean' | 'list';
const ENV: Readonly<Record<string, { key: keyof RelayConfig; kind: Kind }>> = {
  TORGO_RELAY_DATA: { key: 'dataDir', kind: 'string' },
  TORGO_RELAY_HOST: { key: 'host', kind: 'string' },
  TORGO_RELAY_PORT: { key: 'port', kind: 'integer' },
  TORGO_RELAY_TCP: { key: 'tcp', kind: 'boolean' },
  TORGO_RELAY_SOCKET: { key: 'socket', kind: 'string' },
  TORGO_RELAY_SOCKET_MODE: { key: 'socketMode', kind: 'string' },
  TORGO_RELAY_GATEWAYS: { key: 'gateways', kind: 'list' },
  TORGO_RELAY_TOKEN_FILE: { key: 'tokenFile', kind: 'string' },
  TORGO_RELAY_SIGN_KEY: { key: 'signKeyFile', kind: 'string' },
  TORGO_RELAY_CA_FILE: { key: 'caFile', kind: 'string' },
  TORGO_RELAY_CERT: { key: 'certFile', kind: 'string' },
  TORGO_RELAY_KEY: { key: 'keyFile', kind: 'string' },
  TORGO_RELAY_MAX_RECEIPTS: { key: 'maxReceipts', kind: 'integer' },
  TORGO_RELAY_MAX_BYTES: { key: 'maxBytes', kind: 'integer' },
  TORGO_RELAY_BATCH_SIZE: { key: 'batchSize', kind: 'integer' },
  TORGO_RELAY_MIN_BACKOFF_MS: { key: 'minBackoffMs', kind: 'integer' },
  TORGO_RELAY_MAX_BACKOFF_MS: { key: 'maxBackoffMs', kind: 'integer' },
  TORGO_RELAY_REQUEST_TIMEOUT_MS: { key: 'requestTimeoutMs', kind: 'integer' },
  TORGO_RELAY_LOG_LEVEL: { key: 'logLevel', kind: 'string' },
};

/** Keys holding paths: relative ones in a config file are taken relative to the file. */
const PATH_KEYS = ['dataDir', 'socket', 'tokenFile', 'signKeyFile', 'caFile', 'certFile', 'keyFile'] as const;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export interface RelayConfigSources {
  file?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  /** Command-line values (undefined: not given). */
  overrides?: Partial<Record<keyof RelayConfig, unknown>>;
}

function configError(message: string): RelayError {
  return new RelayError('E_CONFIG', message);
}

function fromEnv(name: string, raw: string, kind: Kind): unknown {
  if (kind === 'string') return raw;
  if (kind === 'list')
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (kind === 'boolean') {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw configError(`${name}=${raw}: expected true or false`);
  }
  if (!/^\d+$/.test(raw.trim())) throw configError(`${name}=${raw}: expected a non-negative integer`);
  return Number(raw);
}

function fromFile(file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw configError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw configError(`config file ${file} must hold a JSON object`);
  const tree = { ...(value as Record<string, unknown>) };
  const base = path.dirname(path.resolve(file));
  for (const k of PATH_KEYS) {
    const v = tree[k];
    if (typeof v === 'string' && !path.isAbsolute(v)) tree[k] = path.join(base, v);
  }
  return tree;
}

/** Builds and validates the configuration; throws E_CONFIG listing every problem. */
export function loadRelayConfig(sources: RelayConfigSources = {}): RelayConfig {
  const env = sources.env ?? {};
  const file = sources.file ?? env['TORGO_RELAY_CONFIG'];
  const tree: Record<string, unknown> = { ...DEFAULT_RELAY_CONFIG, ...(file ? fromFile(file) : {}) };
  for (const [name, spec] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') tree[spec.key] = fromEnv(name, raw, spec.kind);
  }
  for (const [k, v] of Object.entries(sources.overrides ?? {})) if (v !== undefined) tree[k] = v;
  const problems = [...Value.Errors(RelayConfigSchema, tree)].map(
    (e) => `${e.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)'}: ${e.message}`,
  );
  if (typeof tree['host'] === 'string' && !LOOPBACK.has(tree['host']))
    problems.push(`host: ${tree['host']} is not a loopback address (intake has no authentication)`);
  if (tree['tcp'] === false && !tree['socket']) problems.push('socket: with tcp off, give a socket path');
  if (Array.isArray(tree['gateways']) && tree['gateways'].length === 0)
    problems.push('gateways: give at least one gateway URL (--gateway, TORGO_RELAY_GATEWAYS)');
  if (Boolean(tree['certFile']) !== Boolean(tree['keyFile']))
    problems.push('certFile: give both certFile and keyFile (a client certificate and its key)');
  if (Number(tree['minBackoffMs']) > Number(tree['maxBackoffMs']))
    problems.push('minBackoffMs: must not exceed maxBackoffMs');
  if (problems.length > 0)
    throw configError(`invalid relay configuration:\n  ${[...new Set(problems)].join('\n  ')}`);
  const config = tree as RelayConfig;
  return {
    ...config,
    dataDir: path.resolve(config.dataDir),
    ...(config.socket ? { socket: path.resolve(config.socket) } : {}),
  };
}
