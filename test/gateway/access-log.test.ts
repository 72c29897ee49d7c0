/**
 * The access log (gateway/http/access-log.ts): one line per request, written when it is answered,
 * carrying the request id, method, URL, client address, status and time; refusals keep their own
 * `request refused` line; the bearer token is never in it.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../gateway/config.js';
import { buildApp } from '../../gateway/http/app.js';
import { GatewayService } from '../../gateway/service.js';
import { tempDir } from './helpers.js';

interface Line {
  readonly msg: string;
  readonly reqId?: string;
  readonly req?: { method: string; url: string; remoteAddress: string };
  readonly res?: { statusCode: number };
  readonly responseTime?: number;
  readonly code?: string;
}

test('access log: one line per request, with id, method, URL, client, status and time', async (t) => {
  const dataDir = await tempDir(t);
  const config = loadConfig({ env: {}, overrides: { dataDir, port: 0, host: '127.0.0.1' } });
  const service = await GatewayService.open(config);
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  const app = await buildApp(service, { logger: pino({ level: 'info' }, sink) });
  t.after(async () => {
    await app.close();
    await service.close();
  });

  const ok = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req-ok' } });
  assert.equal(ok.statusCode, 200);
  const refused = await app.inject({
    method: 'GET',
    url: '/v1/receipts?limit=1',
    headers: { 'x-request-id': 'req-refused', authorization: 'Bearer torgo_not-a-token' },
  });
  assert.equal(refused.statusCode, 401);

  const of = (id: string) => lines.filter((l) => l.reqId === id);
  assert.deepEqual(
    of('req-ok').map((l) => l.msg),
    ['request completed'],
    'no separate "incoming request" line',
  );
  const done = of('req-ok')[0]!;
  assert.equal(done.req?.method, 'GET');
  assert.equal(done.req?.url, '/healthz');
  assert.equal(typeof done.req?.remoteAddress, 'string');
  assert.equal(done.res?.statusCode, 200);
  assert.equal(typeof done.responseTime, 'number');

  assert.deepEqual(
    of('req-refused').map((l) => l.msg),
    ['request refused', 'request completed'],
  );
  assert.equal(of('req-refused')[0]!.code, 'E_UNAUTHENTICATED');
  assert.equal(of('req-refused')[1]!.res?.statusCode, 401);
  assert.ok(!JSON.stringify(lines).includes('not-a-token'), 'the token is never logged');
});
