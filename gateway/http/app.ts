/**
 * The HTTP app: fastify with TypeBox schemas, bearer tokens, per-token rate limits, request ids,
 * bounded bodies, one error shape `{code, message, details?}` and the v1 routes. Built around a
 * GatewayService and returned unstarted, so tests can `inject` or listen as they like (server.ts
 * owns the process: listen, signals, shutdown).
 */
import { randomUUID } from 'node:crypto';
import type { SecureServerOptions } from 'node:http2';
import rateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifySchema,
  type FastifyServerOptions,
} from 'fastify';
import { Type } from 'typebox';
import { GatewayError } from '../errors.js';
import type { GatewayService } from '../service.js';
import type { TlsStatus } from '../tls/listener.js';
import { authenticate } from './auth.js';
import { consoleRoutes } from './console.js';
import { keyRoutes } from './keys.js';
import { logRoutes } from './log.js';
import { OpenApiCollector } from './openapi.js';
import { receiptRoutes } from './receipts.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { tokenRoutes } from './tokens.js';
import { witnessRoutes } from './witness.js';

export const API_VERSION = '1.0.0';

/** More routes on the same app (same auth, errors, limits): e.g. the transparency log's. */
export type RoutePlugin = (app: FastifyInstance, service: GatewayService) => Promise<void>;

export interface AppOptions {
  /** A pino logger configuration or instance; false for none (tests). */
  logger?: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance'];
  /** Registered after the v1 routes. */
  routes?: readonly RoutePlugin[];
  /** Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with these listener options (tls/listener.ts). */
  https?: SecureServerOptions;
  /** What `/readyz` reports of TLS (listener and the gateway's own connections). */
  tlsStatus?: () => TlsStatus;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Turns anything thrown in a request into the gateway's error shape. */
function asGatewayError(e: FastifyError | GatewayError | Error): GatewayError {
  if (e instanceof GatewayError) return e;
  const f = e as FastifyError & {
    validation?: { instancePath?: string; message?: string }[];
    validationContext?: string;
  };
  if (f.validation) {
    const problems = f.validation.map((v) =>
      `${f.validationContext ?? 'request'}${v.instancePath ?? ''} ${v.message ?? ''}`.trim(),
    );
    return new GatewayError('E_BAD_REQUEST', problems.join('; '), { problems });
  }
  switch (f.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError(
        'E_BODY_TOO_LARGE',
        'the request body is larger than this route accepts',
        undefined,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError(
        'E_UNSUPPORTED_MEDIA_TYPE',
        'unsupported Content-Type: send application/json (or text/markdown for one receipt)',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('E_BAD_REQUEST', 'the JSON body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GatewayError('E_BAD_REQUEST', 'the body is not valid JSON');
  }
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return new GatewayError('E_BAD_REQUEST', f.message, undefined, {
      status: f.statusCode === 404 ? 400 : f.statusCode,
    });
  }
  return new GatewayError('E_INTERNAL', 'internal error', undefined, { cause: e });
}

export async function buildApp(service: GatewayService, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = service;
  const logger = options.logger ?? false;
  const app = Fastify({
    ...((options.https ? { http2: true, https: options.https } : {}) as object),
    ...(logger && typeof (logger as { info?: unknown }).info === 'function'
      ? { loggerInstance: logger as FastifyServerOptions['loggerInstance'] }
      : { logger: logger as FastifyServerOptions['logger'] }),
    bodyLimit: config.limits.bodyBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });

  const openapi = new OpenApiCollector();
  app.addHook('onRoute', (route) => openapi.onRoute(route));
  for (const s of SHARED_SCHEMAS) app.addSchema(s);

  // One receipt may come as the .mu file itself; kept as bytes so invalid UTF-8 is refused, not repaired.
  app.addContentTypeParser(['text/markdown', 'text/plain'], { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onRequest', authenticate(service));
  // While shutting down, every answer closes its connection, so keep-alive clients cannot hold the
  // server open (Node closes only the connections idle at the moment close() is called).
  app.addHook('onSend', async (request, reply, payload) => {
    // HTTP/2 forbids the header (its sessions are closed by the server's close instead).
    if (service.closing && request.raw.httpVersionMajor < 2) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    service.metrics.requests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });

  await app.register(rateLimit, {
    global: config.rateLimit.max > 0,
    max: config.rateLimit.max || 1,
    timeWindow: config.rateLimit.windowMs,
    hook: 'onRequest',
    keyGenerator: (request) => (request.caller ? `token:${request.caller.token.id}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) =>
      new GatewayError(
        'E_RATE_LIMITED',
        `rate limit of ${context.max} requests per ${context.after} exceeded`,
        {
          limit: context.max,
          retryAfterSeconds: Math.ceil(context.ttl / 1000),
        },
      ),
  });

  app.setErrorHandler((e: FastifyError | GatewayError, request, reply) => {
    const error = asGatewayError(e);
    if (error.status === 503) {
      // Unavailable (a node down, the queue full, shutting down): expected under faults, and
      // readiness probes would flood the error log; the reason is in the answer and the metrics.
      request.log.warn({ code: error.code, reason: error.details?.['reason'] }, 'request unavailable');
    } else if (error.status >= 500) {
      request.log.error({ err: error.cause ?? e, code: error.code }, 'request failed');
    } else {
      request.log.info({ code: error.code, status: error.status }, 'request refused');
    }
    if (error.status === 503 && !reply.hasHeader('retry-after')) {
      const asked = error.details?.['retryAfterSeconds'];
      reply.header(
        'retry-after',
        typeof asked === 'number' && asked > 0
          ? String(Math.ceil(asked))
          : error.code === 'E_UNAVAILABLE'
            ? '5'
            : '1',
      );
    }
    return reply
      .code(error.status)
      .type('application/json; charset=utf-8')
      .serializer(JSON.stringify)
      .send(error.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new GatewayError(
      'E_ROUTE_NOT_FOUND',
      `no route ${request.method} ${request.url.split('?')[0]}`,
    );
    return reply.code(404).type('application/json; charset=utf-8').send(error.toBody());
  });

  const open = { public: true, rateLimit: false } as const;
  app.get(
    '/healthz',
    {
      config: open,
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['operations'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  const LogReadiness = Type.Object(
    {
      state: Type.Union([
        Type.Literal('following'),
        Type.Literal('reconnecting'),
        Type.Literal('stopped'),
        Type.Literal('off'),
      ]),
      nextBlock: Type.Optional(Type.Integer({ description: 'first ledger block not yet in the log' })),
      height: Type.Optional(Type.Integer({ description: 'ledger height the log compares itself with' })),
      lagBlocks: Type.Optional(Type.Integer()),
      stalled: Type.Optional(Type.Boolean()),
      stalledForSeconds: Type.Optional(Type.Integer()),
      reconnects: Type.Optional(Type.Integer()),
      consecutiveFailures: Type.Optional(Type.Integer()),
      lastError: Type.Optional(Type.String()),
      lastBlockAt: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  );
  const Counts = Type.Record(Type.String(), Type.Integer());
  const TlsReadiness = Type.Object(
    {
      enabled: Type.Boolean({ description: 'whether this listener speaks HTTPS' }),
      groups: Type.Optional(
        Type.Array(Type.String(), { description: 'key-exchange groups offered, preferred first' }),
      ),
      requirePostQuantum: Type.Optional(Type.Boolean()),
      clientAuth: Type.Optional(Type.String()),
      handshakes: Type.Optional(Counts),
      failures: Type.Optional(Counts),
      lastGroup: Type.Optional(
        Type.String({ description: 'key-exchange group of the latest client handshake' }),
      ),
      outbound: Type.Array(
        Type.Object({
          endpoint: Type.String(),
          servername: Type.Optional(Type.String()),
          group: Type.String(),
          at: Type.String(),
        }),
        {
          description:
            "the gateway's own TLS connections (Fabric peers, CA): latest handshake's group per endpoint",
        },
      ),
    },
    {
      additionalProperties: false,
      description: 'transport security: negotiated key-exchange groups (docs/operations.md)',
    },
  );
  app.get(
    '/readyz',
    {
      config: open,
      schema: {
        summary:
          'Readiness: the ledger answers, the latest appends committed and the transparency log is not stalled (else 503 E_UNAVAILABLE with the same details)',
        tags: ['operations'],
        response: {
          200: Type.Object({
            status: Type.Literal('ready'),
            ledger: Type.String(),
            height: Type.Optional(Type.Integer()),
            details: Type.Object({
              ledger: Type.Object({ ok: Type.Boolean(), reason: Type.Optional(Type.String()) }),
              commits: Type.Object(
                {
                  ok: Type.Boolean(),
                  stage: Type.Optional(Type.String()),
                  reason: Type.Optional(Type.String()),
                  since: Type.Optional(Type.String()),
                  failures: Type.Optional(Type.Integer()),
                },
                {
                  description:
                    'whether the latest append transactions committed (contract server, endorsers, orderer)',
                },
              ),
              log: LogReadiness,
              tls: Type.Optional(TlsReadiness),
            }),
          }),
          '5xx': Type.Ref('Error'),
        },
      },
    },
    async () => {
      if (service.closing) throw new GatewayError('E_UNAVAILABLE', 'the gateway is shutting down');
      const r = await service.readiness();
      const tls = options.tlsStatus?.();
      const details = { ledger: r.ledger, commits: r.commits, log: r.log, ...(tls ? { tls } : {}) };
      if (!r.ready) {
        throw new GatewayError('E_UNAVAILABLE', r.message, {
          ...details,
          ...(r.height === undefined ? {} : { height: r.height }),
        });
      }
      return {
        status: 'ready' as const,
        ledger: service.driver.kind,
        ...(r.height === undefined ? {} : { height: r.height }),
        details,
      };
    },
  );
  app.get(
    '/metrics',
    {
      config: open,
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['operations'],
      } as FastifySchema,
    },
    async (_request, reply) => {
      const body = await service.metrics.registry.metrics();
      return reply.type(service.metrics.registry.contentType).send(body);
    },
  );
  app.get('/openapi.json', { config: open, schema: { hide: true } as never }, async () =>
    openapi.document({
      version: API_VERSION,
      shared: SHARED_SCHEMAS as unknown as Record<string, unknown>[],
    }),
  );

  await receiptRoutes(app, service);
  await keyRoutes(app, service);
  await tokenRoutes(app, service);
  await logRoutes(app, service);
  await witnessRoutes(app, service);
  await consoleRoutes(app);
  for (const routes of options.routes ?? []) await routes(app, service);
  return app;
}
