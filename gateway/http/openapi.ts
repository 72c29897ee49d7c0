/**
 * The OpenAPI 3.1 document, built from the routes' own JSON schemas (OpenAPI 3.1 schemas are JSON
 * Schema 2020-12, which is what TypeBox writes), so the published API cannot drift from the one
 * served. Shared schemas become `components.schemas`; `$ref: "Name"` becomes `#/components/schemas/Name`.
 */
import type { FastifySchema, RouteOptions } from 'fastify';

interface RouteDoc {
  method: string;
  url: string;
  schema: FastifySchema & { summary?: string; description?: string; tags?: string[] };
  isPublic: boolean;
}

type JsonObject = Record<string, unknown>;

function refs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(refs);
  if (!schema || typeof schema !== 'object') return schema;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(schema as JsonObject)) {
    if (k === '$ref' && typeof v === 'string' && !v.startsWith('#')) out[k] = `#/components/schemas/${v}`;
    else if (k === '$id') continue;
    else out[k] = refs(v);
  }
  return out;
}

function parameters(schema: unknown, where: 'path' | 'query'): JsonObject[] {
  const s = schema as { properties?: Record<string, JsonObject>; required?: string[] } | undefined;
  if (!s?.properties) return [];
  return Object.entries(s.properties).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    ...(typeof p['description'] === 'string' ? { description: p['description'] } : {}),
    schema: refs(p),
  }));
}

const STATUS_TEXT: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '4xx': 'Client error: `{code, message, details?}`',
  '5xx': 'Server error or overload (503 carries Retry-After)',
};

export class OpenApiCollector {
  private readonly routes: RouteDoc[] = [];

  onRoute(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD' || (route.schema as { hide?: boolean } | undefined)?.hide) continue;
      this.routes.push({
        method: method.toLowerCase(),
        url: route.url,
        schema: (route.schema ?? {}) as RouteDoc['schema'],
        isPublic: Boolean((route.config as { public?: boolean } | undefined)?.public),
      });
    }
  }

  document(info: { version: string; shared: readonly JsonObject[] }): JsonObject {
    const paths: Record<string, Record<string, JsonObject>> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const s = r.schema;
      const op: JsonObject = {
        ...(s.summary ? { summary: s.summary } : {}),
        ...(s.description ? { description: s.description } : {}),
        ...(s.tags ? { tags: s.tags } : {}),
        ...(r.isPublic ? { security: [] } : {}),
      };
      const params = [...parameters(s.params, 'path'), ...parameters(s.querystring, 'query')];
      if (params.length > 0) op['parameters'] = params;
      if (s.body) {
        const body = s.body as { content?: Record<string, { schema: unknown }> };
        const content: JsonObject = body.content
          ? Object.fromEntries(
              Object.entries(body.content).map(([type, c]) => [type, { schema: refs(c.schema) }]),
            )
          : { 'application/json': { schema: refs(s.body) } };
        if (r.url === '/v1/receipts' && r.method === 'post') {
          content['text/markdown'] = {
            schema: { type: 'string', description: 'The .mu file, UTF-8 (no charset, or charset=utf-8)' },
          };
        }
        op['requestBody'] = { required: true, content };
      }
      const responses: JsonObject = {};
      for (const [status, schema] of Object.entries((s.response ?? {}) as JsonObject)) {
        const content: JsonObject = { 'application/json': { schema: refs(schema) } };
        if (r.url === '/v1/receipts' && r.method === 'get' && status === '200')
          content['text/csv'] = { schema: { type: 'string' } };
        if (r.url === '/v1/receipts/:id' && status === '200')
          content['text/markdown'] = { schema: { type: 'string' } };
        responses[status] = { description: STATUS_TEXT[status] ?? status, content };
      }
      if (Object.keys(responses).length === 0) responses['200'] = { description: 'OK' };
      op['responses'] = responses;
      paths[path] = { ...(paths[path] ?? {}), [r.method]: op };
    }
    const schemas = Object.fromEntries(info.shared.map((s) => [s['$id'] as string, refs(s)]));
    return {
      openapi: '3.1.0',
      info: {
        title: 'TORGO Ledger gateway',
        version: info.version,
        description:
          'Append signed .mu receipts, query them, manage signer keys and API tokens. See docs/api.md. Request bodies: application/json (UTF-8, no Content-Encoding), and text/markdown on POST /v1/receipts only; anything else is 415. Every 4xx/5xx, including 404, 408 (request timeout), 413, 414, 415 and 431, has the Error body.',
      },
      servers: [{ url: '/' }],
      security: [{ bearer: [] }],
      paths,
      components: {
        schemas,
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: '`torgo_<id>_<secret>` API token' },
        },
      },
    };
  }
}
