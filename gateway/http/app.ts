/**
 * The HTTP app: fastify with TypeBox schemas, bearer tokens, per-token rate limits, request ids,
 * bounded bodies, one error shape `{code, message, details?}` and the v1 routes. Built around a
 * GatewayService and returned unstarted, so tests can `inject` or listen as they like (server.ts
 * owns the process: listen, signals, shutdown).
 */
import { randomUUID } from 'node:crypto';
import type { SecureServerOptions } from 'node:http2';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import AjvCompiler, { type ValidatorFactory } from '@fastify/ajv-compiler';
import { scan as refusePoisoning } from 'secure-json-parse';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import { GatewayError } from '../errors.js';
import type { GatewayService } from '../service.js';
import type { TlsStatus } from '../tls/listener.js';
import { AccessLog } from './access-log.js';
import { authenticate } from './auth.js';
import { consoleRoutes } from './console.js';
import { keyRoutes } from './keys.js';
import { logRoutes } from './log.js';
import { swaggerOptions } from './openapi.js';
import { operationRoutes } from './operations.js';
import { receiptRoutes } from './receipts.js';
import { SHARED_SCHEMAS } from '@torgo/api';
import { tokenRoutes } from './tokens.js';
import { witnessRoutes } from './witness.js';

export const API_VERSION = '1.0.0';

/** More routes on the same app (same auth, errors, limits): a plugin given the service. */
export type RoutePlugin = FastifyPluginAsyncTypebox<{ service: GatewayService }>;

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

/** Longest request target (path and query): longer is 414, before any work. */
export const MAX_URL_BYTES = 8192;

/** The one route that takes a receipt as the `.mu` file itself. */
const MARKDOWN_ROUTE = '/v1/receipts';

const JSON_TYPE = 'application/json; charset=utf-8';
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** What fastify's default JSON parser refuses (`getDefaultJsonParser('error', 'error')`). */
const POISONING: { protoAction: 'error'; constructorAction: 'error' } = {
  protoAction: 'error',
  constructorAction: 'error',
};

/**
 * A JSON body as fastify's default parser reads it (secure-json-parse: a leading BOM dropped,
 * `JSON.parse`, objects with an own `__proto__` or a `constructor.prototype` refused), without the
 * two regular-expression passes over the whole text by which secure-json-parse decides whether to
 * look at the parsed value: those are only a filter in front of the same walk, and a walk over the
 * parsed value visits each object once where the regexes read every character (a 240 KB batch
 * body: ~7 µs per receipt instead of 11–14, docs/performance.md §5). Undefined when the text fails either step: the caller then lets the
 * default parser answer, so every refusal keeps its error. Held to the default parser by
 * test/gateway/body-validation.test.ts.
 */
export function parsedJsonBody(text: string): { value: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    if (value !== null && typeof value === 'object') refusePoisoning(value, POISONING);
    return { value };
  } catch {
    return undefined;
  }
}

/**
 * Request bodies are validated as sent: a string where the schema has a number is 400, never
 * coerced. Query strings and path parameters arrive as text, so those are converted to the
 * schema's types (and single values to arrays).
 */
function validators(): ValidatorFactory {
  const factory = AjvCompiler();
  // biome-ignore lint/suspicious/noExplicitAny: the factory's option types are a JTD/Ajv union.
  return ((externalSchemas: any, options: any) => {
    const convert = factory(externalSchemas, options);
    const exactOptions = { ...options?.customOptions, coerceTypes: false };
    const exact = factory(externalSchemas, { ...options, customOptions: exactOptions });
    const exactInUnits = factory(externalSchemas, {
      ...options,
      customOptions: { ...exactOptions, unicode: false, logger: QUIET_ON_UNICODE },
    });
    // biome-ignore lint/suspicious/noExplicitAny: route options as fastify passes them.
    return (route: any) => {
      if (route.httpPart !== 'body') return convert(route);
      return (lengthsCountableInUnits(route.schema) ? exactInUnits : exact)(route);
    };
  }) as ValidatorFactory;
}

/**
 * Ajv's console logger without its one warning about `unicode: false` (deprecated since Ajv 8, still
 * honoured): printed at every start, it would tell an operator about a choice made here on purpose.
 */
const QUIET_ON_UNICODE = {
  log: console.log,
  warn: (...args: unknown[]) => {
    if (!(typeof args[0] === 'string' && args[0].startsWith('DEPRECATED: option unicode')))
      console.warn(...args);
  },
  error: console.error,
};

/**
 * Whether every string-length limit in `schema` answers the same counted in UTF-16 units as in code
 * points (what Ajv counts by default, with a loop over every character): true when no `maxLength`
 * appears and no `minLength` above 1 — a string has at least one code point exactly when it has at
 * least one unit — and no `$ref` hides a schema that could. The batch body's 50 receipts are checked
 * only to be non-empty; counting their ~250 KB of text cost ~17 µs per receipt (docs/performance.md §5).
 */
export function lengthsCountableInUnits(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(lengthsCountableInUnits);
  if (schema === null || typeof schema !== 'object') return true;
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'maxLength' || k === '$ref') return false;
    if (k === 'minLength' && !(typeof v === 'number' && v <= 1)) return false;
    if (!lengthsCountableInUnits(v)) return false;
  }
  return true;
}

/**
 * Errors Node's HTTP parser raises before fastify sees a request (a timeout, oversized headers,
 * malformed HTTP): answered in the same `{code, message}` shape, never echoing the request, and the
 * connection closed.
 */
function clientErrorHandler(limits: { headersTimeoutMs: number; requestTimeoutMs: number }) {
  return function onClientError(err: Error & { code?: string }, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const error =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new GatewayError(
            'E_REQUEST_TIMEOUT',
            `the request did not arrive in time (headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms)`,
          )
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? new GatewayError('E_HEADERS_TOO_LARGE', 'the request line and headers are larger than 16 KiB')
          : new GatewayError('E_BAD_REQUEST', 'the request is not valid HTTP/1.1');
    // Answer only where no answer has started: a request in progress whose response is unsent, or
    // a connection that has answered nothing yet. (A connection whose last request was answered
    // without its body being read is just closed: a late 408 would read as a second response.)
    const s = socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null; bytesWritten?: number };
    const response = s._httpMessage;
    if (socket.writable && (response ? !response.headersSent : (s.bytesWritten ?? 0) === 0)) {
      const body = JSON.stringify(error.toBody());
      socket.write(
        `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

/**
 * Node server options that drop slow and half-open connections. `connectionsCheckingInterval` can
 * only be given when the server is created, so an HTTPS server must get these in its options too.
 */
export function serverTimeouts(limits: {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** `charset=` of a Content-Type, lower-cased; undefined when absent. */
function charsetOf(contentType: string): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1]?.toLowerCase();
}

/**
 * What the request line and headers alone make unacceptable, before any work: a target longer than
 * MAX_URL_BYTES (414), a charset other than UTF-8 or a Content-Encoding other than identity (415).
 */
function requestHeadersRefusal(
  url: string,
  headers: { 'content-type'?: string | undefined; 'content-encoding'?: string | undefined },
): GatewayError | undefined {
  if (url.length > MAX_URL_BYTES)
    return new GatewayError('E_URI_TOO_LONG', `the request target is longer than ${MAX_URL_BYTES} bytes`);
  const type = headers['content-type'];
  if (typeof type === 'string') {
    const charset = charsetOf(type);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
      return new GatewayError('E_UNSUPPORTED_MEDIA_TYPE', 'bodies are UTF-8 only (charset=utf-8)');
  }
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity')
    return new GatewayError(
      'E_UNSUPPORTED_MEDIA_TYPE',
      'Content-Encoding is not accepted: send the body uncompressed',
    );
  return undefined;
}

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
    case 'FST_ERR_CTP_INVALID_CONTENT_TYPE':
      return new GatewayError(
        'E_UNSUPPORTED_MEDIA_TYPE',
        'unsupported Content-Type: send application/json (or text/markdown to POST /v1/receipts)',
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('E_BAD_REQUEST', 'the body does not match its Content-Length');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('E_BAD_REQUEST', 'the JSON body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GatewayError('E_BAD_REQUEST', 'the body is not valid JSON');
  }
  // Anything else fastify refuses: its status, our shape, a message that never repeats the request.
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    const status = f.statusCode === 404 ? 400 : f.statusCode;
    const known: Partial<Record<number, GatewayError>> = {
      406: new GatewayError('E_NOT_ACCEPTABLE', 'no acceptable representation for this Accept header'),
      408: new GatewayError('E_REQUEST_TIMEOUT', 'the request did not arrive in time'),
      413: new GatewayError('E_BODY_TOO_LARGE', 'the request body is larger than this route accepts'),
      414: new GatewayError('E_URI_TOO_LONG', 'the request target is too long'),
      415: new GatewayError('E_UNSUPPORTED_MEDIA_TYPE', 'unsupported Content-Type or Content-Encoding'),
      431: new GatewayError('E_HEADERS_TOO_LARGE', 'the request headers are too large'),
    };
    return (
      known[status] ??
      new GatewayError('E_BAD_REQUEST', 'the request is malformed', f.code ? { reason: f.code } : undefined, {
        status,
      })
    );
  }
  return new GatewayError('E_INTERNAL', 'internal error', undefined, { cause: e });
}

export async function buildApp(service: GatewayService, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = service;
  const logger = options.logger ?? false;
  const app = Fastify({
    ...((options.https
      ? {
          http2: true,
          // A TLS handshake, too, must finish within the headers timeout (Node's default is 120 s).
          https: { handshakeTimeout: config.limits.headersTimeoutMs, ...options.https },
        }
      : {}) as object),
    ...(logger && typeof (logger as { info?: unknown }).info === 'function'
      ? { loggerInstance: logger as FastifyServerOptions['loggerInstance'] }
      : { logger: logger as FastifyServerOptions['logger'] }),
    logController: new AccessLog(),
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
    schemaController: { compilersFactory: { buildValidator: validators() } },
    // Slow or half-open connections are dropped: headers must arrive within headersTimeoutMs, the
    // whole request within requestTimeoutMs, checked every quarter of the headers timeout (at most
    // every second; Node's default is every 30 s, which let such connections sit for tens of seconds).
    requestTimeout: config.limits.requestTimeoutMs,
    keepAliveTimeout: config.limits.keepAliveTimeoutMs,
    http: serverTimeouts(config.limits),
    clientErrorHandler: clientErrorHandler(config.limits),
    frameworkErrors: (e, request, anyReply) => {
      const reply = anyReply as unknown as FastifyReply;
      const error =
        e.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new GatewayError('E_URI_TOO_LONG', 'a path segment is longer than any id this API takes')
          : e.code === 'FST_ERR_BAD_URL'
            ? new GatewayError('E_BAD_REQUEST', 'the URL is not valid (bad percent-encoding)')
            : new GatewayError('E_INTERNAL', 'internal error');
      request.log.info({ code: error.code, status: error.status }, 'request refused');
      return reply
        .code(error.status)
        .header('x-request-id', request.id)
        .type(JSON_TYPE)
        .serializer(JSON.stringify)
        .send(error.toBody());
    },
  });

  if (options.https) {
    // fastify applies `http` only to a plain HTTP server; the HTTP/2 server's HTTP/1.1 fallback
    // (allowHTTP1) reads the same timeouts from the server object, so slow clients are dropped alike.
    Object.assign(app.server, serverTimeouts(config.limits));
  }
  for (const s of SHARED_SCHEMAS) app.addSchema(s);

  // Accepted bodies: application/json everywhere, and the .mu file itself as text/markdown on POST
  // /v1/receipts only (kept as bytes, so invalid UTF-8 is refused by the receipt checks, not
  // repaired). Both UTF-8 only. Anything else is 415 (text/plain included).
  app.addContentTypeParser('text/markdown', { parseAs: 'buffer' }, (request, body, done) => {
    if (request.method !== 'POST' || request.routeOptions.url !== MARKDOWN_ROUTE) {
      done(
        new GatewayError(
          'E_UNSUPPORTED_MEDIA_TYPE',
          'text/markdown is accepted only by POST /v1/receipts: send application/json',
        ),
        undefined,
      );
      return;
    }
    done(null, body);
  });
  app.removeContentTypeParser('text/plain'); // fastify's built-in: 415 here, like any other type
  // JSON must be valid UTF-8: the default parser would replace bad bytes with U+FFFD.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = UTF8.decode(body as Buffer);
    } catch {
      done(new GatewayError('E_BAD_REQUEST', 'the JSON body is not valid UTF-8'), undefined);
      return;
    }
    const parsed = parsedJsonBody(text);
    if (parsed) done(null, parsed.value);
    else parseJson(request, text, done);
  });

  // The hooks that need not wait for anything take fastify's callback form: an async hook costs a
  // promise and a turn of the microtask queue per request (docs/performance.md §5).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done(requestHeadersRefusal(request.url, request.headers));
  });
  app.addHook('onRequest', authenticate(service));
  // While shutting down, every answer closes its connection, so keep-alive clients cannot hold the
  // server open (Node closes only the connections idle at the moment close() is called).
  app.addHook('onSend', (request, reply, payload, done) => {
    // HTTP/2 forbids the header (its sessions are closed by the server's close instead).
    if (service.closing && request.raw.httpVersionMajor < 2) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    service.metrics.requests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
    done();
  });

  await app.register(rateLimit, {
    global: config.rateLimit.max > 0,
    max: config.rateLimit.max || 1,
    timeWindow: config.rateLimit.windowMs,
    hook: 'onRequest',
    keyGenerator: (request) => request.caller?.principal ?? `ip:${request.ip}`,
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
  app.setNotFoundHandler((_request, reply) => {
    // The path is not repeated: an error never echoes the request.
    const error = new GatewayError('E_ROUTE_NOT_FOUND', 'no such route (the routes are in /openapi.json)');
    return reply.code(404).type('application/json; charset=utf-8').send(error.toBody());
  });

  // The OpenAPI document is generated from the routes registered after this (openapi.ts).
  await app.register(swagger, swaggerOptions(API_VERSION));
  await app.register(operationRoutes, { service, tlsStatus: options.tlsStatus });
  await app.register(receiptRoutes, { service });
  await app.register(keyRoutes, { service });
  await app.register(tokenRoutes, { service });
  await app.register(logRoutes, { service });
  await app.register(witnessRoutes, { service });
  await app.register(consoleRoutes);
  for (const routes of options.routes ?? []) await app.register(routes, { service });
  return app;
}
