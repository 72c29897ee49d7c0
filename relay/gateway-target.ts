/**
 * A ForwardTarget over a gateway's HTTP API: POST /v1/receipts/batch with a bearer token.
 * Minimal on purpose and alone in this file: it is to be replaced by the client library (issue 15
 * item 1) once that lands, with no change to the forwarder.
 */
import { ForwardError, type ForwardTarget, type ItemOutcome } from './target.js';

interface BatchAnswer {
  results: { index: number; status: number; error?: { code: string; message: string } }[];
}

export function gatewayTarget(url: string, token: string | undefined): ForwardTarget {
  const base = url.replace(/\/$/, '');
  const name = redact(base);
  return {
    name,
    async appendBatch(receipts, { signal }) {
      let res: Response;
      try {
        res = await fetch(`${base}/v1/receipts/batch`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ receipts }),
          signal,
        });
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause;
        const code = (e as Error).name === 'TimeoutError' ? 'E_TIMEOUT' : 'E_UNREACHABLE';
        throw new ForwardError(code, `${name}: ${cause?.code ?? (e as Error).message}`);
      }
      const text = await res.text().catch(() => '');
      if (res.status !== 200) throw answerError(name, res, text);
      const answer = JSON.parse(text) as BatchAnswer;
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
    },
  };
}

function answerError(name: string, res: Response, text: string): ForwardError {
  let body: { code?: string; message?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not the gateway's JSON error (a proxy's page): the status says enough
  }
  const retryAfter = Number(res.headers.get('retry-after'));
  return new ForwardError(
    body.code ?? `E_HTTP_${res.status}`,
    `${name} answered ${res.status}: ${body.message ?? text.slice(0, 200)}`,
    res.status,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
  );
}

/** The URL without user information, for logs. */
function redact(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.href.replace(/\/$/, '');
}
