/**
 * A ForwardTarget over one gateway, through the client library (@torgo/client). The client's own
 * retries are off: the forwarder owns the schedule (backoff without end, failover between
 * gateways, Retry-After honoured however long), and the client gives it the API's codes.
 */
import { type TlsOptions, TorgoApiError, TorgoClient } from '@torgo/client';
import { ForwardError, type ForwardTarget, type ItemOutcome } from './target.js';

export interface GatewayTargetOptions {
  readonly token?: string | undefined;
  readonly tls?: TlsOptions | undefined;
  /** One request's limit. */
  readonly timeoutMs: number;
}

export function gatewayTarget(url: string, options: GatewayTargetOptions): ForwardTarget {
  const client = new TorgoClient({
    baseUrl: url,
    retry: false,
    timeoutMs: options.timeoutMs,
    ...(options.token ? { token: options.token } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const name = withoutCredentials(url);
  return {
    name,
    async appendBatch(receipts, { signal }) {
      try {
        const answer = await client.appendBatch(receipts, { signal, maxItems: receipts.length });
        return answer.results.map(
          (r): ItemOutcome =>
            r.status === 200 || r.status === 201
              ? { ok: true, created: r.status === 201 }
              : {
                  ok: false,
                  status: r.status,
                  code: r.error?.code ?? 'E_UNKNOWN',
                  message: r.error?.message ?? '',
                },
        );
      } catch (e) {
        if (!(e instanceof TorgoApiError)) throw e;
        throw new ForwardError(e.code, `${name}: ${e.message}`, e.status || undefined, e.retryAfterMs);
      }
    },
  };
}

/** The URL without user information, for logs and metrics labels. */
function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.href.replace(/\/$/, '');
}
