/**
 * TorgoClient: the gateway's HTTP API v1 as typed calls. Every call retries what is safe to retry
 * (retry.ts), bounds each attempt with a timeout, honours an AbortSignal, and fails with a
 * TorgoApiError carrying the API's code. With several base URLs, a retry goes to the next gateway.
 */
import type {
  AppendAck,
  BatchItem,
  Checkpoint,
  ExportQuery,
  Inclusion,
  ReceiptPage,
  ReceiptQuery,
  ReceiptResource,
} from '@torgo/api';
import { errorOfAnswer, TorgoApiError } from './errors.js';
import { read, seg } from './calls.js';
import { KeysApi } from './keys.js';
import { TokensApi } from './tokens.js';
import { backoffMs, DEFAULT_RETRY, isRetryable, type RetryPolicy, sleep } from './retry.js';
import { type FetchLike, failureOf, startAttempt, type TlsOptions, transportFor } from './transport.js';

export interface ClientOptions {
  /** The gateway, e.g. `https://gw.example:8443`; or several, tried in turn when one fails. */
  baseUrl: string | readonly string[];
  /** API token (`torgo_<id>_<secret>`); not needed when a client certificate authenticates. */
  token?: string;
  /** HTTPS: a private CA, a client certificate (Node only: loads undici). */
  tls?: TlsOptions;
  /** Negotiate HTTP/2 over HTTPS (Node only: loads undici). Default false (HTTP/1.1). */
  http2?: boolean;
  /** One attempt's limit, until the whole answer is read (a streamed export: until its headers). Default 30 s. */
  timeoutMs?: number;
  /** Retry policy, or false to never retry. Default DEFAULT_RETRY. */
  retry?: Partial<RetryPolicy> | false;
  /** Another fetch (tests, a browser, a proxy agent). Overrides `tls` and `http2`. */
  fetch?: FetchLike;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
}

/** Per call: a signal that aborts it (all attempts and waits), and overrides of the client's options. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy> | false;
}

export interface AppendResult {
  /** true: this call appended it (201); false: it was on the ledger already, same bytes (200). */
  created: boolean;
  receipt: AppendAck;
}

export interface AppendBatchOptions extends CallOptions {
  /** Receipts per request (the gateway's `limits.batchItems`, default 100). */
  maxItems?: number;
  /** JSON bytes per request, under the gateway's `limits.batchBodyBytes` (default 8 MiB). Default 7 MiB. */
  maxBytes?: number;
}

/** One result per receipt given, in order; `index` is the receipt's position in the call's input. */
export interface AppendBatchResult {
  results: BatchItem[];
  appended: number;
  existing: number;
  failed: number;
}

/** Query filters (at least one of source, subject, operation); `cursor`/`limit` are paging. */
export type ReceiptFilter = Omit<ReceiptQuery, 'cursor' | 'limit'>;

/** A request as the client sends it (for routes without their own method). */
export interface RequestSpec {
  method: 'GET' | 'POST';
  /** Path from the base URL, e.g. `/v1/receipts/ID/proof`. */
  path: string;
  query?: Readonly<Record<string, string | number | undefined>>;
  /** A JSON body. */
  json?: unknown;
  /** A .mu file as the body (text/markdown). */
  markdown?: Uint8Array;
  accept?: string;
  /** Safe to send twice (reads; appends): retried after timeouts and lost connections too. */
  idempotent: boolean;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_BATCH_ITEMS = 100;
const DEFAULT_BATCH_BYTES = 7 * 1024 * 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ENCODER = new TextEncoder();

export class TorgoClient {
  readonly baseUrls: readonly string[];
  private readonly token: string | undefined;
  private readonly fetch: FetchLike;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy | false;
  private readonly random: () => number;
  /** The gateway that answered last: the next call starts there. */
  private current = 0;

  readonly keys: KeysApi;
  readonly tokens: TokensApi;

  constructor(options: ClientOptions) {
    const urls = typeof options.baseUrl === 'string' ? [options.baseUrl] : [...options.baseUrl];
    if (urls.length === 0) throw new TypeError('TorgoClient: give at least one baseUrl');
    this.baseUrls = urls.map(normaliseBaseUrl);
    this.token = options.token || undefined;
    this.fetch = options.fetch ?? transportFor(options.tls, options.http2 ?? false);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = options.retry === false ? false : { ...DEFAULT_RETRY, ...options.retry };
    this.random = options.random ?? Math.random;
    this.keys = new KeysApi(this);
    this.tokens = new TokensApi(this);
  }

  /** Appends one signed .mu receipt (sent as the file's bytes). A resend of the same receipt is safe. */
  async append(receipt: string | Uint8Array, options: CallOptions = {}): Promise<AppendResult> {
    const bytes = typeof receipt === 'string' ? ENCODER.encode(receipt) : receipt;
    const answer = await this.send(
      { method: 'POST', path: '/v1/receipts', markdown: bytes, idempotent: true },
      options,
    );
    return { created: answer.status === 201, receipt: parseJson<AppendAck>(answer) };
  }

  /**
   * Appends receipts in as many batch requests as the gateway's limits need; one result per
   * receipt, in order. An item that fails does not stop its neighbours: read each `status` (201
   * appended, 200 already there, else the item's error). A request that still fails after its
   * retries throws: receipts of earlier requests may be on the ledger, and sending all again is safe.
   */
  async appendBatch(
    receipts: readonly (string | Uint8Array)[],
    options: AppendBatchOptions = {},
  ): Promise<AppendBatchResult> {
    const results: BatchItem[] = new Array(receipts.length);
    const texts = receipts.map((r, index) => asText(r, index));
    for (const chunk of chunks(
      texts,
      options.maxItems ?? DEFAULT_BATCH_ITEMS,
      options.maxBytes ?? DEFAULT_BATCH_BYTES,
    )) {
      for (const c of chunk) if (c.error) results[c.index] = c.error;
      const sendable = chunk.filter((c): c is { index: number; text: string } => typeof c.text === 'string');
      if (sendable.length > 0) await this.appendChunk(sendable, results, options);
    }
    let appended = 0;
    let existing = 0;
    for (const r of results) {
      if (r?.status === 201) appended++;
      else if (r?.status === 200) existing++;
    }
    return { results, appended, existing, failed: results.length - appended - existing };
  }

  /**
   * One batch request, then again for the items the gateway could not settle (503: a commit
   * conflict, the ledger unavailable; 504: commit status unknown), which are safe to resend, with
   * the same backoff as whole requests. Results land in `results` at each receipt's input index.
   */
  private async appendChunk(
    items: readonly { index: number; text: string }[],
    results: BatchItem[],
    options: CallOptions,
  ): Promise<void> {
    const policy = this.policyFor(options);
    let pending = items;
    for (let round = 0; pending.length > 0; round++) {
      const answer = await this.send(
        {
          method: 'POST',
          path: '/v1/receipts/batch',
          json: { receipts: pending.map((c) => c.text) },
          idempotent: true,
        },
        options,
      );
      const unsettled: { index: number; text: string }[] = [];
      let wait = 0;
      for (const item of parseJson<{ results: BatchItem[] }>(answer).results) {
        const at = pending[item.index];
        if (!at) throw badResponse('a batch result has an index the request did not have');
        results[at.index] = { ...item, index: at.index };
        if (!policy || round >= policy.retries || (item.status !== 503 && item.status !== 504)) continue;
        const error = new TorgoApiError(
          item.error?.code ?? `E_HTTP_${item.status}`,
          item.error?.message ?? '',
          {
            status: item.status,
          },
        );
        const delay = backoffMs(policy, round, error, this.random);
        if (delay === undefined) continue;
        unsettled.push(at);
        wait = Math.max(wait, delay);
      }
      pending = unsettled;
      if (pending.length > 0) await this.pause(wait, options.signal, round + 1);
    }
  }

  /** One receipt's record. */
  get(id: string, options: CallOptions = {}): Promise<ReceiptResource> {
    return read(this, `/v1/receipts/${seg(id)}`, options);
  }

  /** One receipt's .mu file, byte for byte as appended. */
  async getMu(id: string, options: CallOptions = {}): Promise<string> {
    const answer = await this.send(
      {
        method: 'GET',
        path: `/v1/receipts/${seg(id)}`,
        accept: 'text/markdown',
        idempotent: true,
      },
      options,
    );
    return answer.text;
  }

  /** One page of a query; pass its `nextCursor` back as `cursor` for the next. */
  queryPage(query: ReceiptQuery, options: CallOptions = {}): Promise<ReceiptPage> {
    return read(this, '/v1/receipts', options, query);
  }

  /** Every receipt the filter selects, page after page (`pageSize` rows per request). */
  async *query(
    filter: ReceiptFilter,
    options: CallOptions & { pageSize?: number } = {},
  ): AsyncGenerator<ReceiptResource, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.queryPage({ ...filter, limit: options.pageSize, cursor }, options);
      yield* page.receipts;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /**
   * The whole result of a query as CSV (RFC 4180, a header row; at most `limit` rows when given),
   * streamed. Retries apply until the answer starts.
   */
  async queryCsv(
    query: Omit<ReceiptQuery, 'limit'> & { limit?: number },
    options: CallOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const response = await this.open(
      { method: 'GET', path: '/v1/receipts', query, accept: 'text/csv', idempotent: true },
      options,
    );
    if (!response.body) throw badResponse('the CSV answer has no body');
    return response.body;
  }

  /**
   * An export bundle (torgo.bundle/2 JSON lines, signed by the log operator) of a selection, as a
   * stream: constant memory however large. Retries apply until the answer starts.
   */
  async export(filter: ExportQuery, options: CallOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const response = await this.open(
      { method: 'GET', path: '/v1/export', query: filter, idempotent: true },
      options,
    );
    if (!response.body) throw badResponse('the export answer has no body');
    return response.body;
  }

  /** The log's latest signed checkpoint; `fresh` issues one now (log-operator or admin token). */
  async checkpoint(options: CallOptions & { fresh?: boolean } = {}): Promise<Checkpoint> {
    const answer = await this.send(
      { method: options.fresh ? 'POST' : 'GET', path: '/v1/checkpoint', idempotent: true },
      options,
    );
    return parseJson<Checkpoint>(answer);
  }

  /** An inclusion proof of a receipt in the log (of `size` leaves, else of the latest checkpoint). */
  proof(id: string, options: CallOptions & { size?: number } = {}): Promise<Inclusion> {
    return read(this, `/v1/receipts/${seg(id)}/proof`, options, { size: options.size });
  }

  /** A JSON answer of any route, typed by the caller. */
  async json<T>(spec: RequestSpec, options: CallOptions = {}): Promise<{ status: number; value: T }> {
    const answer = await this.send(spec, options);
    return { status: answer.status, value: parseJson<T>(answer) };
  }

  /** Sends a request (retrying as the policy allows) and reads the whole 2xx answer. */
  async send(spec: RequestSpec, options: CallOptions = {}): Promise<Answer> {
    return this.withRetries(spec, options, async (response) => ({
      status: response.status,
      headers: response.headers,
      text: await response.text(),
    }));
  }

  /** Sends a request (retrying as the policy allows) and returns the 2xx response with its body unread. */
  async open(spec: RequestSpec, options: CallOptions = {}): Promise<Response> {
    return this.withRetries(spec, options, async (response) => response, true);
  }

  private async withRetries<T>(
    spec: RequestSpec,
    options: CallOptions,
    read: (response: Response) => Promise<T>,
    streaming = false,
  ): Promise<T> {
    const policy = this.policyFor(options);
    for (let attempt = 0; ; attempt++) {
      const base = this.baseUrls[this.current]!;
      try {
        return await this.attempt(base, spec, options, read, streaming);
      } catch (e) {
        if (!(e instanceof TorgoApiError)) throw e;
        const error = e.withAttempts(attempt + 1);
        if (!policy || attempt >= policy.retries || !isRetryable(error, spec.idempotent)) throw error;
        const wait = backoffMs(policy, attempt, error, this.random);
        if (wait === undefined) throw error;
        this.current = (this.current + 1) % this.baseUrls.length;
        await this.pause(wait, options.signal, attempt + 1);
      }
    }
  }

  /** The client's retry policy with the call's overrides; false: no retries. */
  private policyFor(options: CallOptions): RetryPolicy | false {
    return options.retry === false || this.retry === false ? false : { ...this.retry, ...options.retry };
  }

  /** Waits before another attempt; an abort meanwhile ends the call with E_ABORTED. */
  private async pause(ms: number, signal: AbortSignal | undefined, attempts: number): Promise<void> {
    try {
      await sleep(ms, signal);
    } catch (reason) {
      throw new TorgoApiError('E_ABORTED', 'the request was aborted', { cause: reason, attempts });
    }
  }

  /** One attempt at one gateway; a non-2xx answer is thrown as its TorgoApiError. */
  private async attempt<T>(
    base: string,
    spec: RequestSpec,
    options: CallOptions,
    read: (response: Response) => Promise<T>,
    streaming: boolean,
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const url = `${base}${spec.path}${queryString(spec.query)}`;
    const run = startAttempt(timeoutMs, options.signal);
    try {
      const response = await this.fetch(url, { ...this.init(spec), signal: run.signal });
      if (response.status < 200 || response.status >= 300)
        throw errorOfAnswer(response.status, await response.text(), response.headers);
      if (streaming) run.stopTimer();
      return await read(response);
    } catch (e) {
      if (e instanceof TorgoApiError) throw e;
      throw failureOf(e, base, options.signal?.aborted ?? false, run.timedOut(), timeoutMs);
    } finally {
      if (!streaming) run.end();
    }
  }

  private init(spec: RequestSpec): RequestInit {
    const headers: Record<string, string> = { accept: spec.accept ?? 'application/json' };
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    let body: string | Uint8Array | undefined;
    if (spec.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.json);
    } else if (spec.markdown !== undefined) {
      headers['content-type'] = 'text/markdown';
      body = spec.markdown;
    }
    return {
      method: spec.method,
      headers,
      ...(body === undefined ? {} : { body: body as NonNullable<RequestInit['body']> }),
    };
  }
}

function normaliseBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`TorgoClient: ${url} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new TypeError(`TorgoClient: ${url} is not an http(s) URL`);
  return parsed.href.replace(/\/+$/, '');
}

function queryString(query: RequestSpec['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function parseJson<T>(answer: Answer): T {
  try {
    return JSON.parse(answer.text) as T;
  } catch (e) {
    throw badResponse(`the answer (HTTP ${answer.status}) is not JSON`, e);
  }
}

function badResponse(message: string, cause?: unknown): TorgoApiError {
  return new TorgoApiError('E_BAD_RESPONSE', message, cause === undefined ? {} : { cause });
}

/** A receipt as batch JSON text, or its per-item error when its bytes are not UTF-8. */
function asText(
  receipt: string | Uint8Array,
  index: number,
): { index: number; text?: string; error?: BatchItem } {
  if (typeof receipt === 'string') return { index, text: receipt };
  try {
    return { index, text: UTF8.decode(receipt) };
  } catch {
    return {
      index,
      error: {
        index,
        status: 422,
        error: { code: 'E_RECEIPT_ENCODING', message: 'the receipt is not valid UTF-8: not sent' },
      },
    };
  }
}

/** Consecutive runs of at most `maxItems` receipts and `maxBytes` of JSON each (a bigger receipt goes alone). */
function* chunks<T extends { text?: string }>(
  items: readonly T[],
  maxItems: number,
  maxBytes: number,
): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = item.text === undefined ? 0 : ENCODER.encode(JSON.stringify(item.text)).length + 1;
    if (chunk.length > 0 && (chunk.length >= maxItems || bytes + size > maxBytes)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
