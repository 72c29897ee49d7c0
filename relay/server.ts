/**
 * `torgo relay` as a process: reads the token and signing key named by the config, opens the relay,
 * listens on loopback TCP and/or a Unix socket, and stops cleanly on SIGTERM/SIGINT (what was
 * accepted stays in the outbox; nothing in flight is lost, it is resent at the next start).
 */
import { chmod, lstat, readFile, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import type { TlsOptions } from '@torgo/client';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { type PrivateKey, privateKeyFromPem } from '../core/index.js';
import type { RelayConfig } from './config.js';
import { RelayError } from './errors.js';
import { gatewayTarget } from './gateway-target.js';
import { buildRelayApp } from './http.js';
import { Relay } from './relay.js';

export interface RunningRelay {
  readonly relay: Relay;
  /** `http://127.0.0.1:PORT` when TCP intake is on. */
  readonly url: string | undefined;
  readonly socket: string | undefined;
  /** Resolves once the relay stopped (after `close()` or a signal). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export interface StartRelayOptions {
  /** Secrets from the environment (TORGO_RELAY_TOKEN) when no token file is configured. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** False: no log at all (tests). */
  readonly log?: false;
  readonly handleSignals?: boolean;
}

const SECRET_FILE_LIMIT = 64 * 1024;

async function readSecret(file: string, what: string): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    if (text.length > SECRET_FILE_LIMIT) throw new Error(`larger than ${SECRET_FILE_LIMIT} bytes`);
    return text;
  } catch (e) {
    throw new RelayError('E_CONFIG', `cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

/** The HTTPS settings towards the gateways, read once at start. */
async function tlsOf(config: RelayConfig): Promise<TlsOptions | undefined> {
  if (!config.caFile && !config.certFile) return undefined;
  return {
    ...(config.caFile ? { ca: await readSecret(config.caFile, 'CA file') } : {}),
    ...(config.certFile ? { cert: await readSecret(config.certFile, 'client certificate') } : {}),
    ...(config.keyFile ? { key: await readSecret(config.keyFile, 'client key') } : {}),
  };
}

async function signerOf(config: RelayConfig): Promise<PrivateKey | undefined> {
  if (!config.signKeyFile) return undefined;
  const pem = await readSecret(config.signKeyFile, 'signing key');
  try {
    return privateKeyFromPem(pem);
  } catch (e) {
    throw new RelayError('E_CONFIG', `signing key ${config.signKeyFile}: ${(e as Error).message}`);
  }
}

/** A socket path left by a relay that died is removed; one a live process listens on is refused. */
async function clearStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (!stat) return;
  if (!stat.isSocket()) throw new RelayError('E_CONFIG', `socket ${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new RelayError('E_RELAY_LOCKED', `socket ${path} is in use by another process`);
  await unlink(path);
}

export async function startRelay(
  config: RelayConfig,
  options: StartRelayOptions = {},
): Promise<RunningRelay> {
  const env = options.env ?? {};
  const token = config.tokenFile
    ? (await readSecret(config.tokenFile, 'token file')).trim()
    : env['TORGO_RELAY_TOKEN'] || undefined;
  const signer = await signerOf(config);
  const tls = await tlsOf(config);
  const log: Logger | false =
    options.log === false
      ? false
      : pino({
          level: config.logLevel,
          redact: { paths: ['req.headers.authorization'], censor: '[redacted]' },
        });
  const relay = await Relay.open({
    dataDir: config.dataDir,
    limits: { maxReceipts: config.maxReceipts, maxBytes: config.maxBytes },
    targets: config.gateways.map((g) => gatewayTarget(g, { token, tls, timeoutMs: config.requestTimeoutMs })),
    forward: config,
    ...(signer ? { signer } : {}),
    ...(log ? { log } : {}),
  });
  const apps: FastifyInstance[] = [];
  let url: string | undefined;
  try {
    if (config.tcp) {
      const app = buildRelayApp(relay, log);
      apps.push(app);
      const address = await app.listen({ host: config.host, port: config.port });
      url = address;
    }
    if (config.socket) {
      await clearStaleSocket(config.socket);
      const app = buildRelayApp(relay, log);
      apps.push(app);
      await app.listen({ path: config.socket });
      await chmod(config.socket, Number.parseInt(config.socketMode, 8));
    }
  } catch (e) {
    await Promise.allSettled(apps.map((a) => a.close()));
    await relay.close();
    throw e;
  }
  if (log) {
    log.info(
      {
        url,
        socket: config.socket,
        gateways: config.gateways,
        dataDir: config.dataDir,
        signer: signer?.keyId,
      },
      'relay listening',
    );
  }
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Intake first (no new receipts), then the forwarder and the outbox.
      await Promise.allSettled(apps.map((a) => a.close()));
      await relay.close();
      resolveClosed();
    })();
    return closing;
  };
  if (options.handleSignals) {
    const onSignal = (): void => {
      void close();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { relay, url, socket: config.socket, closed, close };
}
