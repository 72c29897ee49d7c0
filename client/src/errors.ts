/**
 * The one error the client throws: the gateway's `{code, message, details?}` when it answered, or
 * a client-side code when it could not ask (network, timeout, abort, an answer that is not the API's).
 */
import type { ApiErrorBody } from '@torgo/api';

/** Codes the client itself gives; every other code is the gateway's (docs/api.md). */
export type ClientErrorCode =
  /** No answer: connection refused or reset, DNS. */
  | 'E_NETWORK'
  /** The TLS handshake failed: the certificate is not trusted, or the gateway refused the client. */
  | 'E_TLS'
  /** No answer within `timeoutMs` (one attempt). */
  | 'E_TIMEOUT'
  /** The caller's AbortSignal fired. */
  | 'E_ABORTED'
  /** An answer that is not the API's: not JSON, or not the shape the route promises. */
  | 'E_BAD_RESPONSE'
  /** A receipt given as bytes that are not UTF-8 (a batch carries receipts as JSON text). */
  | 'E_RECEIPT_ENCODING';

export class TorgoApiError extends Error {
  override readonly name = 'TorgoApiError';
  /** The API's stable code (`E_RECEIPT_CONFLICT`, `E_UNAVAILABLE`, …) or a ClientErrorCode. */
  readonly code: string;
  /** The HTTP status; 0 when there was no answer. */
  readonly status: number;
  /** From `Retry-After` (503, 429): how long the gateway asked to wait, in ms. */
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;
  /** The gateway's `x-request-id` of the answer (for its logs). */
  readonly requestId: string | undefined;
  /** Attempts made before giving up (1 when not retried). */
  readonly attempts: number;

  constructor(
    code: string,
    message: string,
    options: {
      status?: number;
      retryAfterMs?: number;
      details?: Record<string, unknown>;
      requestId?: string;
      attempts?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 0;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
    this.requestId = options.requestId;
    this.attempts = options.attempts ?? 1;
  }

  /** The same error, counting `attempts`. */
  withAttempts(attempts: number): TorgoApiError {
    return new TorgoApiError(this.code, this.message, {
      status: this.status,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.requestId === undefined ? {} : { requestId: this.requestId }),
      attempts,
      cause: this.cause,
    });
  }
}

/** `Retry-After` as ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or bad. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The error an answer with a non-2xx status stands for. */
export function errorOfAnswer(status: number, body: string, headers: Headers): TorgoApiError {
  let code = `E_HTTP_${status}`;
  let message = body.slice(0, 500) || `HTTP ${status}`;
  let details: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(body) as Partial<ApiErrorBody>;
    if (typeof parsed.code === 'string' && typeof parsed.message === 'string') {
      code = parsed.code;
      message = parsed.message;
      if (parsed.details && typeof parsed.details === 'object') details = parsed.details;
    }
  } catch {
    // not the gateway's error shape (a proxy's page): keep the raw text
  }
  const wait = retryAfterMs(headers.get('retry-after'));
  const requestId = headers.get('x-request-id') ?? undefined;
  return new TorgoApiError(code, message, {
    status,
    ...(wait === undefined ? {} : { retryAfterMs: wait }),
    ...(details === undefined ? {} : { details }),
    ...(requestId === undefined ? {} : { requestId }),
  });
}
