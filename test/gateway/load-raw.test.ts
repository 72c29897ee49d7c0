/**
 * The HTTP suite's raw-socket client (bench/load.ts `loadRaw`) counts what the server acknowledged,
 * and nothing else: every body sent once on keep-alive connections, answers read whole however they
 * arrive in pieces, and any answer it cannot read (chunked) counted as a failure.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { loadRaw } from '../../bench/load.js';

test('loadRaw: each body sent once, keep-alive, every answer checked, chunked answers are failures', async (t) => {
  const seen: string[] = [];
  const sockets = new Set<unknown>();
  const server = http.createServer((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      seen.push(
        `${req.method} ${req.url} ${req.headers.authorization} ${req.headers['content-type']} ${body}`,
      );
      if (body === 'chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part');
        res.end('rest');
        return;
      }
      // A large answer arrives in several reads; 'big' answers 1 MB of 'x' then the id.
      const answer = JSON.stringify({ id: body, pad: body.startsWith('big') ? 'x'.repeat(1 << 20) : '' });
      res.writeHead(body.startsWith('bad') ? 409 : 201, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(answer),
      });
      res.end(answer);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const acknowledged = (status: number, text: string) =>
    status === 201 && typeof (JSON.parse(text) as { id?: unknown }).id === 'string' ? 1 : 0;
  const options = { url, token: 'tok', path: '/v1/receipts', type: 'text/markdown', acknowledged };

  const bodies = Array.from({ length: 40 }, (_, i) => Buffer.from(i % 10 === 0 ? `big-${i}` : `r-${i}`));
  const ok = await loadRaw({ ...options, bodies, connections: 4 });
  assert.equal(ok.acknowledged, 40);
  assert.equal(ok.failures, 0);
  assert.equal(ok.latencies.length, 40);
  assert.deepEqual(
    seen.toSorted(),
    bodies.map((b) => `POST /v1/receipts Bearer tok text/markdown ${b}`).toSorted(),
    'every body sent exactly once, with the token and type',
  );
  assert.equal(sockets.size, 4, 'one keep-alive connection per request in flight');

  const mixed = await loadRaw({
    ...options,
    bodies: [Buffer.from('a'), Buffer.from('bad-1')],
    connections: 1,
  });
  assert.equal(mixed.acknowledged, 1);
  assert.equal(mixed.failures, 1);
  assert.match(mixed.firstFailure ?? '', /^409 /);

  const chunked = await loadRaw({ ...options, bodies: [Buffer.from('chunked')], connections: 1 });
  assert.equal(chunked.acknowledged, 0);
  assert.equal(chunked.failures, 1);
  assert.match(chunked.firstFailure ?? '', /without Content-Length/);
});
