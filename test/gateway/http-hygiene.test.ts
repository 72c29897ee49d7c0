/**
 * HTTP hygiene (issue 12 item 6) over real sockets: slow and half-open connections are dropped
 * within the configured timeouts; every error — fastify's and Node's own included — is
 * `{code, message}` JSON that never echoes the request; strict Content-Types; no type coercion of
 * JSON bodies; the CLI refuses an oversize receipt file before sending it.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { MAX_FILE_BYTES } from '../../core/index.js';
import { torgo } from '../cli/run.js';
import { call, createToken, receipt, registerKey, startTestGateway, tempDir } from './helpers.js';

interface RawAnswer {
  text: string;
  /** ms from connect to the server closing the connection. */
  closedAfterMs: number;
}

/** Opens a TCP connection, writes `chunks` (each after its delay), and waits for the server to close. */
function raw(url: string, chunks: { afterMs: number; data: string | Buffer }[] = []): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: hostname, port: Number(port) });
    const timers: NodeJS.Timeout[] = [];
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      for (const t of timers) clearTimeout(t);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
    const give = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server never closed the connection'));
    }, 30_000);
    timers.push(give);
    for (const c of chunks) timers.push(setTimeout(() => socket.writable && socket.write(c.data), c.afterMs));
  });
}

function jsonOf(answer: RawAnswer): { status: number; body: Record<string, unknown> } {
  const [head = '', body = ''] = answer.text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) };
}

const MARKER = 'ECHO-MARKER-7f3a';

/** The documented error shape and nothing of the request in it. */
function assertErrorShape(what: string, status: number, body: unknown, code: string, want: number): void {
  assert.equal(status, want, `${what}: ${JSON.stringify(body)}`);
  const b = body as Record<string, unknown>;
  assert.equal(b['code'], code, what);
  assert.equal(typeof b['message'], 'string', what);
  assert.deepEqual(
    Object.keys(b).filter((k) => !['code', 'message', 'details'].includes(k)),
    [],
    `${what}: only code, message, details`,
  );
  assert.ok(!JSON.stringify(b).includes(MARKER), `${what}: the request is not echoed`);
}

test('slow-loris and half-open connections are closed within the configured timeouts', async (t) => {
  const { url, admin } = await startTestGateway(t, {
    'limits.headersTimeoutMs': 1000,
    'limits.requestTimeoutMs': 2000,
  });
  const token = await createToken(url, admin, 'relay', ['appender']);
  const trickle = (i: number) =>
    raw(url, [
      { afterMs: 0, data: 'GET /healthz HTTP/1.1\r\nHost: x\r\n' },
      ...Array.from({ length: 40 }, (_, k) => ({ afterMs: 100 + k * 200, data: `X-Slow-${i}-${k}: a\r\n` })),
    ]);
  const slowBody = () =>
    raw(url, [
      {
        afterMs: 0,
        data: `POST /v1/receipts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
      },
      ...Array.from({ length: 40 }, (_, k) => ({ afterMs: 100 + k * 200, data: ' ' })),
    ]);
  const connections = await Promise.all([
    ...Array.from({ length: 40 }, (_, i) => trickle(i)),
    ...Array.from({ length: 40 }, () => raw(url)), // half-open: connects, sends nothing
    ...Array.from({ length: 20 }, () => slowBody()),
  ]);
  const headers = connections.slice(0, 80);
  const bodies = connections.slice(80);
  // Closed after the headers timeout (not before), and long before the 8 s the slow clients would take.
  // Bounds: the timeout plus Node's check interval (a quarter of it) plus scheduling slack.
  for (const c of headers) {
    assert.ok(c.closedAfterMs >= 900, `closed early: ${c.closedAfterMs} ms`);
    assert.ok(c.closedAfterMs <= 3000, `closed late: ${c.closedAfterMs} ms`);
  }
  for (const c of bodies) {
    assert.ok(c.closedAfterMs >= 1900, `closed early: ${c.closedAfterMs} ms`);
    assert.ok(c.closedAfterMs <= 4000, `closed late: ${c.closedAfterMs} ms`);
  }
  for (const c of [...headers.slice(0, 40), ...bodies]) {
    const { status, body } = jsonOf(c);
    assertErrorShape('timeout', status, body, 'E_REQUEST_TIMEOUT', 408);
  }
  assert.equal((await call(url, 'GET', '/healthz')).status, 200, 'the gateway keeps serving');
});

test("every error, fastify's and Node's own included, is {code, message} JSON without the request", async (t) => {
  const { url, admin } = await startTestGateway(t);
  const appender = await createToken(url, admin, 'relay', ['appender']);
  const auth = { authorization: `Bearer ${appender}` };
  const req = async (
    what: string,
    route: string,
    init: RequestInit & { headers?: Record<string, string> },
    code: string,
    status: number,
  ) => {
    const r = await fetch(`${url}${route}`, { ...init, signal: AbortSignal.timeout(30_000) });
    const text = await r.text();
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/, what);
    assertErrorShape(what, r.status, JSON.parse(text), code, status);
  };
  await req('unknown route', `/v1/${MARKER}`, {}, 'E_ROUTE_NOT_FOUND', 404);
  await req(
    'long path parameter',
    `/v1/receipts/${MARKER}${'a'.repeat(200)}`,
    { headers: auth },
    'E_URI_TOO_LONG',
    414,
  );
  await req(
    'long URL',
    `/v1/receipts?source=${MARKER}${'a'.repeat(9000)}`,
    { headers: auth },
    'E_URI_TOO_LONG',
    414,
  );
  await req(
    'bad percent-encoding',
    `/v1/receipts/${MARKER}%E0%A4%A`,
    { headers: auth },
    'E_BAD_REQUEST',
    400,
  );
  const post = (body: string | Uint8Array, type: string, extra: Record<string, string> = {}) => ({
    method: 'POST',
    headers: { ...auth, 'content-type': type, ...extra },
    body,
  });
  await req(
    'bad JSON',
    '/v1/receipts',
    post(`{"receipt": ${MARKER}`, 'application/json'),
    'E_BAD_REQUEST',
    400,
  );
  await req(
    'invalid UTF-8 in JSON',
    '/v1/receipts',
    post(
      Buffer.concat([Buffer.from('{"receipt":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      'application/json',
    ),
    'E_BAD_REQUEST',
    400,
  );
  await req(
    'body too large',
    '/v1/receipts',
    post(JSON.stringify({ receipt: `${MARKER}${'x'.repeat(200_000)}` }), 'application/json'),
    'E_BODY_TOO_LARGE',
    413,
  );
  await req('text/plain', '/v1/receipts', post(`${MARKER}\n`, 'text/plain'), 'E_UNSUPPORTED_MEDIA_TYPE', 415);
  await req(
    'no type',
    '/v1/receipts',
    post(`${MARKER}\n`, 'application/octet-stream'),
    'E_UNSUPPORTED_MEDIA_TYPE',
    415,
  );
  await req(
    'markdown elsewhere',
    '/v1/receipts/batch',
    post(`${MARKER}\n`, 'text/markdown'),
    'E_UNSUPPORTED_MEDIA_TYPE',
    415,
  );
  await req(
    'latin-1 JSON',
    '/v1/receipts',
    post(JSON.stringify({ receipt: MARKER }), 'application/json; charset=iso-8859-1'),
    'E_UNSUPPORTED_MEDIA_TYPE',
    415,
  );
  await req(
    'compressed',
    '/v1/receipts',
    post(JSON.stringify({ receipt: MARKER }), 'application/json', { 'content-encoding': 'gzip' }),
    'E_UNSUPPORTED_MEDIA_TYPE',
    415,
  );
  // Node's own refusals, on raw sockets.
  const big = jsonOf(
    await raw(url, [
      {
        afterMs: 0,
        data: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${MARKER}${'a'.repeat(20_000)}\r\n\r\n`,
      },
    ]),
  );
  assertErrorShape('headers too large', big.status, big.body, 'E_HEADERS_TOO_LARGE', 431);
  const garbage = jsonOf(await raw(url, [{ afterMs: 0, data: `${MARKER} NOT HTTP\r\n\r\n` }]));
  assertErrorShape('not HTTP', garbage.status, garbage.body, 'E_BAD_REQUEST', 400);
  const badHeader = jsonOf(
    await raw(url, [
      { afterMs: 0, data: `GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: ${MARKER}\r\n\r\n` },
    ]),
  );
  assertErrorShape('bad header', badHeader.status, badHeader.body, 'E_BAD_REQUEST', 400);
  // The accepted types still work: a .mu file as text/markdown (charset utf-8 allowed), JSON.
  const key = await registerKey(url, appender);
  const mu = receipt([key]);
  const md = await call(url, 'POST', '/v1/receipts', {
    token: appender,
    raw: mu,
    contentType: 'text/markdown; charset=utf-8',
  });
  assert.equal(md.status, 201, md.text);
  const js = await call(url, 'POST', '/v1/receipts', { token: appender, body: { receipt: receipt([key]) } });
  assert.equal(js.status, 201, js.text);
});

test('JSON fields of the wrong type answer 400: no coercion; query strings still convert', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const auditor = await createToken(url, admin, 'aud', ['auditor']);
  const appender = await createToken(url, admin, 'relay', ['appender']);
  const cases: [string, string, unknown, string][] = [
    ['POST', '/v1/tokens', { name: 123, roles: ['auditor'] }, admin],
    ['POST', '/v1/tokens', { name: 'x', roles: 'auditor' }, admin],
    ['POST', '/v1/tokens', { name: true, roles: ['auditor'] }, admin],
    ['POST', `/v1/keys/${'a'.repeat(64)}/revoke`, { reason: 5 }, admin],
    ['POST', '/v1/receipts/batch', { receipts: 'x' }, appender],
    ['POST', '/v1/receipts', { receipt: 5 }, appender],
    ['POST', '/v1/keys', { publicKey: ['x'] }, appender],
    ['POST', '/v1/checkpoint/cosign', { note: 7 }, admin],
  ];
  for (const [method, route, body, token] of cases) {
    const r = await call(url, method, route, { token, body });
    assertErrorShape(`${route} ${JSON.stringify(body)}`, r.status, r.json, 'E_BAD_REQUEST', 400);
  }
  const tokens = (await call(url, 'GET', '/v1/tokens', { token: admin })).json.tokens;
  assert.equal(tokens.length, 3, 'nothing was created');
  const q = await call(url, 'GET', '/v1/receipts?source=a&limit=5', { token: auditor });
  assert.equal(q.status, 200, q.text);
  const bad = await call(url, 'GET', '/v1/receipts?source=a&limit=five', { token: auditor });
  assertErrorShape('limit=five', bad.status, bad.json, 'E_BAD_REQUEST', 400);
});

test('torgo append refuses a receipt file over the real size limit before sending it', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const token = await createToken(url, admin, 'relay', ['appender', 'auditor']);
  const key = await registerKey(url, token);
  const dir = await tempDir(t, 'torgo-cli-');
  const good = path.join(dir, 'good.mu');
  const huge = path.join(dir, 'huge.mu');
  await writeFile(good, receipt([key]));
  await writeFile(huge, 'x'.repeat(MAX_FILE_BYTES + 1));
  const as = ['--gateway', url, '--token', token];
  const one = await torgo('append', huge, ...as);
  assert.equal(one.code, 1, one.stderr);
  assert.match(one.stderr, /E_RECEIPT_TOO_LARGE/);
  assert.match(
    one.stderr,
    new RegExp(`${MAX_FILE_BYTES + 1} bytes; a receipt file is at most ${MAX_FILE_BYTES} bytes`),
  );
  // With a good file (and one that is not UTF-8, which a JSON batch cannot carry unchanged): the good
  // one is appended, the others reported in order, exit 1.
  const notUtf8 = path.join(dir, 'latin1.mu');
  await writeFile(notUtf8, Buffer.from([0x74, 0x69, 0x74, 0x6c, 0x65, 0xe9, 0x0a]));
  const both = await torgo('append', good, huge, notUtf8, '--json', ...as);
  assert.equal(both.code, 1);
  const lines = both.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines[0].status, 201);
  assert.equal(lines[1].error.code, 'E_RECEIPT_TOO_LARGE');
  assert.equal(lines[2].error.code, 'E_RECEIPT_ENCODING');
  // At the limit exactly it is sent (and refused by the gateway for what it is, not its size).
  await writeFile(huge, 'x'.repeat(MAX_FILE_BYTES));
  const atLimit = await torgo('append', huge, '--json', ...as);
  assert.equal(atLimit.code, 1);
  assert.notEqual(JSON.parse(atLimit.stdout).error.code, 'E_RECEIPT_TOO_LARGE');
  assert.notEqual(JSON.parse(atLimit.stdout).error.code, 'E_BODY_TOO_LARGE');
});
