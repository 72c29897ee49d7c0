/** Every endpoint of API v1 and its error paths, against a real gateway on a random 127.0.0.1 port. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatePrivateKey, publicKeyToPem } from '../../core/index.js';
import { call, createToken, idOf, receipt, service, startTestGateway } from './helpers.js';

test('POST /v1/receipts: 201 after commit, 200 with the same body on repeat (text/markdown and JSON)', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const s = await service(url, admin);
  const mu = receipt([s.key]);
  const first = await call(url, 'POST', '/v1/receipts', { token: s.token, raw: mu });
  assert.equal(first.status, 201, first.text);
  assert.deepEqual(Object.keys(first.json).sort(), ['block', 'committedAt', 'hash', 'id', 'txId']);
  assert.equal(first.json.id, idOf(mu));
  assert.match(first.json.hash, /^sha256:[0-9a-f]{64}$/);
  assert.equal(first.headers.get('location'), `/v1/receipts/${idOf(mu)}`);
  const again = await call(url, 'POST', '/v1/receipts', { token: s.token, body: { receipt: mu } });
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, first.json);
  const viaMarkdownAgain = await call(url, 'POST', '/v1/receipts', { token: s.token, raw: mu });
  assert.equal(viaMarkdownAgain.status, 200);
  assert.deepEqual(viaMarkdownAgain.json, first.json);
});

test('parse once per append: the embedded contract takes the parse the gateway handed over', async (t) => {
  const { gw, url, admin } = await startTestGateway(t);
  const handOff = gw.service.receiptHandOff;
  assert.ok(handOff, 'an embedded gateway hands its parses to the contract it runs');
  const s = await service(url, admin);
  const before = handOff.taken;
  const res = await call(url, 'POST', '/v1/receipts', { token: s.token, raw: receipt([s.key]) });
  assert.equal(res.status, 201, res.text);
  assert.equal(handOff.taken, before + 1, 'the contract took the handed-over parse');
  assert.equal(handOff.size, 0, 'nothing left behind');
});

test('POST /v1/receipts: conflicts, bad receipts and bad requests each get a stable code', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const s = await service(url, admin);
  const mu = receipt([s.key], { intent: 'The original text.' });
  assert.equal((await call(url, 'POST', '/v1/receipts', { token: s.token, raw: mu })).status, 201);

  const expect = async (body: Parameters<typeof call>[3], status: number, code: string, stage?: string) => {
    const r = await call(url, 'POST', '/v1/receipts', { token: s.token, ...body });
    assert.equal(r.status, status, `${code}: ${r.text}`);
    assert.equal(r.json?.code, code, r.text);
    assert.equal(typeof r.json.message, 'string');
    if (stage) assert.equal(r.json.details?.stage, stage, r.text);
    return r;
  };
  // Same id, other bytes.
  await expect(
    { raw: receipt([s.key], { id: idOf(mu), intent: 'Other text.' }) },
    409,
    'E_RECEIPT_CONFLICT',
    'endorse',
  );
  // Receipt problems found by the gateway's pre-verification (the ledger never sees them).
  await expect({ raw: receipt([]) }, 422, 'E_SIGNATURE_MISSING', 'verify');
  await expect({ raw: receipt([generatePrivateKey()]) }, 422, 'E_KEY_UNKNOWN', 'verify');
  await expect(
    { raw: mu.replace('.txet lanigiro ehT', '.txet lanigiro ehX') },
    422,
    'E_SIGNATURE_INVALID',
    'verify',
  );
  await expect({ raw: mu.replaceAll('\n', '\r\n') }, 422, 'E_RECEIPT_NOT_CANONICAL', 'verify');
  await expect(
    { raw: Uint8Array.from([0x2d, 0x2d, 0x2d, 0x0a, 0xff, 0xfe, 0x0a]) },
    422,
    'E_RECEIPT_ENCODING',
    'verify',
  );
  await expect({ raw: 'hello\n' }, 422, 'E_RECEIPT_SYNTAX', 'verify');
  await expect({ body: { receipt: '---\n\ud800\n' } }, 422, 'E_RECEIPT_ENCODING', 'verify');
  // The HTTP request itself.
  await expect({ raw: '' }, 400, 'E_BAD_REQUEST');
  await expect({ raw: '{"receipt": 1', contentType: 'application/json' }, 400, 'E_BAD_REQUEST');
  await expect({ body: { receipt: { text: mu } } }, 400, 'E_BAD_REQUEST');
  await expect({ body: { mu } }, 400, 'E_BAD_REQUEST');
  await expect({ body: { receipt: mu, extra: true } }, 400, 'E_BAD_REQUEST');
  await expect(
    { raw: mu, contentType: 'application/x-www-form-urlencoded' },
    415,
    'E_UNSUPPORTED_MEDIA_TYPE',
  );
  await expect({ raw: 'x'.repeat(200 * 1024) }, 413, 'E_BODY_TOO_LARGE');
});

test('a revoked key: its receipts are refused by the contract, earlier ones are flagged', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const s = await service(url, admin);
  const before = receipt([s.key]);
  assert.equal((await call(url, 'POST', '/v1/receipts', { token: s.token, raw: before })).status, 201);
  const revoke = await call(url, 'POST', `/v1/keys/${s.key.keyId}/revoke`, {
    token: s.token,
    body: { reason: 'device lost' },
  });
  assert.equal(revoke.status, 200, revoke.text);
  assert.equal(revoke.json.key.status, 'revoked');
  const after = await call(url, 'POST', '/v1/receipts', { token: s.token, raw: receipt([s.key]) });
  assert.equal(after.status, 422);
  assert.equal(after.json.code, 'E_KEY_REVOKED');
  assert.equal(after.json.details.stage, 'endorse');
  assert.equal(after.json.details.contractCode, 'KEY_REVOKED');
  const got = await call(url, 'GET', `/v1/receipts/${idOf(before)}`, { token: s.token });
  assert.equal(got.json.revokedSigners[0].keyId, s.key.keyId);
  assert.equal(got.json.revokedSigners[0].reason, 'device lost');
  const twice = await call(url, 'POST', `/v1/keys/${s.key.keyId}/revoke`, {
    token: s.token,
    body: { reason: 'again' },
  });
  assert.equal(twice.json.code, 'E_KEY_REVOKED');
});

test('POST /v1/receipts/batch: per-item results; valid items are appended whatever their neighbours', async (t) => {
  const { url, admin } = await startTestGateway(t, { 'limits.batchItems': 10 });
  const s = await service(url, admin);
  const existing = receipt([s.key]);
  await call(url, 'POST', '/v1/receipts', { token: s.token, raw: existing });
  const good = [receipt([s.key]), receipt([s.key]), receipt([s.key])];
  const items = [
    good[0]!,
    receipt([]), // unsigned
    existing, // identical repeat
    good[1]!,
    receipt([s.key], { id: idOf(existing), intent: 'Conflicting text.' }), // conflict (found by the contract)
    good[1]!, // the same receipt twice in one batch
    good[2]!,
  ];
  const r = await call(url, 'POST', '/v1/receipts/batch', { token: s.token, body: { receipts: items } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(
    r.json.results.map((i: { status: number }) => i.status),
    [201, 422, 200, 201, 409, 200, 201],
  );
  assert.equal(r.json.results[1].error.code, 'E_SIGNATURE_MISSING');
  assert.equal(r.json.results[4].error.code, 'E_RECEIPT_CONFLICT');
  assert.deepEqual([r.json.appended, r.json.existing, r.json.failed], [3, 2, 2]);
  for (const mu of good) {
    assert.equal((await call(url, 'GET', `/v1/receipts/${idOf(mu)}`, { token: s.token })).status, 200);
  }
  const tooMany = await call(url, 'POST', '/v1/receipts/batch', {
    token: s.token,
    body: { receipts: Array.from({ length: 11 }, () => good[0]) },
  });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.json.code, 'E_BAD_REQUEST');
  const empty = await call(url, 'POST', '/v1/receipts/batch', { token: s.token, body: { receipts: [] } });
  assert.equal(empty.status, 400);
});

test('GET /v1/receipts/{id}: JSON with block, the .mu file on Accept: text/markdown, 404, 400', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const s = await service(url, admin);
  const mu = receipt([s.key]);
  const ack = (await call(url, 'POST', '/v1/receipts', { token: s.token, raw: mu })).json;
  const got = await call(url, 'GET', `/v1/receipts/${ack.id}`, { token: s.token });
  assert.equal(got.status, 200);
  assert.equal(got.json.mu, mu);
  assert.equal(got.json.block, ack.block);
  assert.equal(got.json.hash, ack.hash);
  assert.equal(got.json.txId, ack.txId);
  assert.equal(got.json.source, 'icu-relay-3');
  assert.equal(got.json.submitter.mspId, 'TorgoMSP');
  assert.deepEqual(got.json.signerKeyIds, [s.key.keyId]);
  const file = await call(url, 'GET', `/v1/receipts/${ack.id}`, { token: s.token, accept: 'text/markdown' });
  assert.equal(file.text, mu);
  assert.match(file.headers.get('content-type') ?? '', /^text\/markdown/);
  const missing = await call(url, 'GET', '/v1/receipts/01ARZ3NDEKTSV4RRFFQ69G5FAV', { token: s.token });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.code, 'E_NOT_FOUND');
  const bad = await call(url, 'GET', '/v1/receipts/not-an-id!', { token: s.token });
  assert.equal(bad.status, 400);
});

test('GET /v1/receipts: filters, order, stable cursors, CSV', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const s = await service(url, admin);
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const mu = receipt([s.key], {
      source: 'hub-a',
      operation: i % 2 === 0 ? 'op.even' : 'op.odd',
      subject: `subj-${i % 3}`,
    });
    ids.push(idOf(mu));
    assert.equal((await call(url, 'POST', '/v1/receipts', { token: s.token, raw: mu })).status, 201);
  }
  await call(url, 'POST', '/v1/receipts', { token: s.token, raw: receipt([s.key], { source: 'hub-b' }) });

  // Pages of 3, oldest first, following cursors.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `/v1/receipts?source=hub-a&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await call(url, 'GET', q, { token: s.token });
    assert.equal(page.status, 200, page.text);
    assert.ok(page.json.receipts.length <= 3);
    seen.push(...page.json.receipts.map((r: { id: string }) => r.id));
    cursor = page.json.nextCursor;
  } while (cursor);
  assert.deepEqual(seen, ids);

  const desc = await call(url, 'GET', '/v1/receipts?source=hub-a&order=desc&limit=100', { token: s.token });
  assert.deepEqual(
    desc.json.receipts.map((r: { id: string }) => r.id),
    [...ids].reverse(),
  );
  // Secondary filters: the gateway filters one index by the others, the cursor stays exact.
  const both: string[] = [];
  cursor = null;
  do {
    const q: string = `/v1/receipts?source=hub-a&operation=op.even&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await call(url, 'GET', q, { token: s.token });
    both.push(...page.json.receipts.map((r: { id: string }) => r.id));
    cursor = page.json.nextCursor;
  } while (cursor);
  assert.deepEqual(
    both,
    ids.filter((_, i) => i % 2 === 0),
  );
  const bySubject = await call(url, 'GET', '/v1/receipts?subject=subj-1', { token: s.token });
  assert.deepEqual(
    bySubject.json.receipts.map((r: { id: string }) => r.id),
    ids.filter((_, i) => i % 3 === 1),
  );
  // Time window: nothing committed before 2000, everything before 9999.
  const none = await call(url, 'GET', '/v1/receipts?source=hub-a&to=2000-01-01T00:00:00Z', {
    token: s.token,
  });
  assert.deepEqual(none.json, { receipts: [], nextCursor: null });
  const all = await call(
    url,
    'GET',
    '/v1/receipts?source=hub-a&from=2000-01-01T00:00:00Z&to=9999-01-01T00:00:00Z&limit=100',
    { token: s.token },
  );
  assert.equal(all.json.receipts.length, 7);

  // A cursor is bound to its query.
  const first = await call(url, 'GET', '/v1/receipts?source=hub-a&limit=2', { token: s.token });
  const other = await call(url, 'GET', `/v1/receipts?source=hub-b&cursor=${first.json.nextCursor}`, {
    token: s.token,
  });
  assert.equal(other.status, 400);
  assert.equal(other.json.code, 'E_CURSOR_INVALID');
  assert.equal(
    (await call(url, 'GET', '/v1/receipts?source=hub-a&cursor=garbage', { token: s.token })).json.code,
    'E_CURSOR_INVALID',
  );
  // Bad queries.
  for (const q of [
    '',
    '?order=sideways&source=a',
    '?source=hub-a&limit=0',
    '?source=hub-a&limit=101',
    '?source=a&from=yesterday',
    '?source=a&bogus=1',
  ]) {
    const r = await call(url, 'GET', `/v1/receipts${q}`, { token: s.token });
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.equal(r.json.code, 'E_BAD_REQUEST');
  }

  const csv = await call(url, 'GET', '/v1/receipts?source=hub-a', { token: s.token, accept: 'text/csv' });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
  const lines = csv.text.trimEnd().split('\r\n');
  assert.equal(
    lines[0],
    'id,committedAt,occurredAt,source,operation,subject,hash,signerKeyIds,submitterMspId,submitterId,txId,revokedSigners',
  );
  assert.deepEqual(
    lines.slice(1).map((l) => l.split(',')[0]),
    ids,
  );
  const csvLimited = await call(url, 'GET', '/v1/receipts?source=hub-a&limit=2', {
    token: s.token,
    accept: 'text/csv',
  });
  assert.equal(csvLimited.text.trimEnd().split('\r\n').length, 3);
});

test('keys: register, read, history, rotate, revoke, and their errors', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const token = await createToken(url, admin, 'relay', ['appender']);
  const key = generatePrivateKey();
  const reg = await call(url, 'POST', '/v1/keys', {
    token,
    body: { publicKey: publicKeyToPem(key), label: 'relay 3' },
  });
  assert.equal(reg.status, 201, reg.text);
  assert.equal(reg.json.key.keyId, key.keyId);
  assert.equal(reg.json.key.status, 'active');
  assert.equal(reg.json.key.label, 'relay 3');
  assert.equal(typeof reg.json.block, 'number');
  const dup = await call(url, 'POST', '/v1/keys', { token, body: { publicKey: publicKeyToPem(key) } });
  assert.equal(dup.status, 409);
  assert.equal(dup.json.code, 'E_KEY_EXISTS');
  const junk = await call(url, 'POST', '/v1/keys', { token, body: { publicKey: 'not a key' } });
  assert.equal(junk.status, 422);
  assert.equal(junk.json.code, 'E_KEY_INVALID');
  const got = await call(url, 'GET', `/v1/keys/${key.keyId}`, { token });
  assert.equal(got.json.publicKey, publicKeyToPem(key));
  const successor = generatePrivateKey();
  const rot = await call(url, 'POST', `/v1/keys/${key.keyId}/rotate`, {
    token,
    body: { publicKey: publicKeyToPem(successor) },
  });
  assert.equal(rot.status, 200, rot.text);
  assert.equal(rot.json.retired.status, 'retired');
  assert.equal(rot.json.registered.keyId, successor.keyId);
  const retiredSigns = await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) });
  assert.equal(retiredSigns.json.code, 'E_KEY_NOT_ACTIVE');
  const rev = await call(url, 'POST', `/v1/keys/${successor.keyId}/revoke`, {
    token,
    body: { reason: 'rotated out' },
  });
  assert.equal(rev.status, 200);
  const hist = await call(url, 'GET', `/v1/keys/${key.keyId}/history`, { token });
  assert.equal(hist.status, 200);
  assert.deepEqual(hist.json.history.map((h: { value: { status: string } }) => h.value.status).sort(), [
    'active',
    'retired',
  ]);
  const unknown = '0'.repeat(64);
  assert.equal((await call(url, 'GET', `/v1/keys/${unknown}`, { token })).status, 404);
  assert.equal((await call(url, 'GET', `/v1/keys/${unknown}/history`, { token })).status, 404);
  assert.equal(
    (await call(url, 'POST', `/v1/keys/${unknown}/revoke`, { token, body: { reason: 'x' } })).status,
    404,
  );
  assert.equal((await call(url, 'GET', '/v1/keys/XYZ', { token })).status, 400);
  assert.equal((await call(url, 'POST', `/v1/keys/${key.keyId}/revoke`, { token, body: {} })).status, 400);
});

test('tokens, /v1/me, health, readiness, metrics, OpenAPI, unknown routes', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const created = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'auditor-1', roles: ['auditor'] },
  });
  assert.equal(created.status, 201);
  assert.match(created.json.token, /^torgo_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(created.json.info.roles, ['auditor']);
  const me = await call(url, 'GET', '/v1/me', { token: created.json.token });
  assert.deepEqual(me.json, {
    tokenId: created.json.info.id,
    name: 'auditor-1',
    roles: ['auditor'],
    identity: 'auditor-1',
    mspId: 'TorgoMSP',
  });
  const list = await call(url, 'GET', '/v1/tokens', { token: admin });
  assert.deepEqual(
    list.json.tokens.map((x: { name: string }) => x.name),
    ['admin', 'auditor-1'],
  );
  assert.ok(!list.text.includes('sha256:'), 'token hashes never leave');
  // Same name again: a second identity, not a shared one.
  const again = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'auditor-1', roles: ['auditor'] },
  });
  assert.equal(again.json.info.identity, 'auditor-1-2');
  // A bound identity gets no second token (rotation only: test/gateway/tokens.test.ts).
  const reuse = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'auditor-1b', identity: 'auditor-1' },
  });
  assert.equal(reuse.status, 403, reuse.text);
  assert.equal(reuse.json.code, 'E_IDENTITY_BOUND');
  const mismatch = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'x', identity: 'auditor-1', roles: ['admin'] },
  });
  assert.equal(mismatch.json.code, 'E_BAD_REQUEST');
  const noIdentity = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'x', identity: 'nobody' },
  });
  assert.equal(noIdentity.json.code, 'E_IDENTITY_UNKNOWN');
  for (const body of [
    { name: 'x' },
    { name: 'x', roles: ['root'] },
    { name: 'bad name!', roles: ['auditor'] },
  ]) {
    const r = await call(url, 'POST', '/v1/tokens', { token: admin, body });
    assert.equal(r.status, 400, JSON.stringify(body));
  }
  const revoked = await call(url, 'POST', `/v1/tokens/${created.json.info.id}/revoke`, { token: admin });
  assert.equal(revoked.status, 200);
  assert.ok(revoked.json.revokedAt);
  assert.equal((await call(url, 'GET', '/v1/me', { token: created.json.token })).status, 401);
  assert.equal(
    (await call(url, 'POST', '/v1/tokens/0123456789abcdef/revoke', { token: admin })).json.code,
    'E_TOKEN_UNKNOWN',
  );

  assert.deepEqual((await call(url, 'GET', '/healthz')).json, { status: 'ok' });
  const ready = await call(url, 'GET', '/readyz');
  assert.equal(ready.json.status, 'ready');
  assert.equal(ready.json.ledger, 'embedded');
  const metrics = await call(url, 'GET', '/metrics');
  for (const name of [
    'torgo_http_requests_total',
    'torgo_append_duration_seconds',
    'torgo_receipts_appended_total',
    'torgo_verification_failures_total',
    'torgo_append_queue_depth',
    'torgo_ledger_block_height',
  ]) {
    assert.ok(metrics.text.includes(`# TYPE ${name}`), name);
  }
  const api = await call(url, 'GET', '/openapi.json');
  assert.equal(api.json.openapi, '3.1.0');
  for (const p of [
    '/v1/receipts',
    '/v1/receipts/batch',
    '/v1/receipts/{id}',
    '/v1/keys',
    '/v1/keys/{keyId}',
    '/v1/keys/{keyId}/history',
    '/v1/keys/{keyId}/revoke',
    '/healthz',
    '/readyz',
    '/metrics',
  ]) {
    assert.ok(api.json.paths[p], p);
  }
  assert.ok(api.json.paths['/v1/receipts'].post.requestBody.content['text/markdown']);
  for (const p of ['/v1/tokens/{id}/rotate', '/v1/me/rotate', '/v1/audit/tokens'])
    assert.ok(api.json.paths[p], p);
  assert.ok(api.json.components.schemas.AuditEvent);
  assert.ok(api.json.components.schemas.Error);
  assert.ok(!api.text.includes('"$ref":"Error"'), 'refs point into components');
  const nowhere = await call(url, 'GET', '/v2/nothing');
  assert.equal(nowhere.status, 404);
  assert.equal(nowhere.json.code, 'E_ROUTE_NOT_FOUND');
  const rid = await fetch(`${url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
  assert.equal(rid.headers.get('x-request-id'), 'abc-123');
});

test('the bootstrap admin token exists once: a restart on the same data prints none', async (t) => {
  const first = await startTestGateway(t);
  assert.match(first.admin, /^torgo_/);
  await first.gw.close();
  const second = await startTestGateway(t, {}, first.dir);
  assert.equal(second.admin, '');
  assert.equal((await call(second.url, 'GET', '/v1/tokens', { token: first.admin })).status, 200);
});
