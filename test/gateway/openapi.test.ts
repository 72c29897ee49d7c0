/**
 * /openapi.json is generated from the route schemas (@fastify/swagger) and is a valid OpenAPI 3.1
 * document (checked with @seriousme/openapi-schema-validator against the official 3.1 JSON schema),
 * every `$ref` resolves inside it, and it says what the routes do: media types, open routes, errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { call, startTestGateway } from './helpers.js';

/** Every `$ref` string in a JSON value. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

test('/openapi.json is a valid OpenAPI 3.1 document generated from the routes', async (t) => {
  const { url } = await startTestGateway(t);
  const api = await call(url, 'GET', '/openapi.json');
  assert.equal(api.status, 200);
  const doc = api.json;
  assert.equal(doc.openapi, '3.1.0');

  const validator = new Validator();
  const result = await validator.validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 4000));
  assert.equal(validator.version, '3.1');

  const refs = refsIn(doc);
  assert.ok(refs.length > 10, 'shared schemas are referenced, not copied');
  for (const ref of refs) {
    assert.match(ref, /^#\/components\/schemas\/[A-Za-z]+$/, ref);
    assert.ok(doc.components.schemas[ref.split('/').at(-1)!], `${ref} resolves`);
  }
  for (const name of ['Error', 'AppendAck', 'Party', 'Receipt', 'KeyRecord', 'TokenInfo', 'AuditEvent'])
    assert.ok(doc.components.schemas[name], name);

  const append = doc.paths['/v1/receipts'].post;
  assert.deepEqual(Object.keys(append.requestBody.content).sort(), ['application/json', 'text/markdown']);
  assert.deepEqual(Object.keys(append.responses).sort(), ['200', '201', '4XX', '5XX']);
  const read = doc.paths['/v1/receipts/{id}'].get;
  assert.deepEqual(Object.keys(read.responses['200'].content).sort(), ['application/json', 'text/markdown']);
  assert.equal(read.parameters.find((p: { in: string }) => p.in === 'path').name, 'id');
  const query = doc.paths['/v1/receipts'].get;
  assert.deepEqual(Object.keys(query.responses['200'].content).sort(), ['application/json', 'text/csv']);
  assert.ok(
    query.parameters.some((p: { name: string; in: string }) => p.name === 'cursor' && p.in === 'query'),
  );

  // Open routes say so; the others need the bearer token (the document's default).
  assert.deepEqual(doc.security, [{ bearer: [] }]);
  for (const p of ['/healthz', '/readyz', '/metrics', '/v1/log/operator-key'])
    assert.deepEqual(doc.paths[p].get.security, [], p);
  assert.equal(doc.paths['/v1/me'].get.security, undefined);
  // Internal routes are not published.
  for (const p of Object.keys(doc.paths)) assert.ok(!p.startsWith('/console') && p !== '/openapi.json', p);
});
