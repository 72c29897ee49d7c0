/** The online CLI commands against a real gateway: token, key, append, get, query. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { torgo } from '../cli/run.js';
import { idOf, receipt, startTestGateway, tempDir } from './helpers.js';
import { privateKeyFromPem } from '../../core/index.js';
import { readFile } from 'node:fs/promises';

test('torgo token, key, append, get, query against a running gateway', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const dir = await tempDir(t, 'torgo-cli-');
  const as = (token: string) => ['--gateway', url, '--token', token];

  const created = await torgo(
    'token',
    'create',
    '--name',
    'relay',
    '--role',
    'appender,auditor',
    ...as(admin),
  );
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^torgo_/);
  const list = await torgo('token', 'list', ...as(admin));
  assert.match(list.stdout, /relay\s+appender,auditor/);
  const listJson = JSON.parse((await torgo('token', 'list', '--json', ...as(admin))).stdout);
  assert.equal(listJson.tokens.length, 2);

  assert.equal((await torgo('key', 'generate', '--name', 'relay', '--out', dir)).code, 0);
  const reg = await torgo(
    'key',
    'register',
    path.join(dir, 'relay.pub.pem'),
    '--label',
    'relay 3',
    ...as(token),
  );
  assert.equal(reg.code, 0, reg.stderr);
  const key = privateKeyFromPem(await readFile(path.join(dir, 'relay.key.pem'), 'utf8'));
  assert.match(reg.stdout, new RegExp(`registered ${key.keyId}`));

  const files: string[] = [];
  for (let i = 0; i < 3; i++) {
    const f = path.join(dir, `r${i}.mu`);
    await writeFile(f, receipt([key], { source: 'cli-relay' }));
    files.push(f);
  }
  const one = await torgo('append', files[0]!, ...as(token));
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /appended: /);
  const many = await torgo('append', ...files, '--json', ...as(token));
  assert.equal(many.code, 0, many.stderr);
  const statuses = many.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).status);
  assert.deepEqual(statuses, [200, 201, 201]);

  const bad = path.join(dir, 'bad.mu');
  await writeFile(bad, receipt([]));
  const failed = await torgo('append', bad, ...as(token));
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /E_SIGNATURE_MISSING/);

  const id = idOf(await readFile(files[1]!, 'utf8'));
  const shown = await torgo('get', id, ...as(token));
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /source\s+cli-relay/);
  const mu = await torgo('get', id, '--mu', ...as(token));
  assert.equal(mu.stdout, await readFile(files[1]!, 'utf8'));
  const missing = await torgo('get', '01ARZ3NDEKTSV4RRFFQ69G5FAV', ...as(token));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /E_NOT_FOUND/);

  const q = await torgo('query', '--source', 'cli-relay', ...as(token));
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout.trim().split('\n').length, 4, q.stdout);
  const paged = await torgo(
    'query',
    '--source',
    'cli-relay',
    '--limit',
    '1',
    '--all',
    '--json',
    ...as(token),
  );
  assert.equal(paged.stdout.trim().split('\n').length, 3);
  const csv = await torgo('query', '--source', 'cli-relay', '--csv', ...as(token));
  assert.equal(csv.stdout.trim().split('\r\n').length, 4);
  assert.equal((await torgo('query', ...as(token))).code, 2);

  const hist = await torgo('key', 'history', key.keyId, ...as(token));
  assert.match(hist.stdout, /active/);
  const revoked = await torgo('key', 'revoke', key.keyId, '--reason', 'test over', ...as(token));
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match((await torgo('key', 'show', key.keyId, ...as(token))).stdout, /status\s+revoked/);

  const id2 = listJson.tokens.find((x: { name: string }) => x.name === 'relay').id;
  assert.equal((await torgo('token', 'revoke', id2, ...as(admin))).code, 0);
  const refused = await torgo('get', id, ...as(token));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /E_UNAUTHENTICATED/);
});

test('torgo online commands: no token, unreachable gateway, bad URL', async () => {
  const noToken = await torgo('get', '01ARZ3NDEKTSV4RRFFQ69G5FAV', '--gateway', 'http://127.0.0.1:9');
  // No --token and possibly no TORGO_TOKEN in the environment: either way exit 2 (usage or unreachable).
  assert.equal(noToken.code, 2);
  const down = await torgo(
    'get',
    '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    '--gateway',
    'http://127.0.0.1:9',
    '--token',
    'x',
  );
  assert.equal(down.code, 2);
  assert.match(down.stderr, /E_GATEWAY_UNREACHABLE/);
  const badUrl = await torgo('get', 'x', '--gateway', 'ftp://nowhere', '--token', 'x');
  assert.equal(badUrl.code, 2);
});
