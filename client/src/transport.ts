/**
 * One HTTP attempt: fetch with the caller's signal and a per-attempt timeout, failures turned into
 * TorgoApiErrors. TLS options (a private CA, a client certificate) and HTTP/2 need undici's Agent,
 * loaded only then, so without them the client runs on any fetch (browsers included).
 */
import { TorgoApiError } from './errors.js';

/** The fetch the client calls (the global one by default). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface TlsOptions {
  /** PEM CA certificate(s) to trust instead of the system's (`torgo tls dev-cert` writes ca.pem). */
  ca?: string | Uint8Array;
  /** PEM client certificate (mutual TLS: it authenticates as its token) and its key. */
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
}

/**
 * The fetch for these options: the global fetch, or undici's with an Agent that carries the TLS
 * options and, with `http2`, negotiates HTTP/2 by ALPN.
 */
export function transportFor(tls: TlsOptions | undefined, http2: boolean): FetchLike {
  if (!tls && !http2) return (url, init) => fetch(url, init);
  let ready: Promise<FetchLike> | undefined;
  const load = async (): Promise<FetchLike> => {
    const undici = await import('undici');
    const pem = (v: string | Uint8Array | undefined) =>
      v === undefined ? {} : { value: typeof v === 'string' ? v : Buffer.from(v) };
    const ca = pem(tls?.ca);
    const cert = pem(tls?.cert);
    const key = pem(tls?.key);
    const dispatcher = new undici.Agent({
      allowH2: http2,
      connect: {
        ...('value' in ca ? { ca: ca.value } : {}),
        ...('value' in cert ? { cert: cert.value } : {}),
        ...('value' in key ? { key: key.value } : {}),
      },
    });
    return (url, init) => undici.fetch(url, { ...init, dispatcher } as never) as unknown as Promise<Response>;
  };
  return async (url, init) => {
    ready ??= load();
    return (await ready)(url, init);
  };
}

/** Node's codes of a certificate the client does not trust, or a handshake the server refused. */
const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HANDSHAKE|ALERT/;

/** What a failed fetch means: the caller aborted, the attempt timed out, or no answer came. */
export function failureOf(e: unknown, url: string, aborted: boolean, timedOut: boolean, timeoutMs: number) {
  if (aborted) return new TorgoApiError('E_ABORTED', 'the request was aborted', { cause: e });
  if (timedOut)
    return new TorgoApiError('E_TIMEOUT', `no answer from ${url} within ${timeoutMs} ms`, { cause: e });
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  const tls = TLS_FAILURE.test(code ?? '') || /handshake failure/i.test(cause?.message ?? '');
  return new TorgoApiError(
    tls ? 'E_TLS' : 'E_NETWORK',
    `cannot reach ${url}: ${code ?? cause?.message ?? (e as Error).message}`,
    { cause: e, ...(code ? { details: { syscallCode: code } } : {}) },
  );
}

export interface Attempt {
  /** Aborts with the caller's signal or the timeout. */
  readonly signal: AbortSignal;
  readonly timedOut: () => boolean;
  /** Stops the timeout: a streamed body is then bounded by the caller's signal only. */
  readonly stopTimer: () => void;
  /** Done with the attempt: the timeout and the link to the caller's signal are dropped. */
  readonly end: () => void;
}

/** A signal for one attempt: the caller's, or `timeoutMs` elapsed. */
export function startAttempt(timeoutMs: number, signal: AbortSignal | undefined): Attempt {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new TorgoApiError('E_TIMEOUT', `no answer within ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    stopTimer: () => clearTimeout(timer),
    end: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
