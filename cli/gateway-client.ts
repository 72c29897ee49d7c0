/**
 * The online commands' view of the gateway: `--gateway URL` / TORGO_GATEWAY and `--token` /
 * TORGO_TOKEN, resolved once per command, and a small fetch client that turns the gateway's
 * `{code, message}` errors into CliErrors (exit 1: the gateway refused; exit 2: could not ask it).
 * Over HTTPS, `--ca-file` / TORGO_CA_FILE trusts a private CA and `--cert` + `--key` (TORGO_CERT,
 * TORGO_KEY) present a client certificate (mutual TLS); the key exchange is Node's default, which
 * prefers the hybrid post-quantum group X25519MLKEM768.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { Agent, fetch as undiciFetch } from 'undici';
import { CliError, EXIT_INVALID, EXIT_USAGE } from './errors.js';

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

type Fetch = (url: string, init: Record<string, unknown>) => Promise<Response>;

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file}: ${(e as Error).message}`, EXIT_USAGE, 'E_IO');
  }
}

/** What a failed connection means for the user, TLS failures above all. */
function unreachable(baseUrl: string, e: unknown): CliError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? '';
  let hint = '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code)) {
    hint =
      ": the gateway's certificate is not trusted (give its CA with --ca-file or TORGO_CA_FILE; `torgo tls dev-cert` wrote ca.pem)";
  } else if (/HANDSHAKE_FAILURE|ALERT/.test(code) || /alert handshake failure/.test(cause?.message ?? '')) {
    hint =
      ': the TLS handshake was refused (the gateway may require post-quantum key exchange X25519MLKEM768, which needs Node ≥ 24 with OpenSSL ≥ 3.5, or a client certificate: --cert and --key)';
  }
  return new CliError(
    `cannot reach the gateway at ${baseUrl}: ${code || cause?.message || (e as Error).message}${hint}`,
    EXIT_USAGE,
    'E_GATEWAY_UNREACHABLE',
  );
}

export interface GatewayAnswer {
  status: number;
  headers: Headers;
  body: string;
}

export class GatewayClient {
  private readonly fetch: Fetch;
  /** A client certificate authenticates instead of a token (mutual TLS). */
  private readonly hasCertificate: boolean;

  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
    tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {},
  ) {
    this.hasCertificate = tls.cert !== undefined;
    if (tls.ca || tls.cert) {
      const dispatcher = new Agent({ connect: { ...tls } });
      this.fetch = (url, init) =>
        undiciFetch(url, { ...init, dispatcher } as never) as unknown as Promise<Response>;
    } else {
      this.fetch = (url, init) => fetch(url, init as RequestInit);
    }
  }

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
    return new GatewayClient(parsed.href.replace(/\/$/, ''), token || undefined, {
      ...(caFile ? { ca: readPem(caFile, '--ca-file') } : {}),
      ...(certFile && keyFile ? { cert: readPem(certFile, '--cert'), key: readPem(keyFile, '--key') } : {}),
    });
  }

  /** Sends a request; throws a CliError unless the status is 2xx. */
  async request(
    method: string,
    route: string,
    options: { json?: unknown; text?: Uint8Array; accept?: string; auth?: boolean } = {},
  ): Promise<GatewayAnswer> {
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
    if (options.auth !== false) {
      if (!this.token && !this.hasCertificate)
        throw new CliError('this command needs a token: --token or TORGO_TOKEN', EXIT_USAGE, 'E_USAGE');
      if (this.token) headers['authorization'] = `Bearer ${this.token}`;
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
      res = await this.fetch(`${this.baseUrl}${route}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
    } catch (e) {
      throw unreachable(this.baseUrl, e);
    }
    const text = await res.text();
    if (res.status >= 200 && res.status < 300)
      return { status: res.status, headers: res.headers, body: text };
    throw errorOf(res.status, text, res.headers);
  }

  /**
   * Streams a 2xx answer's body to `file` (constant memory, for export bundles); the file is
   * written whole or not at all (a temporary name, flushed to disk, renamed at the end).
   * `onBytes` sees each chunk.
   */
  async download(
    route: string,
    file: string,
    onBytes?: (total: number, chunk: Buffer) => void,
  ): Promise<number> {
    if (!this.token && !this.hasCertificate)
      throw new CliError('this command needs a token: --token or TORGO_TOKEN', EXIT_USAGE, 'E_USAGE');
    let res: Response;
    try {
      res = await this.fetch(`${this.baseUrl}${route}`, {
        headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
      });
    } catch (e) {
      throw unreachable(this.baseUrl, e);
    }
    if (res.status < 200 || res.status >= 300 || !res.body)
      throw errorOf(res.status, await res.text(), res.headers);
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
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      counter,
      createWriteStream(partial, { flush: true }),
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
