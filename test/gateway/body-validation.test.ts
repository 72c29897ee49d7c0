/**
 * Request bodies whose only string-length limit is "non-empty" are checked in UTF-16 units (no
 * per-character count); every other body keeps Ajv's count of code points. Both must answer as the
 * code-point count would. A JSON body is parsed as fastify's default parser parses it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchBody, RevokeKeyBody, ReceiptWrapper } from '@torgo/api';
import Fastify from 'fastify';
import { lengthsCountableInUnits, parsedJsonBody } from '../../gateway/http/app.js';
import { call, receipt, service, startTestGateway } from './helpers.js';

test('lengthsCountableInUnits: only schemas whose length limits are minLength <= 1, without $ref', () => {
  assert.equal(lengthsCountableInUnits(batchBody(100)), true);
  assert.equal(lengthsCountableInUnits(ReceiptWrapper), true);
  assert.equal(lengthsCountableInUnits(RevokeKeyBody), false, 'maxLength counts code points');
  assert.equal(lengthsCountableInUnits({ type: 'string', minLength: 2 }), false);
  assert.equal(lengthsCountableInUnits({ anyOf: [{ type: 'string' }, { maxLength: 3 }] }), false);
  assert.equal(lengthsCountableInUnits({ properties: { a: { $ref: 'Other' } } }), false);
  assert.equal(lengthsCountableInUnits({ type: 'object', properties: { a: { type: 'integer' } } }), true);
});

test('batch and JSON bodies: an empty item is 400, an astral-only item passes validation (422 from the receipt checks)', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const s = await service(url, admin);
  const empty = await call(url, 'POST', '/v1/receipts/batch', {
    token: s.token,
    body: { receipts: [receipt([s.key]), ''] },
  });
  assert.equal(empty.status, 400, empty.text);
  assert.equal(empty.json.code, 'E_BAD_REQUEST');
  assert.equal(empty.json.message, 'body/receipts/1 must NOT have fewer than 1 characters');
  const astral = await call(url, 'POST', '/v1/receipts/batch', {
    token: s.token,
    body: { receipts: ['😀'] },
  });
  assert.equal(astral.status, 200, astral.text);
  assert.equal(astral.json.results[0].status, 422);
  const lone = await call(url, 'POST', '/v1/receipts/batch', {
    token: s.token,
    body: { receipts: ['---\n\ud800\n', '---\n\udc00x\n', receipt([s.key])] },
  });
  assert.deepEqual(
    lone.json.results.map((r: { status: number; error?: { code: string } }) => [r.status, r.error?.code]),
    [
      [422, 'E_RECEIPT_ENCODING'],
      [422, 'E_RECEIPT_ENCODING'],
      [201, undefined],
    ],
  );
  const single = await call(url, 'POST', '/v1/receipts', { token: s.token, body: { receipt: '' } });
  assert.equal(single.status, 400);
  assert.equal(single.json.code, 'E_BAD_REQUEST');
});

test('a body with maxLength still counts code points: a 200-emoji revocation reason (400 UTF-16 units) fits 256', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const s = await service(url, admin);
  const keyId = s.key.keyId;
  const tooLong = await call(url, 'POST', `/v1/keys/${encodeURIComponent(keyId)}/revoke`, {
    token: s.token,
    body: { reason: '😀'.repeat(257) },
  });
  assert.equal(tooLong.status, 400, tooLong.text);
  const fits = await call(url, 'POST', `/v1/keys/${encodeURIComponent(keyId)}/revoke`, {
    token: s.token,
    body: { reason: '😀'.repeat(200) },
  });
  assert.equal(fits.status, 200, fits.text);
});

test('parsedJsonBody: the value fastify’s default JSON parser gives, and undefined wherever it refuses', () => {
  const fastifyDefault = Fastify().getDefaultJsonParser('error', 'error');
  const viaDefault = (text: string): { value: unknown } | undefined => {
    let out: { value: unknown } | undefined;
    fastifyDefault({} as never, text, (err, value) => {
      out = err ? undefined : { value };
    });
    return out;
  };
  const texts = [
    '{"receipts":["a","b"]}',
    '\ufeff{"receipt":"x"}',
    '[1,{"a":[{"b":null}]}]',
    '"text"',
    '42',
    'null',
    '',
    '{',
    '{"a":1}x',
    '{"__proto__":{"admin":true}}',
    '{"a":[{"__proto__":1}]}',
    '{"\\u005f_proto__":1}',
    '{"_\\u005Fproto\\u005f_" :1}',
    '{"constructor":{"prototype":{"x":1}}}',
    '{"a":{"constructor":{"prototype":null}}}',
    '{"c\\u006Fnstructor":{"prototype":1}}',
    '{"constructor":{"name":"not a prototype"}}',
    '{"constructor":"text"}',
    '{"proto":"__proto__","text":"constructor prototype"}',
    '{"receipts":["{\\"__proto__\\":1}"]}',
  ];
  for (const text of texts) assert.deepEqual(parsedJsonBody(text), viaDefault(text), JSON.stringify(text));
  assert.equal(parsedJsonBody('{"a":[{"\\u005f_proto__":1}]}'), undefined, 'an escaped __proto__ is refused');
  assert.deepEqual(parsedJsonBody('\ufeff{"constructor":{"name":"x"}}'), {
    value: { constructor: { name: 'x' } },
  });
});
