/**
 * `torgo relay`: the store-and-forward relay in the foreground until SIGTERM/SIGINT (docs/relay.md),
 * and `torgo relay status`: its backlog and forwarding state, asked over its intake (TCP or socket).
 */
import type { Command } from 'commander';
import { Agent, fetch as undiciFetch } from 'undici';
import { CliError, EXIT_INVALID, EXIT_USAGE } from '../errors.js';
import type { Output } from '../output.js';

interface RunFlags {
  config?: string;
  data?: string;
  host?: string;
  port?: string;
  socket?: string;
  tcp?: boolean;
  gateway?: string[];
  tokenFile?: string;
  signKey?: string;
  caFile?: string;
  cert?: string;
  key?: string;
  maxReceipts?: string;
  maxBytes?: string;
  batchSize?: string;
  logLevel?: string;
}

const DEFAULT_RELAY_URL = 'http://127.0.0.1:8087';

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new CliError(`${flag} must be a non-negative integer`, EXIT_USAGE);
  return Number(value);
}

function addRun(relay: Command, output: Output): void {
  relay
    .command('run', { isDefault: true })
    .description('run the relay (the default): intake on 127.0.0.1:8087, outbox in ./relay-data')
    .option('--config <file>', 'JSON config file (env TORGO_RELAY_CONFIG)')
    .option('--data <dir>', 'outbox directory (env TORGO_RELAY_DATA, default ./relay-data)')
    .option(
      '--gateway <url...>',
      'gateway URL of the ledger; several: tried in turn (env TORGO_RELAY_GATEWAYS, comma-separated)',
    )
    .option(
      '--token-file <file>',
      'appender token for the gateways (env TORGO_RELAY_TOKEN_FILE, or the token in TORGO_RELAY_TOKEN)',
    )
    .option(
      '--sign-key <file>',
      'sign every accepted receipt with this PEM ML-DSA key (env TORGO_RELAY_SIGN_KEY)',
    )
    .option('--ca-file <file>', 'PEM CA to trust for https gateways (env TORGO_RELAY_CA_FILE)')
    .option('--cert <file>', 'PEM client certificate for the gateways, mutual TLS (env TORGO_RELAY_CERT)')
    .option('--key <file>', 'PEM key of --cert (env TORGO_RELAY_KEY)')
    .option('--host <host>', 'loopback intake address (env TORGO_RELAY_HOST, default 127.0.0.1)')
    .option('--port <port>', 'intake port, 0 for any free port (env TORGO_RELAY_PORT, default 8087)')
    .option('--socket <path>', 'intake on this Unix socket too (env TORGO_RELAY_SOCKET)')
    .option('--no-tcp', 'intake on the Unix socket only')
    .option('--max-receipts <n>', 'outbox bound in receipts (env TORGO_RELAY_MAX_RECEIPTS, default 1000000)')
    .option('--max-bytes <n>', 'outbox bound in bytes of receipts (env TORGO_RELAY_MAX_BYTES, default 2 GiB)')
    .option(
      '--batch-size <n>',
      "receipts per forward request, at most the gateway's receiptsPerTransaction (env TORGO_RELAY_BATCH_SIZE, default 50)",
    )
    .option(
      '--log-level <level>',
      'fatal, error, warn, info, debug, trace or silent (env TORGO_RELAY_LOG_LEVEL)',
    )
    .action(async (flags: RunFlags) => {
      const { loadRelayConfig } = await import('../../relay/config.js');
      const { startRelay } = await import('../../relay/server.js');
      const { RelayError } = await import('../../relay/errors.js');
      const asCli = (e: unknown): unknown =>
        e instanceof RelayError && e.code === 'E_CONFIG' ? new CliError(e.message, EXIT_USAGE, e.code) : e;
      let running: Awaited<ReturnType<typeof startRelay>>;
      try {
        const config = loadRelayConfig({
          file: flags.config,
          env: process.env,
          overrides: {
            dataDir: flags.data,
            host: flags.host,
            port: integer('--port', flags.port),
            socket: flags.socket,
            tcp: flags.tcp === false ? false : undefined,
            gateways: flags.gateway,
            tokenFile: flags.tokenFile,
            signKeyFile: flags.signKey,
            caFile: flags.caFile,
            certFile: flags.cert,
            keyFile: flags.key,
            maxReceipts: integer('--max-receipts', flags.maxReceipts),
            maxBytes: integer('--max-bytes', flags.maxBytes),
            batchSize: integer('--batch-size', flags.batchSize),
            logLevel: flags.logLevel,
          },
        });
        running = await startRelay(config, { env: process.env, handleSignals: true });
      } catch (e) {
        throw asCli(e);
      }
      output.err(`relay: intake ${[running.url, running.socket].filter(Boolean).join(' and ')}\n`);
      await running.closed;
      setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
    });
}

interface Status {
  backlog: { receipts: number; bytes: number; oldestAcceptedAt: string | null; oldestAgeSeconds: number };
  rejected: { receipts: number; bytes: number };
  limits: { maxReceipts: number; maxBytes: number };
  forwarding: {
    state: string;
    consecutiveFailures: number;
    ratePerSecond: number;
    gateways: {
      gateway: string;
      lastSuccessAt?: string;
      lastError?: { at: string; code: string; message: string };
    }[];
  };
  signerKeyId: string | null;
}

/** GET a route of a running relay, over TCP or its Unix socket. */
async function askRelay(opts: { relay?: string; socket?: string }, route: string): Promise<string> {
  const socket = opts.socket ?? process.env['TORGO_RELAY_SOCKET'];
  const base = socket ? 'http://relay' : (opts.relay ?? DEFAULT_RELAY_URL).replace(/\/$/, '');
  const dispatcher = socket ? new Agent({ connect: { socketPath: socket } }) : undefined;
  try {
    const res = await undiciFetch(`${base}${route}`, {
      signal: AbortSignal.timeout(10_000),
      ...(dispatcher ? { dispatcher } : {}),
    });
    const body = await res.text();
    if (!res.ok) throw new CliError(`the relay answered ${res.status}: ${body}`, EXIT_INVALID, 'E_RELAY');
    return body;
  } catch (e) {
    if (e instanceof CliError) throw e;
    const cause = (e as { cause?: { code?: string } }).cause;
    throw new CliError(
      `cannot reach the relay at ${socket ?? base}: ${cause?.code ?? (e as Error).message}`,
      EXIT_USAGE,
      'E_RELAY_UNREACHABLE',
    );
  } finally {
    await dispatcher?.close();
  }
}

function describe(s: Status): string {
  const gateways = s.forwarding.gateways.map((g) => {
    const last =
      g.lastError && (!g.lastSuccessAt || g.lastError.at > g.lastSuccessAt) ? g.lastError : undefined;
    return [
      `gateway       ${g.gateway}`,
      `  last ok     ${g.lastSuccessAt ?? 'never'}`,
      ...(last ? [`  last error  ${last.at} ${last.code}: ${last.message}`] : []),
    ];
  });
  return `${[
    `backlog       ${s.backlog.receipts} receipts, ${s.backlog.bytes} bytes (limits ${s.limits.maxReceipts} receipts, ${s.limits.maxBytes} bytes)`,
    `oldest        ${s.backlog.oldestAcceptedAt ?? '-'} (${s.backlog.oldestAgeSeconds.toFixed(1)} s old)`,
    `forwarding    ${s.forwarding.state}, ${s.forwarding.ratePerSecond.toFixed(1)} receipts/s over the last minute${s.forwarding.consecutiveFailures ? `, ${s.forwarding.consecutiveFailures} failures in a row` : ''}`,
    `rejected      ${s.rejected.receipts} receipts kept (refused by the gateway; GET /v1/rejected)`,
    `signer        ${s.signerKeyId ?? 'none (receipts arrive signed)'}`,
    ...gateways.flat(),
  ].join('\n')}\n`;
}

function addStatus(relay: Command, output: Output): void {
  relay
    .command('status')
    .description("a running relay's backlog, oldest unforwarded receipt and forwarding state")
    .option('--relay <url>', `the relay's intake URL (default ${DEFAULT_RELAY_URL})`)
    .option('--socket <path>', "the relay's Unix socket instead (env TORGO_RELAY_SOCKET)")
    .option('--json', 'the status as JSON')
    .action(async (opts: { relay?: string; socket?: string; json?: boolean }) => {
      const body = await askRelay(opts, '/v1/status');
      output.out(opts.json ? `${body}\n` : describe(JSON.parse(body) as Status));
    });
}

export function addRelay(program: Command, output: Output): void {
  const relay = program
    .command('relay')
    .description(
      'store-and-forward relay: accept receipts locally, forward them when a gateway is reachable',
    );
  addRun(relay, output);
  addStatus(relay, output);
}
