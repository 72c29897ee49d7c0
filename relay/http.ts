/**
 * The relay's HTTP intake (loopback TCP and/or a Unix socket; no authentication, so never on a
 * routable address): POST /v1/receipts, POST /v1/receipts/batch, GET /v1/status, GET
 * /v1/rejected, GET /healthz, GET /metrics. Answers 202 only after the receipt is durable.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { MAX_FILE_BYTES } from '../core/index.js';
import { RelayError } from './errors.js';
import type { Relay } from './relay.js';

/** Receipts per intake batch at most, and its body limit. */
export const INTAKE_BATCH_ITEMS = 1000;
const BATCH_BODY_BYTES = 16 * 1024 * 1024;
const RETRY_AFTER_SECONDS = { E_RELAY_FULL: 30, E_RELAY_CLOSED: 5 } as Readonly<Record<string, number>>;

export function buildRelayApp(relay: Relay, logger: Logger | false): FastifyInstance {
  const app: FastifyInstance = Fastify({
    // pino's Logger is a FastifyBaseLogger; naming the wider type keeps the instance's type FastifyInstance.
    ...(logger === false ? { logger: false } : { loggerInstance: logger as FastifyBaseLogger }),
    bodyLimit: MAX_FILE_BYTES * 2,
    // Services hand over receipts at high rates on loopback: log failures, not every request.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addContentTypeParser('text/markdown', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  app.setErrorHandler((e: FastifyError | RelayError, request, reply) => {
    const error = asRelayError(e);
    if (error.status >= 500 && error.status !== 503 && error.status !== 507)
      request.log.error({ err: e, code: error.code }, 'request failed');
    const retry = RETRY_AFTER_SECONDS[error.code];
    if (retry) reply.header('retry-after', String(retry));
    return reply.code(error.status).send(error.toBody());
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ code: 'E_ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url}` }),
  );

  app.post('/v1/receipts', async (request, reply) => {
    const accepted = await relay.accept(bodyToReceipt(request.body));
    return reply.code(accepted.status === 'queued' ? 202 : 200).send(accepted);
  });

  app.post(
    '/v1/receipts/batch',
    {
      bodyLimit: BATCH_BODY_BYTES,
      schema: {
        body: {
          type: 'object',
          required: ['receipts'],
          additionalProperties: false,
          properties: {
            receipts: { type: 'array', minItems: 1, maxItems: INTAKE_BATCH_ITEMS, items: { type: 'string' } },
          },
        },
      },
    },
    async (request) => {
      const { receipts } = request.body as { receipts: string[] };
      const results = await relay.acceptBatch(receipts);
      let queued = 0;
      let existing = 0;
      const items = results.map((r, index) => {
        if (r instanceof RelayError) return { index, status: r.status, error: r.toBody() };
        if (r.status === 'queued') queued++;
        else existing++;
        return { index, status: r.status === 'queued' ? 202 : 200, receipt: r };
      });
      return { results: items, queued, existing, failed: results.length - queued - existing };
    },
  );

  app.get('/v1/status', async () => relay.status());

  app.get('/v1/rejected', async (request) => {
    const limit = Number((request.query as { limit?: string }).limit ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new RelayError('E_BAD_REQUEST', 'limit must be an integer from 1 to 1000');
    return { receipts: await relay.rejected(limit) };
  });

  // Readiness for the services that hand receipts over: 503 while the relay cannot accept any.
  app.get('/healthz', async (_request, reply) => {
    const s = relay.status();
    const accepting = relay.accepting;
    return reply.code(accepting ? 200 : 503).send({
      status: accepting ? 'ok' : 'unavailable',
      accepting,
      forwarding: s.forwarding.state,
      backlog: s.backlog.receipts,
    });
  });

  app.get('/metrics', async (_request, reply) => {
    const registry = relay.metrics.registry;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return app;
}

function bodyToReceipt(body: unknown): Uint8Array | string {
  if (Buffer.isBuffer(body)) {
    if (body.length === 0)
      throw new RelayError('E_BAD_REQUEST', 'the request body is empty: send the .mu file');
    return new Uint8Array(body.buffer, body.byteOffset, body.length);
  }
  if (body && typeof body === 'object' && typeof (body as { receipt?: unknown }).receipt === 'string')
    return (body as { receipt: string }).receipt;
  throw new RelayError(
    'E_BAD_REQUEST',
    'send the .mu file as text/markdown, or JSON {"receipt": "<.mu text>"}',
  );
}

function asRelayError(e: FastifyError | RelayError): RelayError {
  if (e instanceof RelayError) return e;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new RelayError('E_BODY_TOO_LARGE', e.message);
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new RelayError('E_UNSUPPORTED_MEDIA_TYPE', 'send text/markdown or application/json');
  if (e.validation || (e.statusCode && e.statusCode < 500)) return new RelayError('E_BAD_REQUEST', e.message);
  return new RelayError('E_INTERNAL', 'the relay failed; see its log');
}
