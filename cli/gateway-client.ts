/**
 * The online commands' view of the gateway: `--gateway URL` / TORGO_GATEWAY and `--token` /
 * TORGO_TOKEN, resolved once per command into a @torgo/client TorgoClient, whose errors become
 * CliErrors (exit 1: the gateway refused; exit 2: could not ask it).
 * Over HTTPS, `--ca-file` / TORGO_CA_FILE trusts a private CA and `--cert` + `--key` (TORGO_CERT,
 * TORGO_KEY) present a client certificate (mutual TLS); the key exchange is Node's default, which
 * prefers the hybrid post-quantum group X25519MLKEM768.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TorgoClient } from '@torgo/client';
import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from './errors.js';

export const DEFAULT_GATEWAY = 'http://127.0.0.1:8080';

export interface OnlineOptions {
  gateway?: string;
  token?: string;
  caFile?: string;
  cert?: string;
  key?: string;
}

/** Adds `--gateway`, `--token` and the HTTPS options to an online command. */
export function online(command: Command): Command {
  return command
    .option('--gateway <url>', `gateway URL (env TORGO_GATEWAY, default ${DEFAULT_GATEWAY})`)
    .option('--token <token>', 'API token (env TORGO_TOKEN)')
    .option('--ca-file <file>', 'PEM CA to trust for an https gateway (env TORGO_CA_FILE)')
    .option('--cert <file>', 'PEM client certificate, mutual TLS (env TORGO_CERT)')
    .option('--key <file>', 'PEM key of --cert (env TORGO_KEY)');
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file}: ${(e as Error).message}`, EXIT_USAGE, 'E_IO');
  }
}

/**
 * The CLI's retries: a few, quickly, so a gateway restarting or briefly busy (503) does not fail a
 * command, while one that is down is reported within seconds.
 */
const CLI_RETRY = { retries: 2, baseDelayMs: 250, maxDelayMs: 2_000, maxRetryAfterMs: 10_000 } as const;

/**
 * A client of the gateway named by the flags, then the environment (read here and nowhere else in
 * the CLI). Unless `auth` is false, a token or a client certificate is required before anything is sent.
 */
export function connect(
  opts: OnlineOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TorgoClient {
  const url = opts.gateway ?? env['TORGO_GATEWAY'] ?? DEFAULT_GATEWAY;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--gateway ${url} is not a URL`, EXIT_USAGE, 'E_USAGE');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliError(`--gateway must be an http(s) URL, not ${url}`, EXIT_USAGE, 'E_USAGE');
  }
  const token = opts.token ?? env['TORGO_TOKEN'];
  const caFile = opts.caFile ?? env['TORGO_CA_FILE'];
  const certFile = opts.cert ?? env['TORGO_CERT'];
  const keyFile = opts.key ?? env['TORGO_KEY'];
  if (Boolean(certFile) !== Boolean(keyFile))
    throw new CliError(
      'give both --cert and --key (a client certificate and its key)',
      EXIT_USAGE,
      'E_USAGE',
    );
  if ((caFile || certFile) && parsed.protocol !== 'https:')
    throw new CliError('--ca-file, --cert and --key need an https:// gateway URL', EXIT_USAGE, 'E_USAGE');
  // A client certificate authenticates instead of a token (mutual TLS).
  if (!token && !certFile)
    throw new CliError('this command needs a token: --token or TORGO_TOKEN', EXIT_USAGE, 'E_USAGE');
  const tls = {
    ...(caFile ? { ca: readPem(caFile, '--ca-file') } : {}),
    ...(certFile && keyFile ? { cert: readPem(certFile, '--cert'), key: readPem(keyFile, '--key') } : {}),
  };
  return new TorgoClient({
    baseUrl: parsed.href,
    ...(token ? { token } : {}),
    ...(caFile || certFile ? { tls } : {}),
    retry: CLI_RETRY,
  });
}

/**
 * Streams a readable body to `file` (constant memory, for export bundles); the file is written
 * whole or not at all (a temporary name renamed at the end).
 */
export async function saveStream(
  body: ReadableStream<Uint8Array>,
  file: string,
  onBytes?: (total: number, chunk: Buffer) => void,
): Promise<number> {
  const partial = `${file}.partial`;
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      onBytes?.(total, chunk);
      done(null, chunk);
    },
  });
  await pipeline(
    Readable.fromWeb(body as import('node:stream/web').ReadableStream),
    counter,
    createWriteStream(partial, { flush: true }),
  );
  await rename(partial, file);
  return total;
}

/** Fixed-width text table for terminal output. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
