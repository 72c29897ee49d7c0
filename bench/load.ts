/**
 * The HTTP load generator of the benches: autocannon (fastify's author's load generator, pinned), one
 * keep-alive connection per concurrent request, each request a distinct body prepared before the timed
 * region, and every answer checked.
 *
 * Why not `node:http` (`request` in http.ts, still used for set-up): its client side (ClientRequest,
 * IncomingMessage, the agent's socket pool, a promise per request) runs on the same two cores as the
 * gateway it measures. autocannon writes each request as one buffer and parses the answer without
 * streams or agents: 0.4–0.8× of node:http's CPU per request on the loaded reference VM, ~0.9× in quiet
 * minutes (docs/performance.md §5, `bench/http-client-ab.js`).
 */
import autocannon from 'autocannon';

export interface LoadOptions {
  /** The gateway's base URL (`http://127.0.0.1:PORT`). */
  readonly url: string;
  /** The method of every request; default POST. */
  readonly method?: 'GET' | 'POST';
  /** The route every request goes to. */
  readonly path: string;
  /** A bearer token. */
  readonly token: string;
  /** The bodies' Content-Type. */
  readonly type: string;
  /** One body per request (empty for none), each sent once, in order of sending. */
  readonly bodies: readonly Buffer[];
  /** Requests in flight at once (one connection each). */
  readonly connections: number;
  /**
   * How many receipts an answer acknowledges (its status and body as text); 0 or less for an answer
   * that acknowledges nothing the bench expected (counted as a failure).
   */
  readonly acknowledged: (status: number, body: string) => number;
}

export interface LoadResult {
  /** Wall time from the first connection to the last answer (or to the end, if one never came), ms. */
  readonly elapsed: number;
  /** Each request's time from its write to its answer's end, ms. */
  readonly latencies: number[];
  /** Receipts acknowledged, summed over the answers. */
  readonly acknowledged: number;
  /** Answers that acknowledged nothing, and connection errors or timeouts. */
  readonly failures: number;
  /** The first failed answer's status and body, for the error message. */
  readonly firstFailure?: string;
}

/** Sends every body once with `connections` in flight; resolves when every answer is in. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const { bodies, connections } = options;
  if (bodies.length === 0) return { elapsed: 0, latencies: [], acknowledged: 0, failures: 0 };
  let next = 0;
  let acknowledged = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const latencies: number[] = [];
  let answered = 0;
  let end = Number.NaN;
  const start = performance.now();
  const result = await autocannon({
    url: options.url,
    connections: Math.min(connections, bodies.length),
    amount: bodies.length,
    pipelining: 1,
    timeout: 120,
    // autocannon reports the end of a run at its next sample: every 20 ms, not every second. The
    // elapsed time is this function's own, to the last answer.
    sampleInt: 20,
    headers: { authorization: `Bearer ${options.token}`, 'content-type': options.type },
    requests: [
      {
        method: options.method ?? 'POST',
        path: options.path,
        // Called once per request sent (autocannon rebuilds a request that has a setupRequest).
        setupRequest: (request) => ({ ...request, body: bodies[next++]! }),
        onResponse: (status, body) => {
          if (++answered === bodies.length) end = performance.now();
          const n = options.acknowledged(status, body);
          if (n > 0) acknowledged += n;
          else {
            failures++;
            firstFailure ??= `${status} ${body.slice(0, 300)}`;
          }
        },
      },
    ],
    setupClient: (client) => {
      client.on('response', (_status: number, _bytes: number, duration: number) => latencies.push(duration));
    },
  });
  const elapsed = (Number.isNaN(end) ? performance.now() : end) - start;
  if (next !== bodies.length)
    throw new Error(
      `the load generator sent ${next} bodies, not ${bodies.length}: a body was sent twice or never`,
    );
  return {
    elapsed,
    latencies,
    acknowledged,
    failures: failures + result.errors + result.timeouts,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}
