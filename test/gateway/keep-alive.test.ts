/**
 * The race behind the soak's ECONNRESET, reproduced: a server that closes an idle keep-alive
 * connection while the client is busy (its event loop stalled, as on a loaded machine) has the
 * client's next request sent on a connection that is already closed, and the request fails with a
 * reset although the server never saw it. The gateway keeps idle connections for 72 s by default
 * (longer than clients and proxies keep theirs) and says so in `Keep-Alive`; the bench client sends
 * a request that met a closed reused connection once more on a new one, and nothing else.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { test } from 'node:test';
import { request, startServe } from '../../bench/http.js';
import { startTestGateway, tempDir } from './helpers.js';

/** Blocks this process's event loop (a stalled client) for `ms`. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer, no socket event runs
  }
}

/** GET `route` on `agent`: the status, or the error's code, and whether the connection was reused. */
function get(agent: http.Agent, url: string): Promise<{ outcome: string; reused: boolean }> {
  return new Promise((resolve) => {
    const req = http.get(new URL('/healthz', url), { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ outcome: String(res.statusCode), reused: req.reusedSocket }));
    });
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ outcome: e.code ?? e.message, reused: req.reusedSocket }),
    );
  });
}

test('an idle keep-alive connection is kept 72 s by default, and the server says so', async (t) => {
  const { url } = await startTestGateway(t);
  const res = await fetch(`${url}/healthz`);
  await res.text();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('keep-alive'), 'timeout=72');
});

test('a server closing an idle connection while the client stalls resets the next request; the bench client resends it once on a new connection', async (t) => {
  const dir = await tempDir(t, 'torgo-keep-alive-');
  // 2 s: Node's client keeps a connection whose server announces `timeout=2` (under 2 s it does not).
  const serve = await startServe(dir, [], { env: { TORGO_KEEP_ALIVE_TIMEOUT_MS: '2000' } });
  const exited = once(serve.child, 'exit');
  t.after(async () => {
    if (serve.child.exitCode === null) serve.child.kill('SIGTERM');
    await exited;
  });

  // The race, deterministically: the server closes the idle connection (2 s, plus Node's 1 s of
  // grace) while this process is stalled, so the closing is not seen before the next request goes.
  const plain = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => plain.destroy());
  assert.deepEqual(await get(plain, serve.url), { outcome: '200', reused: false });
  stall(4000);
  assert.deepEqual(await get(plain, serve.url), { outcome: 'ECONNRESET', reused: true });

  // The bench client (bench/http.ts): the same stall, the request answered.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  assert.equal((await request(agent, serve.url, 'GET', '/healthz', '')).status, 200);
  stall(4000);
  assert.equal((await request(agent, serve.url, 'GET', '/healthz', '')).status, 200);

  // A failure on a new connection is not resent: the server is gone.
  serve.child.kill('SIGTERM');
  await exited;
  await assert.rejects(request(new http.Agent(), serve.url, 'GET', '/healthz', ''), { code: 'ECONNREFUSED' });
});
