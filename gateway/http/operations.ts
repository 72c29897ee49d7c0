/**
 * Operations routes, open to all (no token, no rate limit): liveness, readiness, Prometheus metrics
 * and the OpenAPI document generated from the routes (openapi.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Errors, Health, Readiness } from '@torgo/api';
import { GatewayError } from '../errors.js';
import type { GatewayService } from '../service.js';
import type { TlsStatus } from '../tls/listener.js';

const OPEN = { public: true, rateLimit: false } as const;

export const operationRoutes: FastifyPluginAsyncTypebox<{
  service: GatewayService;
  tlsStatus?: (() => TlsStatus) | undefined;
}> = async (app, { service, tlsStatus }) => {
  app.get(
    '/healthz',
    {
      config: OPEN,
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['operations'],
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: OPEN,
      schema: {
        summary:
          'Readiness: the ledger answers, the latest appends committed and the transparency log is not stalled (else 503 E_UNAVAILABLE with the same details)',
        tags: ['operations'],
        response: { 200: Readiness, '5xx': Errors['5xx'] },
      },
    },
    async () => {
      if (service.closing) throw new GatewayError('E_UNAVAILABLE', 'the gateway is shutting down');
      const r = await service.readiness();
      const tls = tlsStatus?.();
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
      config: OPEN,
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['operations'],
        produces: ['text/plain'],
        response: {
          200: {
            description: 'OK',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => {
      const body = await service.metrics.registry.metrics();
      return reply.type(service.metrics.registry.contentType).send(body);
    },
  );

  app.get('/openapi.json', { config: OPEN, schema: { hide: true } }, async () => app.swagger());
};
