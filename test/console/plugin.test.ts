/** gateway/http/console.ts: the built console at /console/, public, from memory, with a strict CSP. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import Fastify from 'fastify';
import { CONSOLE_CSP, CONSOLE_ROOT, consoleRoutes } from '../../gateway/http/console.js';

async function tempDir(t: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function appWith(root: string) {
  const app = Fastify();
  app.setErrorHandler((e: Error & { status?: number; code?: string }, _req, reply) =>
    reply.code(e.status ?? 500).send({ code: e.code, message: e.message }),
  );
  await app.register(consoleRoutes, { root });
  return app;
}

test('serves the built files with CSP, caching and ETags; nothing else', async (t) => {
  const root = await tempDir(t, 'torgo-console-');
  await mkdir(path.join(root, 'assets'));
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>c</title>');
  await writeFile(path.join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  await writeFile(path.join(root, '..', 'secret.txt'), 'outside');
  const app = await appWith(root);

  const redirect = await app.inject('/console');
  assert.equal(redirect.statusCode, 308);
  assert.equal(redirect.headers.location, '/console/');

  const index = await app.inject('/console/');
  assert.equal(index.statusCode, 200);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(index.headers['content-security-policy'], CONSOLE_CSP);
  assert.match(CONSOLE_CSP, /default-src 'none'; script-src 'self'; .*connect-src 'self'/);
  assert.equal(index.headers['cache-control'], 'no-cache');
  assert.equal(index.headers['x-content-type-options'], 'nosniff');
  assert.equal(index.body, '<!doctype html><title>c</title>');
  const again = await app.inject({
    url: '/console/',
    headers: { 'if-none-match': String(index.headers.etag) },
  });
  assert.equal(again.statusCode, 304);

  const js = await app.inject('/console/assets/index-abc.js');
  assert.equal(js.statusCode, 200);
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.match(String(js.headers['cache-control']), /immutable/);

  for (const url of [
    '/console/nope.js',
    '/console/../secret.txt',
    '/console/%2e%2e/secret.txt',
    '/console/assets/../../secret.txt',
  ]) {
    const r = await app.inject(url);
    assert.notEqual(r.statusCode, 200, url);
    assert.doesNotMatch(r.body, /outside/, url);
  }
  await app.close();
});

test('an unbuilt console answers 503 with what to run', async (t) => {
  const app = await appWith(path.join(await tempDir(t, 'torgo-console-'), 'missing'));
  const r = await app.inject('/console/');
  assert.equal(r.statusCode, 503);
  assert.match(r.body, /npm run build:console/);
  await app.close();
});

test('the default root is where the build puts the console', () => {
  assert.match(CONSOLE_ROOT.split(path.sep).join('/'), /\/dist\/web\/console\/$/);
});
