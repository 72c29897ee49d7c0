/**
 * Tokens cannot borrow identities: one token chain per identity, rotation as the only way to a new
 * token for a bound identity, no admin-minted log-operator token, and the token audit log
 * (hash-chained, fsync'd before the answer, queryable by auditors).
 */
import '../engine/quiet-logs.js';
import assert from 'node:assert/strict';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { AUDIT_GENESIS, type AuditEvent, verifyAuditChain } from '../../gateway/auth/audit.js';
import { loadConfig } from '../../gateway/config.js';
import { startGateway } from '../../gateway/server.js';
import { torgo } from '../cli/run.js';
import { call, createToken, receipt, registerKey, startTestGateway, tempDir } from './helpers.js';

async function auditEvents(dir: string): Promise<AuditEvent[]> {
  const text = await readFile(path.join(dir, 'gateway', 'audit.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

async function tokenId(url: string, token: string): Promise<string> {
  return (await call(url, 'GET', '/v1/me', { token })).json.tokenId as string;
}

test('the impersonation attempts of issue 12 are refused with 403 and a code, and audited', async (t) => {
  const dir = await tempDir(t);
  const operatorFile = path.join(await tempDir(t), 'op.token');
  const { url, admin } = await startTestGateway(t, {}, dir, { logOperatorTokenFile: operatorFile });
  const svc = await createToken(url, admin, 'svc-a', ['appender']);
  const key = await registerKey(url, svc);
  const me = (await call(url, 'GET', '/v1/me', { token: svc })).json;
  assert.equal(me.identity, 'svc-a');

  // A second token for svc-a's identity: refused, only rotation can.
  const borrow = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'x', identity: 'svc-a' },
  });
  assert.equal(borrow.status, 403, borrow.text);
  assert.equal(borrow.json.code, 'E_IDENTITY_BOUND');
  assert.equal(borrow.json.details.tokenId, me.tokenId);
  // The log operator's identity: never through the API.
  const op = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'op', identity: 'log-operator' },
  });
  assert.equal(op.status, 403, op.text);
  assert.equal(op.json.code, 'E_IDENTITY_RESERVED');
  // A new identity with the log-operator role: not a role an admin may grant.
  for (const roles of [['log-operator'], ['auditor', 'log-operator']]) {
    const r = await call(url, 'POST', '/v1/tokens', { token: admin, body: { name: 'op2', roles } });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'E_ROLE_NOT_GRANTABLE');
  }
  // Rotating the log operator's token is the operator's procedure too.
  const opToken = (await readFile(operatorFile, 'utf8')).trim();
  const rotateOp = await call(url, 'POST', `/v1/tokens/${await tokenId(url, opToken)}/rotate`, {
    token: admin,
  });
  assert.equal(rotateOp.status, 403, rotateOp.text);
  assert.equal(rotateOp.json.code, 'E_IDENTITY_RESERVED');
  assert.equal((await call(url, 'GET', '/v1/me', { token: opToken })).status, 200, 'still live');

  // Nothing was created: svc-a still has exactly one token, and the admin still cannot append.
  const tokens = (await call(url, 'GET', '/v1/tokens', { token: admin })).json.tokens as {
    identity: string;
  }[];
  assert.equal(tokens.filter((x) => x.identity === 'svc-a').length, 1);
  assert.equal(tokens.filter((x) => x.identity === 'log-operator').length, 1);
  assert.equal(tokens.length, 3);
  const append = await call(url, 'POST', '/v1/receipts', { token: admin, raw: receipt([key]) });
  assert.equal(append.status, 403);

  // Each refusal is on the audit log, naming the admin and what it asked.
  const refused = (await auditEvents(dir)).filter((e) => e.event === 'token.refused');
  assert.deepEqual(
    refused.map((e) => e.refused?.code),
    [
      'E_IDENTITY_BOUND',
      'E_IDENTITY_RESERVED',
      'E_ROLE_NOT_GRANTABLE',
      'E_ROLE_NOT_GRANTABLE',
      'E_IDENTITY_RESERVED',
    ],
  );
  const adminId = await tokenId(url, admin);
  for (const e of refused) assert.deepEqual(e.actor, { kind: 'token', tokenId: adminId, identity: 'admin' });
  assert.equal(refused[0]!.refused!.request['identity'], 'svc-a');
});

test('rotation: a new token for the same identity, the old one revoked at once, recorded', async (t) => {
  const { url, admin, dir } = await startTestGateway(t);
  const svc = await createToken(url, admin, 'svc-a', ['appender', 'auditor']);
  const key = await registerKey(url, svc);
  const oldId = await tokenId(url, svc);

  const rotated = await call(url, 'POST', `/v1/tokens/${oldId}/rotate`, { token: admin });
  assert.equal(rotated.status, 201, rotated.text);
  assert.equal(rotated.json.info.identity, 'svc-a');
  assert.equal(rotated.json.info.rotatedFrom, oldId);
  assert.deepEqual(rotated.json.info.roles, ['appender', 'auditor']);
  const fresh = rotated.json.token as string;
  assert.equal((await call(url, 'GET', '/v1/me', { token: svc })).status, 401, 'old token revoked');
  // Same identity: the key registered with the old token is still the new token's to use.
  const ok = await call(url, 'POST', '/v1/receipts', { token: fresh, raw: receipt([key]) });
  assert.equal(ok.status, 201, ok.text);
  // Only the latest token of an identity can be rotated.
  const again = await call(url, 'POST', `/v1/tokens/${oldId}/rotate`, { token: admin });
  assert.equal(again.status, 409);
  assert.equal(again.json.code, 'E_TOKEN_SUPERSEDED');
  assert.equal(again.json.details.latest, rotated.json.info.id);
  const unknown = await call(url, 'POST', '/v1/tokens/0123456789abcdef/rotate', { token: admin });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.code, 'E_TOKEN_UNKNOWN');
  // A non-admin cannot rotate someone else's token.
  const byAppender = await call(url, 'POST', `/v1/tokens/${await tokenId(url, admin)}/rotate`, {
    token: fresh,
  });
  assert.equal(byAppender.status, 403);
  assert.equal(byAppender.json.code, 'E_FORBIDDEN');

  // Self-rotation: any token may replace itself.
  const self = await call(url, 'POST', '/v1/me/rotate', { token: fresh });
  assert.equal(self.status, 201, self.text);
  assert.equal(self.json.info.identity, 'svc-a');
  assert.equal((await call(url, 'GET', '/v1/me', { token: fresh })).status, 401);
  assert.equal((await call(url, 'GET', '/v1/me', { token: self.json.token })).json.identity, 'svc-a');

  // A revoked identity comes back only by rotation of its latest token (recorded), not a new binding.
  const latestId = self.json.info.id as string;
  const revoked = await call(url, 'POST', `/v1/tokens/${latestId}/revoke`, { token: admin });
  assert.equal(revoked.status, 200);
  const rebind = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'svc-a', identity: 'svc-a' },
  });
  assert.equal(rebind.status, 403);
  assert.equal(rebind.json.code, 'E_IDENTITY_BOUND');
  const reissued = await call(url, 'POST', `/v1/tokens/${latestId}/rotate`, { token: admin });
  assert.equal(reissued.status, 201, reissued.text);

  const events = await auditEvents(dir);
  assert.deepEqual(
    events.map((e) => e.event),
    [
      'token.issued', // bootstrap admin
      'token.issued', // svc-a
      'token.rotated',
      'token.rotated', // self
      'token.revoked',
      'token.refused',
      'token.rotated',
    ],
  );
  assert.deepEqual(events[0]!.actor, { kind: 'operator', procedure: 'first-start' });
  assert.equal(events[2]!.replaces, oldId);
  assert.equal(events[3]!.actor.kind === 'token' && events[3]!.actor.tokenId, rotated.json.info.id);
  assert.match(verifyAuditChain(events), /^sha256:[0-9a-f]{64}$/);
});

test('an identity in the wallet that never had a token can be bound once', async (t) => {
  const { url, admin, gw } = await startTestGateway(t);
  const issue = gw.service.issueIdentity!;
  await gw.service.wallet.put(await issue({ name: 'ext-relay', roles: ['appender'] }));
  await gw.service.wallet.put(await issue({ name: 'ext-op', roles: ['log-operator'] }));
  const bound = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'relay', identity: 'ext-relay' },
  });
  assert.equal(bound.status, 201, bound.text);
  assert.deepEqual(bound.json.info.roles, ['appender']);
  const twice = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'relay2', identity: 'ext-relay' },
  });
  assert.equal(twice.status, 403);
  assert.equal(twice.json.code, 'E_IDENTITY_BOUND');
  // Concurrent binds of one identity: exactly one wins (the check holds until the write).
  await gw.service.wallet.put(await issue({ name: 'ext-race', roles: ['auditor'] }));
  const race = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      call(url, 'POST', '/v1/tokens', { token: admin, body: { name: `race-${i}`, identity: 'ext-race' } }),
    ),
  );
  assert.deepEqual(race.map((r) => r.status).sort(), [201, 403, 403, 403, 403, 403]);
  // Concurrent rotations of one token: one new token, the others are told it was superseded.
  const raceId = race.find((r) => r.status === 201)!.json.info.id as string;
  const rotations = await Promise.all(
    Array.from({ length: 4 }, () => call(url, 'POST', `/v1/tokens/${raceId}/rotate`, { token: admin })),
  );
  assert.deepEqual(rotations.map((r) => r.status).sort(), [201, 409, 409, 409]);
  const live = (await call(url, 'GET', '/v1/tokens', { token: admin })).json.tokens.filter(
    (x: { identity: string; revokedAt?: string }) => x.identity === 'ext-race' && !x.revokedAt,
  );
  assert.equal(live.length, 1);
  // Any identity holding log-operator, whatever its label.
  const op = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'op', identity: 'ext-op' },
  });
  assert.equal(op.status, 403);
  assert.equal(op.json.code, 'E_ROLE_NOT_GRANTABLE');
  // A token named after the log operator gets another identity, never the reserved one.
  const named = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'log-operator', roles: ['auditor'] },
  });
  assert.equal(named.status, 201, named.text);
  assert.notEqual(named.json.info.identity, 'log-operator');
});

test('the operator procedure mints the log-operator token at start, rotating the previous one', async (t) => {
  const dir = await tempDir(t);
  const files = await tempDir(t);
  const first = path.join(files, 'op1.token');
  let gw = await startTestGateway(t, {}, dir, { logOperatorTokenFile: first });
  assert.equal((await stat(first)).mode & 0o777, 0o600);
  const op1 = (await readFile(first, 'utf8')).trim();
  const me = (await call(gw.url, 'GET', '/v1/me', { token: op1 })).json;
  assert.deepEqual(me.roles, ['log-operator']);
  assert.equal(me.identity, 'log-operator');
  assert.equal((await call(gw.url, 'POST', '/v1/checkpoint', { token: op1 })).status, 200);
  await gw.gw.close();

  // An existing file is never overwritten, and the start fails before anything is minted.
  const config = loadConfig({
    env: {},
    overrides: { dataDir: dir, port: 0, host: '127.0.0.1', 'log.level': 'silent' },
  });
  await assert.rejects(
    startGateway(config, { log: false, notice: () => {}, logOperatorTokenFile: first }),
    /EEXIST/,
  );
  const second = path.join(files, 'op2.token');
  gw = await startTestGateway(t, {}, dir, { logOperatorTokenFile: second });
  const op2 = (await readFile(second, 'utf8')).trim();
  assert.equal((await call(gw.url, 'GET', '/v1/me', { token: op1 })).status, 401, 'rotated out');
  assert.equal((await call(gw.url, 'GET', '/v1/me', { token: op2 })).status, 200);
  const ops = (await auditEvents(dir)).filter((e) => e.token?.identity === 'log-operator');
  assert.deepEqual(
    ops.map((e) => [e.event, e.actor]),
    [
      ['token.issued', { kind: 'operator', procedure: 'log-operator-token' }],
      ['token.rotated', { kind: 'operator', procedure: 'log-operator-token' }],
    ],
  );
});

test('--bootstrap-admin rotates the bootstrap admin token: the lost one stops working', async (t) => {
  const dir = await tempDir(t);
  const gw = await startTestGateway(t, {}, dir);
  const lost = gw.admin;
  await gw.gw.close();
  const again = await startTestGateway(t, {}, dir, { bootstrapAdmin: true });
  assert.match(again.admin, /^torgo_/);
  assert.equal((await call(again.url, 'GET', '/v1/tokens', { token: lost })).status, 401);
  const list = await call(again.url, 'GET', '/v1/tokens', { token: again.admin });
  assert.equal(list.status, 200);
  const events = await auditEvents(dir);
  assert.deepEqual(events.at(-1)!.actor, { kind: 'operator', procedure: 'bootstrap-admin' });
  assert.equal(events.at(-1)!.event, 'token.rotated');
});

test('the audit route pages the hash-chained log; every event is on disk before the answer', async (t) => {
  const { url, admin, dir } = await startTestGateway(t);
  const auditor = await createToken(url, admin, 'auditor', ['auditor']);
  // The event of a revocation is in the file the moment the answer arrives.
  const relay = await createToken(url, admin, 'relay', ['appender']);
  const relayId = await tokenId(url, relay);
  const before = (await auditEvents(dir)).length;
  await call(url, 'POST', `/v1/tokens/${relayId}/revoke`, { token: admin });
  const after = await auditEvents(dir);
  assert.equal(after.length, before + 1);
  assert.equal(after.at(-1)!.event, 'token.revoked');
  assert.equal(after.at(-1)!.token!.id, relayId);
  // Revoking again records nothing new.
  await call(url, 'POST', `/v1/tokens/${relayId}/revoke`, { token: admin });
  assert.equal((await auditEvents(dir)).length, after.length);

  const all = await call(url, 'GET', '/v1/audit/tokens', { token: auditor });
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.json.events, after);
  assert.equal(all.json.nextAfter, null);
  assert.deepEqual(all.json.head, { seq: after.length, hash: verifyAuditChain(after) });
  assert.equal(after[0]!.prev, AUDIT_GENESIS);
  const page = await call(url, 'GET', '/v1/audit/tokens?after=1&limit=2', { token: auditor });
  assert.deepEqual(
    page.json.events.map((e: AuditEvent) => e.seq),
    [2, 3],
  );
  assert.equal(page.json.nextAfter, 3);
  for (const bad of ['after=-1', 'limit=0', 'limit=1001', 'after=x', 'other=1']) {
    const r = await call(url, 'GET', `/v1/audit/tokens?${bad}`, { token: auditor });
    assert.equal(r.status, 400, bad);
    assert.equal(r.json.code, 'E_BAD_REQUEST');
  }
  assert.equal((await stat(path.join(dir, 'gateway', 'audit.jsonl'))).mode & 0o777, 0o600);
  // Never a secret or a hash on the audit log.
  const text = await readFile(path.join(dir, 'gateway', 'audit.jsonl'), 'utf8');
  assert.ok(!text.includes(relay.slice(23)) && !text.includes(admin.slice(23)));
  assert.doesNotMatch(text, /"hash"/);
});

test('the audit log survives restarts, cuts a torn tail, and a broken chain stops the gateway', async (t) => {
  const dir = await tempDir(t);
  let gw = await startTestGateway(t, {}, dir);
  await createToken(gw.url, gw.admin, 'relay', ['appender']);
  const admin = gw.admin;
  await gw.gw.close();
  const file = path.join(dir, 'gateway', 'audit.jsonl');
  const good = await readFile(file, 'utf8');
  // A crash mid-write leaves a line without its newline: never acknowledged, cut at open.
  await appendFile(file, '{"seq":3,"at":"2026-');
  gw = await startTestGateway(t, {}, dir);
  assert.equal(await readFile(file, 'utf8'), good);
  const r = await call(gw.url, 'GET', '/v1/audit/tokens', { token: admin });
  assert.equal(r.json.head.seq, 2);
  await gw.gw.close();

  // An edited event (here: another identity on line 2) breaks the chain at line 3's prev… or, when
  // it is the last one, changes the head. Either way the gateway refuses to start.
  const lines = good.split('\n').filter(Boolean);
  const edited = JSON.parse(lines[0]!) as AuditEvent;
  const tampered = [
    JSON.stringify({ ...edited, token: { ...edited.token, identity: 'someone-else' } }),
    ...lines.slice(1),
  ];
  // canonical form kept (keys sorted) so the chain is what fails
  const { canonicalJson } = await import('../../core/json.js');
  tampered[0] = canonicalJson(JSON.parse(tampered[0]!));
  await writeFile(file, `${tampered.join('\n')}\n`);
  const config = loadConfig({
    env: {},
    overrides: { dataDir: dir, port: 0, host: '127.0.0.1', 'log.level': 'silent' },
  });
  await assert.rejects(startGateway(config, { log: false, notice: () => {} }), (e: Error) => {
    assert.equal((e as { code?: string }).code, 'E_AUDIT_CHAIN_BROKEN');
    assert.match(e.message, /event 2: prev/);
    return true;
  });
  // A removed event likewise.
  await writeFile(file, `${lines[1]}\n`);
  await assert.rejects(startGateway(config, { log: false, notice: () => {} }), /event 2 follows event 0/);
});

test('a token store from before the audit log is imported into it at first open', async (t) => {
  const dir = await tempDir(t);
  let gw = await startTestGateway(t, {}, dir);
  const relay = await createToken(gw.url, gw.admin, 'relay', ['appender']);
  await call(gw.url, 'POST', `/v1/tokens/${await tokenId(gw.url, relay)}/revoke`, { token: gw.admin });
  await gw.gw.close();
  const { rm } = await import('node:fs/promises');
  await rm(path.join(dir, 'gateway', 'audit.jsonl'));
  gw = await startTestGateway(t, {}, dir);
  const events = await auditEvents(dir);
  assert.deepEqual(
    events.map((e) => [e.event, e.token?.name]),
    [
      ['token.imported', 'admin'],
      ['token.imported', 'relay'],
      ['token.revoked', 'relay'],
    ],
  );
  assert.ok(events.every((e) => e.actor.kind === 'operator' && e.actor.procedure === 'import'));
});

test('torgo token rotate and torgo audit tokens (chain checked, pinned head)', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const as = (token: string) => ['--gateway', url, '--token', token];
  const relay = (
    await torgo('token', 'create', '--name', 'relay', '--role', 'appender', ...as(admin))
  ).stdout.trim();
  const auditor = (
    await torgo('token', 'create', '--name', 'aud', '--role', 'auditor', ...as(admin))
  ).stdout.trim();
  const refused = await torgo('token', 'create', '--name', 'op', '--role', 'log-operator', ...as(admin));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /E_ROLE_NOT_GRANTABLE/);

  const byAdmin = await torgo('token', 'rotate', await tokenId(url, relay), '--json', ...as(admin));
  assert.equal(byAdmin.code, 0, byAdmin.stderr);
  const rotated = JSON.parse(byAdmin.stdout);
  assert.equal(rotated.info.identity, 'relay');
  const self = await torgo('token', 'rotate', '--self', ...as(rotated.token));
  assert.equal(self.code, 0, self.stderr);
  assert.match(self.stdout, /^torgo_/);
  assert.match(self.stderr, /replaces [0-9a-f]{16} \(now revoked\)/);
  assert.equal((await torgo('token', 'rotate', ...as(admin))).code, 2, 'an id or --self');

  const read = await torgo('audit', 'tokens', ...as(auditor));
  assert.equal(read.code, 0, read.stderr);
  assert.match(read.stdout, /token\.refused .*E_ROLE_NOT_GRANTABLE/);
  assert.match(read.stdout, /token\.rotated/);
  const head = /head (\d+:sha256:[0-9a-f]{64})/.exec(read.stderr)![1]!;
  assert.equal(head.split(':')[0], '6');
  // The head pinned now is extended by later events…
  await torgo('token', 'create', '--name', 'late', '--role', 'auditor', ...as(admin));
  const pinned = await torgo('audit', 'tokens', '--head', head, '--json', ...as(auditor));
  assert.equal(pinned.code, 0, pinned.stderr);
  const lines = pinned.stdout.trim().split('\n');
  assert.equal(lines.length, 2, 'the one event after the pin, then the head');
  // …and a head the log does not extend is an error.
  const wrong = `${head.split(':')[0]}:sha256:${'1'.repeat(64)}`;
  const bad = await torgo('audit', 'tokens', '--head', wrong, ...as(auditor));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /E_AUDIT_CHAIN_BROKEN/);
  assert.equal((await torgo('audit', 'tokens', ...as(relay))).code, 1, 'a revoked token: 401');
});

test('a revocation on the audit log that did not reach the token store (a crash) is completed at start', async (t) => {
  const dir = await tempDir(t);
  let gw = await startTestGateway(t, {}, dir);
  const relay = await createToken(gw.url, gw.admin, 'relay', ['appender']);
  const id = await tokenId(gw.url, relay);
  await gw.gw.close();
  // The state a crash after the audit write and before the store write leaves behind.
  const { TokenAuditLog } = await import('../../gateway/auth/audit.js');
  const { log } = await TokenAuditLog.open(dir);
  await log.append({
    event: 'token.revoked',
    actor: { kind: 'operator', procedure: 'bootstrap-admin' },
    token: { id, name: 'relay', identity: 'relay', roles: ['appender'] },
  });
  const store = JSON.parse(await readFile(path.join(dir, 'gateway', 'tokens.json'), 'utf8'));
  assert.equal(store.tokens.find((x: { id: string }) => x.id === id).revokedAt, undefined);
  gw = await startTestGateway(t, {}, dir);
  assert.equal((await call(gw.url, 'GET', '/v1/me', { token: relay })).status, 401);
});
