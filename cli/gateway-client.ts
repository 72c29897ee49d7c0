/**
 * The online commands' view of the gateway: `--gateway URL` / TORGO_GATEWAY and `--token` /
 * TORGO_TOKEN, resolved once per command, and a small fetch client that turns the gateway's
 * `{code, message}` errors into CliErrors (exit 1: the gateway refused; exit 2: could not ask it).
 */
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CliError, EXIT_INVALID, EXIT_USAGE } from './errors.js';

export const DEFAULT_GATEWAY = 'http://127.0.0.1:8080';

export interface OnlineOptions {
  gateway?: string;
  token?: string;
}

/** Adds `--gateway` and `--token` to an online command. */
export function online(command: Command): Command {
  return command
    .option('--gateway <url>', `gateway URL (env TORGO_GATEWAY, default ${DEFAULT_GATEWAY})`)
    .option('--token <token>', 'API token (env TORGO_TOKEN)');
}

export interface GatewayAnswer {
  status: number;
  headers: Headers;
  body: string;
}

export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  /** Flags first, then the environment (read here and nowhere else in the CLI). */
  static from(
    opts: OnlineOptions,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ): GatewayClient {
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
    return new GatewayClient(parsed.href.replace(/\/$/, ''), token || undefined);
  }

  /** Sends a request; throws a CliError unless the status is 2xx. */
  async request(
    method: string,
    route: string,
    options: { json?: unknown; text?: Uint8Array; accept?: string; auth?: boolean } = {},
  ): Promise<GatewayAnswer> {
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
    if (options.auth !== false) {
      if (!this.token)
        throw new CliError('this command needs a token: --token or TORGO_TOKEN', EXIT_USAGE, 'E_USAGE');
      headers['authorization'] = `Bearer ${this.token}`;
    }
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.text !== undefined) {
      headers['content-type'] = 'text/markdown';
      body = options.text;
    }
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${route}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the gateway at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
        EXIT_USAGE,
        'E_GATEWAY_UNREACHABLE',
      );
    }
    const text = await res.text();
    if (res.status >= 200 && res.status < 300)
      return { status: res.status, headers: res.headers, body: text };
    throw errorOf(res.status, text, res.headers);
  }

  /**
   * Streams a 2xx answer's body to `file` (constant memory, for export bundles); the file is
   * written whole or not at all (a temporary name renamed at the end).
   */
  async download(route: string, file: string, onBytes?: (total: number) => void): Promise<number> {
    if (!this.token)
      throw new CliError('this command needs a token: --token or TORGO_TOKEN', EXIT_USAGE, 'E_USAGE');
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${route}`, { headers: { authorization: `Bearer ${this.token}` } });
    } catch (e) {
      throw new CliError(
        `cannot reach the gateway at ${this.baseUrl}: ${(e as Error).message}`,
        EXIT_USAGE,
        'E_GATEWAY_UNREACHABLE',
      );
    }
    if (res.status < 200 || res.status >= 300 || !res.body)
      throw errorOf(res.status, await res.text(), res.headers);
    const partial = `${file}.partial`;
    let total = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        total += chunk.length;
        onBytes?.(total);
        done(null, chunk);
      },
    });
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      counter,
      createWriteStream(partial),
    );
    await rename(partial, file);
    return total;
  }

  async json<T>(
    method: string,
    route: string,
    options: { json?: unknown; text?: Uint8Array; auth?: boolean } = {},
  ): Promise<{ status: number; value: T }> {
    const r = await this.request(method, route, options);
    return { status: r.status, value: JSON.parse(r.body) as T };
  }
}

export function errorOf(status: number, body: string, headers?: Headers): CliError {
  let code = `E_HTTP_${status}`;
  let message = body.slice(0, 500) || `HTTP ${status}`;
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'string') code = parsed.code;
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not the gateway's error shape: keep the raw text
  }
  const retry = headers?.get('retry-after');
  return new CliError(
    `${message} (HTTP ${status}${retry ? `, retry after ${retry} s` : ''})`,
    EXIT_INVALID,
    code,
  );
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
