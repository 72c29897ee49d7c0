/**
 * When to try a request again and how long to wait: exponential backoff with full jitter
 * (AWS Architecture Blog, "Exponential Backoff and Jitter"), at least what `Retry-After` asks.
 * 4xx answers are never retried: the same request would get the same answer.
 */
import type { TorgoApiError } from './errors.js';

export interface RetryPolicy {
  /** Attempts after the first (0: never retry). Default 5. */
  retries: number;
  /** The first backoff's ceiling; doubles each attempt. Default 250 ms. */
  baseDelayMs: number;
  /** No backoff waits longer. Default 10 s. */
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the error is thrown (its retryAfterMs says how long). Default 60 s. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 5,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

/**
 * Whether a failed attempt may be sent again. Requests the API makes idempotent (reads, and
 * appends: a resend of the same receipt answers the original acknowledgement) are retried on any
 * failure that is not a 4xx: no answer, a timeout, 502/503/504. Others (creating a token, registering
 * a key) are retried only when the gateway cannot have acted on them: 503, or a connection refused.
 */
export function isRetryable(error: TorgoApiError, idempotent: boolean): boolean {
  if (error.code === 'E_ABORTED') return false;
  if (error.status === 503) return true;
  if (!idempotent) return error.code === 'E_NETWORK' && error.details?.['syscallCode'] === 'ECONNREFUSED';
  if (error.status === 0) return error.code === 'E_NETWORK' || error.code === 'E_TIMEOUT';
  return error.status === 502 || error.status === 504;
}

/**
 * The wait before attempt `attempt + 1` (attempt counts from 0), or undefined when the gateway
 * asked for longer than the policy waits. `random` in [0, 1) is passed in so tests can pin it.
 */
export function backoffMs(
  policy: RetryPolicy,
  attempt: number,
  error: TorgoApiError,
  random: () => number,
): number | undefined {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jitter = Math.floor(random() * ceiling);
  if (error.retryAfterMs === undefined) return jitter;
  if (error.retryAfterMs > policy.maxRetryAfterMs) return undefined;
  // Honour the ask, and spread the clients it was given to so they do not return together.
  return error.retryAfterMs + Math.floor(random() * Math.min(ceiling, policy.baseDelayMs));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
