/**
 * The Fabric driver through the real @hyperledger/fabric-gateway and @grpc/grpc-js, with no peer
 * listening: readiness fails, ledger calls answer 503 E_UNAVAILABLE, tokens need wallet identities.
 * (Against a real network: the Fabric integration tests of network-config.)
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { EmbeddedCA } from '../../engine/index.js';
import { FileSystemWallet } from '../../gateway/ledger/wallet.js';
import { call, freePort, receipt, startTestGateway, tempDir } from './helpers.js';
import { generatePrivateKey } from '../../core/index.js';

test('fabric driver: unreachable peer → /readyz 503, appends 503, identities only from the wallet', async (t) => {
  const dir = await tempDir(t);
  const ca = new EmbeddedCA(path.join(dir, 'msp'));
  const wallet = new FileSystemWallet(path.join(dir, 'wallet'));
  for (const [label, role] of [
    ['admin', 'admin'],
    ['relay', 'appender'],
  ] as const) {
    const issued = await ca.createIdentity({ mspId: 'Org1MSP', name: label, attrs: { 'torgo.role': role } });
    await wallet.put({
      label,
      mspId: issued.mspId,
      certificate: issued.certificate,
      privateKey: issued.privateKey,
    });
  }
  const tlsCa = path.join(dir, 'tls-ca.pem');
  await writeFile(tlsCa, (await ca.createIdentity({ mspId: 'Org1MSP', name: 'tls' })).certificate);
  const { url, admin } = await startTestGateway(t, {
    dataDir: path.join(dir, 'data'),
    ledger: 'fabric',
    'fabric.peerEndpoint': `127.0.0.1:${await freePort()}`,
    'fabric.tlsCaCert': tlsCa,
    'fabric.wallet': path.join(dir, 'wallet'),
    'fabric.channel': 'torgo',
    'fabric.chaincode': 'torgo',
    'fabric.timeoutMs': 1500,
  });
  assert.match(admin, /^torgo_/, 'the bootstrap token uses the wallet identity "admin"');
  const ready = await call(url, 'GET', '/readyz');
  assert.equal(ready.status, 503);
  assert.equal(ready.json.code, 'E_UNAVAILABLE');

  const issued = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'x', roles: ['appender'] },
  });
  assert.equal(issued.status, 400, 'Fabric identities are enrolled out of band');
  const created = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'relay', identity: 'relay' },
  });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.json.info.roles, ['appender']);

  const append = await call(url, 'POST', '/v1/receipts', {
    token: created.json.token,
    raw: receipt([generatePrivateKey()]),
  });
  assert.equal(append.status, 503, append.text);
  assert.equal(append.json.code, 'E_UNAVAILABLE');
  assert.equal(append.headers.get('retry-after'), '5');
});
