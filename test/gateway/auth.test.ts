/** Who may do what: the auth/role matrix, token revocation, rate limits, the bounded queue. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatePrivateKey, publicKeyToPem } from '../../core/index.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { call, createToken, idOf, receipt, registerKey, startTestGateway, tempDir } from './helpers.js';

test('auth/role matrix over every route', async (t) => {
  const dir = await tempDir(t);
  const operatorFile = path.join(await tempDir(t), 'operator.token');
  const { url, admin } = await startTestGateway(t, {}, dir, { logOperatorTokenFile: operatorFile });
  const operator = (await readFile(operatorFile, 'utf8')).trim();
  const appender = await createToken(url, admin, 'appender', ['appender']);
  const auditor = await createToken(url, admin, 'auditor', ['auditor']);
  const other = await createToken(url, admin, 'other-appender', ['appender']);
  const key = await registerKey(url, appender);
  const mu = receipt([key]);
  assert.equal((await call(url, 'POST', '/v1/receipts', { token: appender, raw: mu })).status, 201);
  const id = idOf(mu);
  const tokens: Record<string, string | undefined> = {
    none: undefined,
    bogus: 'torgo_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    malformed: 'hunter2',
    appender,
    auditor,
    admin,
    operator,
  };
  type Case = {
    method: string;
    route: string;
    body?: () => unknown;
    raw?: () => string;
    expect: Record<string, number>;
  };
  const anyone = (status: number) => ({ appender: status, auditor: status, admin: status, operator: status });
  const cases: Case[] = [
    {
      method: 'POST',
      route: '/v1/receipts',
      raw: () => receipt([key]),
      expect: { appender: 201, auditor: 403, admin: 403, operator: 403 },
    },
    {
      method: 'POST',
      route: '/v1/receipts/batch',
      body: () => ({ receipts: [receipt([key])] }),
      expect: { appender: 200, auditor: 403, admin: 403, operator: 403 },
    },
    {
      method: 'GET',
      route: `/v1/receipts/${id}`,
      expect: { appender: 403, auditor: 200, admin: 200, operator: 403 },
    },
    {
      method: 'GET',
      route: '/v1/receipts?source=icu-relay-3',
      expect: { appender: 403, auditor: 200, admin: 200, operator: 403 },
    },
    {
      method: 'POST',
      route: '/v1/keys',
      body: () => ({ publicKey: publicKeyToPem(generatePrivateKey()) }),
      expect: { appender: 201, auditor: 403, admin: 403, operator: 403 },
    },
    { method: 'GET', route: `/v1/keys/${key.keyId}`, expect: anyone(200) },
    { method: 'GET', route: `/v1/keys/${key.keyId}/history`, expect: anyone(200) },
    {
      method: 'GET',
      route: '/v1/tokens',
      expect: { appender: 403, auditor: 403, admin: 200, operator: 403 },
    },
    {
      method: 'POST',
      route: '/v1/tokens',
      body: () => ({ name: 'n', roles: ['auditor'] }),
      expect: { appender: 403, auditor: 403, admin: 201, operator: 403 },
    },
    { method: 'GET', route: '/v1/me', expect: anyone(200) },
    {
      method: 'GET',
      route: '/v1/audit/tokens',
      expect: { appender: 403, auditor: 200, admin: 200, operator: 403 },
    },
    {
      method: 'POST',
      route: '/v1/checkpoint',
      expect: { appender: 403, auditor: 403, admin: 200, operator: 200 },
    },
  ];
  for (const c of cases) {
    for (const [who, token] of Object.entries(tokens)) {
      const expected = c.expect[who] ?? 401;
      const r = await call(url, c.method, c.route, {
        ...(token ? { token } : {}),
        ...(c.body ? { body: c.body() } : {}),
        ...(c.raw ? { raw: c.raw() } : {}),
      });
      assert.equal(r.status, expected, `${who} ${c.method} ${c.route}: ${r.text}`);
      if (expected === 401) {
        assert.equal(r.json.code, 'E_UNAUTHENTICATED');
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
      if (expected === 403) assert.equal(r.json.code, 'E_FORBIDDEN');
    }
  }
  // Revoking a key: another appender may not (the contract decides), an admin may.
  const revokeBy = (token: string) =>
    call(url, 'POST', `/v1/keys/${key.keyId}/revoke`, { token, body: { reason: 'audit' } });
  const byOther = await revokeBy(other);
  assert.equal(byOther.status, 403);
  assert.equal(byOther.json.details.stage, 'endorse');
  assert.equal((await revokeBy(auditor)).status, 403);
  assert.equal((await revokeBy(admin)).status, 200);
  // Public routes need no token.
  for (const route of ['/healthz', '/readyz', '/metrics', '/openapi.json'])
    assert.equal((await call(url, 'GET', route)).status, 200, route);
  // A revoked token stops working at once.
  const list = (await call(url, 'GET', '/v1/tokens', { token: admin })).json.tokens as {
    id: string;
    name: string;
  }[];
  const auditorId = list.find((x) => x.name === 'auditor')!.id;
  await call(url, 'POST', `/v1/tokens/${auditorId}/revoke`, { token: admin });
  assert.equal((await call(url, 'GET', `/v1/receipts/${id}`, { token: auditor })).status, 401);
});

test('the token store holds hashes only', async (t) => {
  const { url, admin, dir } = await startTestGateway(t);
  const token = await createToken(url, admin, 'relay', ['appender']);
  const { readFile } = await import('node:fs/promises');
  const store = await readFile(`${dir}/gateway/tokens.json`, 'utf8');
  for (const secret of [admin, token]) {
    assert.ok(!store.includes(secret.slice(23)), 'no secret in the store');
  }
  assert.match(store, /"hash": "sha256:[0-9a-f]{64}"/);
});

test('per-token rate limit: 429 with Retry-After; other tokens unaffected', async (t) => {
  const { url, admin } = await startTestGateway(t, { 'rateLimit.max': 3 });
  const a = await createToken(url, admin, 'a', ['auditor']); // admin: 1
  const b = await createToken(url, admin, 'b', ['auditor']); // admin: 2
  for (let i = 0; i < 3; i++) assert.equal((await call(url, 'GET', '/v1/me', { token: a })).status, 200);
  const limited = await call(url, 'GET', '/v1/me', { token: a });
  assert.equal(limited.status, 429);
  assert.equal(limited.json.code, 'E_RATE_LIMITED');
  // Retry-After: whole seconds until the token's window resets — within the window, and the same
  // figure as the body's details, so a client may read either.
  const retryAfter = limited.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^[1-9]\d*$/);
  assert.ok(Number(retryAfter) <= 60, `Retry-After ${retryAfter} within the default 60 s window`);
  assert.equal(limited.json.details.retryAfterSeconds, Number(retryAfter));
  assert.equal((await call(url, 'GET', '/v1/me', { token: b })).status, 200);
  assert.equal((await call(url, 'GET', '/healthz')).status, 200, 'health checks are not limited');
});

test('a full queue answers 503 + Retry-After and queues nothing', async (t) => {
  const { url, admin } = await startTestGateway(t, { 'limits.queueReceipts': 2 });
  const token = await createToken(url, admin, 'relay', ['appender', 'auditor']);
  const key = await registerKey(url, token);
  const receipts = Array.from({ length: 3 }, () => receipt([key]));
  const r = await call(url, 'POST', '/v1/receipts/batch', { token, body: { receipts } });
  assert.equal(r.status, 503);
  assert.equal(r.json.code, 'E_QUEUE_FULL');
  assert.equal(r.headers.get('retry-after'), '1');
  for (const mu of receipts)
    assert.equal((await call(url, 'GET', `/v1/receipts/${idOf(mu)}`, { token })).status, 404);
  const ok = await call(url, 'POST', '/v1/receipts/batch', {
    token,
    body: { receipts: receipts.slice(0, 2) },
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.appended, 2);
});

test('oversize and malformed bodies are refused cleanly and the gateway keeps serving', async (t) => {
  const { url, admin } = await startTestGateway(t, {
    'limits.bodyBytes': 4096,
    'limits.batchBodyBytes': 16384,
  });
  const token = await createToken(url, admin, 'relay', ['appender']);
  const big = await call(url, 'POST', '/v1/receipts', { token, raw: 'x'.repeat(5000) });
  assert.equal(big.status, 413);
  assert.equal(big.json.code, 'E_BODY_TOO_LARGE');
  const bigBatch = await call(url, 'POST', '/v1/receipts/batch', {
    token,
    body: { receipts: ['x'.repeat(17000)] },
  });
  assert.equal(bigBatch.status, 413);
  const bigKey = await call(url, 'POST', '/v1/keys', { token, body: { publicKey: 'x'.repeat(5000) } });
  assert.equal(bigKey.status, 413);
  for (const [raw, type] of [
    ['{', 'application/json'],
    ['[]', 'application/json'],
    ['null', 'application/json'],
    ['"text"', 'application/json'],
    ['<xml/>', 'application/xml'],
  ] as const) {
    const r = await call(url, 'POST', '/v1/receipts/batch', { token, raw, contentType: type });
    assert.ok(r.status === 400 || r.status === 415, `${type} ${raw}: ${r.status} ${r.text}`);
    assert.match(r.json.code, /^E_(BAD_REQUEST|UNSUPPORTED_MEDIA_TYPE)$/);
  }
  // A lying Content-Length: the connection fails, the server does not.
  const net = await import('node:net');
  const { port } = new URL(url);
  await new Promise<void>((resolve) => {
    const sock = net.connect(Number(port), '127.0.0.1', () => {
      sock.write(
        `POST /v1/receipts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: text/markdown\r\nContent-Length: 100\r\n\r\nshort`,
      );
      sock.end();
    });
    sock.on('close', () => resolve());
    sock.on('error', () => resolve());
    sock.resume();
  });
  assert.equal((await call(url, 'GET', '/healthz')).status, 200);
});
