/**
 * The HTTP load generator of the benches: autocannon (fastify's author's load generator, pinned), one
 * keep-alive connection per concurrent request, each request a distinct body prepared before the timed
 * region, and every answer checked.
 *
 * Why not `node:http` (`request` in http.ts, still used for set-up): its client side (ClientRequest,
 * IncomingMessage, the agent's socket pool, a promise per request) runs on the same two cores as the
 * gateway it measures. autocannon writes each request as one buffer and parses the answer without
 * streams or agents: 0.4–0.8× of node:http's CPU per request on the loaded reference VM, ~0.9× in quiet
 * minutes (docs/performance.md §5, `bench/http-client-ab.js`). `loadRaw` (below) does the same with
 * less still: ~0.45× of autocannon's CPU per request; the HTTP suite's timed runs use it.
 */
import { connect } from 'node:net';
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
  /** autocannon (default) or the raw-socket client (`loadRaw`). */
  readonly client?: 'autocannon' | 'raw';
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
  if (options.client === 'raw') return loadRaw(options);
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

/**
 * The same load as `load` from a smaller client: one keep-alive `net` socket per request in flight,
 * each request written as one buffer built before the timed region (request line, host, bearer token,
 * Content-Type, Content-Length, the body), each answer read as its status line, its Content-Length and
 * that many bytes of body, and checked by `acknowledged` exactly as `load` checks it. No HTTP parser
 * beyond that: an answer without Content-Length (chunked) or one that closes the connection is a
 * failure, so the client can only under-count what the gateway acknowledged.
 */
export async function loadRaw(options: LoadOptions): Promise<LoadResult> {
  const { bodies } = options;
  const connections = Math.min(options.connections, bodies.length);
  if (bodies.length === 0) return { elapsed: 0, latencies: [], acknowledged: 0, failures: 0 };
  const u = new URL(options.url);
  const head = (body: Buffer) =>
    `${options.method ?? 'POST'} ${options.path} HTTP/1.1\r\nhost: ${u.host}\r\nauthorization: Bearer ${options.token}\r\n` +
    (body.length > 0 ? `content-type: ${options.type}\r\ncontent-length: ${body.length}\r\n` : '') +
    '\r\n';
  const requests = bodies.map((b) => Buffer.concat([Buffer.from(head(b), 'latin1'), b]));
  let next = 0;
  let acknowledged = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const latencies: number[] = [];
  const fail = (why: string) => {
    failures++;
    firstFailure ??= why;
  };
  const start = performance.now();
  let end = start;
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve) => {
          const socket = connect({ host: u.hostname, port: Number(u.port) });
          socket.setNoDelay(true);
          let sentAt = 0;
          let pending: Buffer | undefined;
          const send = () => {
            if (next >= requests.length) {
              socket.end();
              resolve();
              return;
            }
            sentAt = performance.now();
            socket.write(requests[next++]!);
          };
          socket.on('connect', send);
          socket.on('data', (chunk: Buffer) => {
            pending = pending ? Buffer.concat([pending, chunk]) : chunk;
            const headEnd = pending.indexOf('\r\n\r\n');
            if (headEnd < 0) return;
            const header = pending.toString('latin1', 0, headEnd);
            const length = /\r\ncontent-length: *(\d+)/i.exec(header);
            if (!length) {
              fail(`an answer without Content-Length: ${header.slice(0, 300)}`);
              socket.destroy();
              resolve();
              return;
            }
            const bodyEnd = headEnd + 4 + Number(length[1]);
            if (pending.length < bodyEnd) return;
            const status = Number(header.slice(9, 12));
            const text = pending.toString('utf8', headEnd + 4, bodyEnd);
            pending = pending.length > bodyEnd ? pending.subarray(bodyEnd) : undefined;
            end = performance.now();
            latencies.push(end - sentAt);
            const n = options.acknowledged(status, text);
            if (n > 0) acknowledged += n;
            else fail(`${status} ${text.slice(0, 300)}`);
            send();
          });
          socket.on('error', (e) => {
            fail(`connection: ${e.message}`);
            resolve();
          });
          socket.on('close', () => resolve());
        }),
    ),
  );
  if (next !== bodies.length) throw new Error(`the raw client sent ${next} bodies, not ${bodies.length}`);
  return {
    elapsed: end - start,
    latencies,
    acknowledged,
    failures,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}
