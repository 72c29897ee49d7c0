/**
 * The gateway reads a certificate's roles with the contract's parser (fabric-shim's ClientIdentity and
 * chaincode/identity.ts `rolesOf`): what it grants is what the contract will enforce.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROLES } from '../../chaincode/identity.js';
import { EmbeddedCA } from '../../engine/identity.js';
import { certificateAttribute, certificateRoles } from '../../gateway/auth/roles.js';

test('torgo.role: known roles, sorted, unknown and blank parts ignored; none without the attribute', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'torgo-roles-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = new EmbeddedCA(path.join(dir, 'msp'));
  const issue = (attrs: Record<string, string>) =>
    ca.createIdentity({ mspId: 'Org1MSP', name: 'relay', attrs }).then((i) => i.certificate);

  const mixed = await issue({ 'torgo.role': 'log-operator, bogus,,appender ,Admin', other: 'x' });
  assert.equal(certificateAttribute(mixed, 'torgo.role'), 'log-operator, bogus,,appender ,Admin');
  assert.equal(certificateAttribute(mixed, 'other'), 'x');
  assert.deepEqual(certificateRoles(mixed), ['appender', 'log-operator']);

  const all = await issue({ 'torgo.role': [...ROLES].reverse().join(',') });
  assert.deepEqual(certificateRoles(all), [...ROLES].sort());

  const none = await issue({});
  assert.equal(certificateAttribute(none, 'torgo.role'), null);
  assert.deepEqual(certificateRoles(none), []);
});
