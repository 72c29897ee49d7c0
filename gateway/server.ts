/**
 * The gateway process: open the service, build the app, listen, print the bootstrap admin token
 * once, and shut down gracefully on SIGTERM/SIGINT — stop accepting, let in-flight requests and
 * queued appends finish, close the ledger — or give up after `shutdownTimeoutMs`.
 */
import { open } from 'node:fs/promises';
import { styleText } from 'node:util';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from './http/app.js';
import type { GatewayConfig } from './config.js';
import { createGatewayLog } from './logging.js';
import { GatewayService, type OpenOptions } from './service.js';
import { EmbeddedDriver } from './ledger/embedded/driver.js';
import { ListenerObserver, listenerOptions } from './tls/listener.js';
import { OutboundObserver } from './tls/outbound.js';

export interface ServeOptions {
  /** Where the bootstrap token banner goes (default stderr). */
  notice?: (text: string) => void;
  /** Write the bootstrap admin token to this file (mode 0600, must not exist) instead of printing it. */
  adminTokenFile?: string | undefined;
  /** Rotate the bootstrap admin token at start even though tokens exist. */
  bootstrapAdmin?: boolean | undefined;
  /** Mint (or rotate) the log operator's token into this new file (0600): the operator's procedure. */
  logOperatorTokenFile?: string | undefined;
  /** Install SIGTERM/SIGINT handlers (the CLI does; tests that own the gateway do not). */
  handleSignals?: boolean;
  /** Logs: true = pino to stdout at config.log.level; false = none. Default true. */
  log?: boolean;
  /** How logs are written: JSON lines, or pino-pretty's coloured lines. Default: pretty on a TTY. */
  logFormat?: 'json' | 'pretty';
  /** Extra routes (e.g. the transparency log's), registered on the same app. */
  routes?: AppOptions['routes'];
  /** The open-file limit the ledger's table files are derived from (service's OpenOptions); default: read it. */
  softOpenFileLimit?: OpenOptions['softOpenFileLimit'];
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly service: GatewayService;
  readonly app: FastifyInstance;
  /** The bootstrap admin token when one was created at this start. */
  readonly adminToken: string | undefined;
  /** Graceful shutdown; idempotent. */
  close(): Promise<void>;
  /** Resolves when the gateway has shut down (by close() or a signal). */
  readonly closed: Promise<void>;
}

async function writeTokenFile(file: string, token: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(`${token}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The one-time admin token, set apart from the log lines (coloured where stderr is a colour terminal). */
function banner(token: string): string {
  const rule = '─'.repeat(72);
  const style = (format: Parameters<typeof styleText>[0], text: string): string =>
    styleText(format, text, { stream: process.stderr });
  return [
    '',
    style('yellow', rule),
    style('bold', '  First start: an admin token was created. It is shown ONCE and stored only as a hash.'),
    '  Keep it safe; create service tokens with `torgo token create` (docs/operations.md).',
    '',
    `  ${style(['bold', 'yellow'], `TORGO_TOKEN=${token}`)}`,
    style('yellow', rule),
    '',
    '',
  ].join('\n');
}

export async function startGateway(
  config: GatewayConfig,
  options: ServeOptions = {},
): Promise<RunningGateway> {
  // TLS files are read before anything opens, so a wrong path fails the start cleanly.
  const tls = config.tls.cert ? config.tls : undefined;
  const https = tls ? await listenerOptions(tls) : undefined;
  // Observing from before the ledger opens: the first peer connection may be made while it does.
  const outbound = new OutboundObserver().start();
  let service: GatewayService;
  try {
    service = await GatewayService.open(config, {
      bootstrapAdmin: options.bootstrapAdmin ?? false,
      logOperatorTokenFile: options.logOperatorTokenFile,
      ...(options.softOpenFileLimit ? { softOpenFileLimit: options.softOpenFileLimit } : {}),
    });
  } catch (e) {
    outbound.stop();
    throw e;
  }
  outbound.register(service.metrics.registry);
  let listener: ListenerObserver | undefined;
  let app: FastifyInstance;
  const log =
    options.log === false
      ? undefined
      : createGatewayLog(
          config.log.level,
          options.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'),
          config.log.bufferBytes,
        );
  try {
    app = await buildApp(service, {
      ...(options.routes ? { routes: options.routes } : {}),
      ...(https ? { https } : {}),
      tlsStatus: () => listener?.status(outbound.list()) ?? { enabled: false, outbound: outbound.list() },
      logger: log?.logger ?? false,
    });
    service.reportBackground = (e, what) => app.log.error({ err: e }, `${what} failed`);
    if (tls) {
      listener = new ListenerObserver(tls, service.metrics.registry, app.log);
      listener.attach(app.server);
    }
    app.addHook('onClose', async () => {
      outbound.stop();
      await service.close();
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    outbound.stop();
    await service.close();
    log?.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;

  const adminToken = service.bootstrapToken;
  if (adminToken) {
    if (options.adminTokenFile) {
      await writeTokenFile(options.adminTokenFile, adminToken);
      app.log.warn({ file: options.adminTokenFile }, 'bootstrap admin token written to file');
    } else {
      (options.notice ?? ((t: string) => process.stderr.write(t)))(banner(adminToken));
    }
    service.bootstrapToken = undefined;
  }

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    app.log.info({ signal }, 'shutting down');
    void close();
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      service.closing = true;
      const timer = setTimeout(() => {
        app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown timed out; exiting');
        process.exit(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      try {
        await app.close();
      } finally {
        log?.close();
        clearTimeout(timer);
        if (options.handleSignals) {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
        }
        resolveClosed();
      }
    })();
    return closing;
  };
  if (options.handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  app.log.info(
    {
      url,
      ledger: config.ledger,
      dataDir: config.dataDir,
      ...(tls
        ? {
            tlsGroups: listener?.status([]).groups,
            requirePostQuantum: tls.requirePostQuantum,
            clientAuth: tls.clientAuth,
          }
        : {}),
    },
    'gateway listening',
  );
  // Whoever started the gateway (an operator, a supervisor, a test) waits for this line.
  log?.flush();
  startExportThread(config, service, app.log);
  if (service.driver instanceof EmbeddedDriver) {
    void service.driver.ledger.tablesOpened?.then(({ error, ms, ...opened }) => {
      const fields = { ...opened, ms: Math.round(ms) };
      if (error) app.log.warn({ ...fields, error }, 'ledger table files: opening them ended early');
      else app.log.info(fields, 'ledger table files opened');
    });
  }
  return { url, port, service, app, adminToken, close, closed };
}

/**
 * The export thread (gateway/logbuilder/export-thread.ts), started once the gateway listens when the
 * configuration asks (`transparency.exportThreadAtStart`): its memory is taken at start, not during the
 * first export. A thread that cannot open the ledger is reported; exports start it again.
 */
function startExportThread(config: GatewayConfig, service: GatewayService, log: FastifyBaseLogger): void {
  const thread = service.log?.exportThread;
  if (!thread || !config.transparency.exportThreadAtStart) return;
  const started = performance.now();
  thread.start().then(
    () => log.info({ ms: Math.round(performance.now() - started) }, 'export thread started'),
    (e: unknown) => {
      if (!service.closing) log.warn({ err: e }, 'export thread did not start; the first export starts it');
    },
  );
}
