/**
 * Token identities from a real Fabric CA: a `fabric-ca-server` (TLS on) started on a random
 * 127.0.0.1 port, the registrar enrolled from the config or taken from the wallet, identities
 * registered with `torgo.role` as an ecert attribute, enrolled, and stored in the wallet — then the
 * same through the HTTP API of a Fabric-mode gateway (its peer unreachable: only the CA is needed).
 * Skipped, saying so, when `fabric-ca-server` is neither on PATH nor in .fabric/bin (npm run fabric:install).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import FabricCAServices from 'fabric-ca-client';
import { certificateAttribute, certificateRoles } from '../../gateway/auth/roles.js';
import { GatewayError } from '../../gateway/errors.js';
import { FabricCA } from '../../gateway/ledger/fabric/ca.js';
import { FileSystemWallet } from '../../gateway/ledger/wallet.js';
import type { FabricCAConfig } from '../../gateway/config.js';
import { call, freePort, startTestGateway, tempDir } from './helpers.js';
import { EmbeddedCA } from '../../engine/index.js';

function findServer(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter), path.resolve('.fabric/bin')];
  return dirs.map((d) => path.join(d, 'fabric-ca-server')).find((f) => existsSync(f));
}

async function listening(port: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

interface RunningCA {
  url: string;
  caCert: string;
  stop(): Promise<void>;
}

/** fabric-ca-server with TLS, bootstrap identity registrar:registrarpw, stopped after the test. */
async function startCA(t: TestContext, binary: string, dir: string): Promise<RunningCA> {
  const port = await freePort();
  const ops = await freePort();
  const home = path.join(dir, 'ca');
  const child: ChildProcess = spawn(
    binary,
    [
      'start',
      '-b',
      'registrar:registrarpw',
      '--home',
      home,
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--ca.name',
      'ca-test',
      '--tls.enabled',
      '--csr.cn',
      'ca.test.local',
      '--csr.hosts',
      '127.0.0.1,localhost',
      '--operations.listenaddress',
      `127.0.0.1:${ops}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  t.after(stop);
  if (!(await listening(port, 30_000))) {
    await stop();
    throw new Error(`fabric-ca-server did not listen on ${port}:\n${stderr}`);
  }
  return { url: `https://127.0.0.1:${port}`, caCert: path.join(home, 'ca-cert.pem'), stop };
}

function caConfig(ca: RunningCA, registrar: FabricCAConfig['registrar'], mspId?: string): FabricCAConfig {
  return {
    url: ca.url,
    caName: 'ca-test',
    tlsCaCert: ca.caCert,
    affiliation: '',
    registrar,
    ...(mspId ? { mspId } : {}),
  };
}

function keyMatches(certificate: string, privateKey: string): boolean {
  const fromCert = new X509Certificate(certificate).publicKey.export({ format: 'der', type: 'spki' });
  const fromKey = createPublicKey(createPrivateKey(privateKey)).export({ format: 'der', type: 'spki' });
  return Buffer.compare(fromCert, fromKey) === 0;
}

const binary = findServer();
const skip = binary
  ? false
  : 'fabric-ca-server is not on PATH (nor in .fabric/bin): run `npm run fabric:install` or put Fabric CA on PATH';

test('Fabric CA: register + enroll with torgo.role, wallet registrar, refusals and an unreachable CA', {
  skip,
}, async (t) => {
  const dir = await tempDir(t, 'torgo-fabric-ca-');
  const ca = await startCA(t, binary!, dir);
  const wallet = new FileSystemWallet(path.join(dir, 'wallet'));

  const issuer = await FabricCA.open(
    caConfig(ca, { enrollmentId: 'registrar', enrollmentSecret: 'registrarpw' }, 'Org1MSP'),
    wallet,
    undefined,
  );
  const started = performance.now();
  const relay = await issuer.issue({ name: 'relay', roles: ['auditor', 'appender'] });
  t.diagnostic(`register + enroll (registrar enrolled first): ${Math.round(performance.now() - started)} ms`);
  assert.equal(relay.label, 'relay');
  assert.equal(relay.mspId, 'Org1MSP');
  assert.equal(certificateAttribute(relay.certificate, 'torgo.role'), 'appender,auditor');
  assert.deepEqual(certificateRoles(relay.certificate), ['appender', 'auditor']);
  const cert = new X509Certificate(relay.certificate);
  assert.match(cert.subject, /CN=relay$/m);
  assert.match(cert.subject, /OU=client/, 'registered as a client');
  assert.ok(keyMatches(relay.certificate, relay.privateKey), 'the private key belongs to the certificate');
  assert.ok(cert.checkIssued(new X509Certificate(await readFile(ca.caCert))), "issued by the CA's root");

  // The CA already has "relay": a second identity for that label gets a suffixed enrolment id.
  const again = await issuer.issue({ name: 'relay', roles: ['appender'] });
  assert.equal(again.label, 'relay');
  assert.match(new X509Certificate(again.certificate).subject, /CN=relay-[0-9a-f]{6}$/m);

  // The registrar as a wallet entry (as identities.sh writes it); the MSP id comes from it.
  const enrolled = await new FabricCAServices(
    ca.url,
    { trustedRoots: [await readFile(ca.caCert, 'utf8')], verify: true },
    'ca-test',
  ).enroll({ enrollmentID: 'registrar', enrollmentSecret: 'registrarpw' });
  await wallet.put({
    label: 'ca-registrar',
    mspId: 'Org2MSP',
    certificate: enrolled.certificate,
    privateKey: enrolled.key.toBytes(),
  });
  const byWallet = await FabricCA.open(caConfig(ca, { identity: 'ca-registrar' }), wallet, undefined);
  const auditor = await byWallet.issue({ name: 'auditor-1', roles: ['auditor'] });
  assert.equal(auditor.mspId, 'Org2MSP');
  assert.deepEqual(certificateRoles(auditor.certificate), ['auditor']);

  // A wrong registrar secret is the operator's mistake: 500, and the secret is in no message.
  const wrong = await FabricCA.open(
    caConfig(ca, { enrollmentId: 'registrar', enrollmentSecret: 'not-the-secret' }, 'Org1MSP'),
    wallet,
    undefined,
  );
  await assert.rejects(wrong.issue({ name: 'x', roles: ['appender'] }), (e: unknown) => {
    assert.ok(e instanceof GatewayError);
    assert.equal(e.code, 'E_INTERNAL');
    assert.equal(e.status, 500);
    assert.doesNotMatch(`${e.message} ${String((e.cause as Error)?.message)}`, /not-the-secret/);
    return true;
  });
  // An untrusted TLS certificate is refused (verify is always on).
  const other = new EmbeddedCA(path.join(dir, 'other-ca'));
  const untrusted = path.join(dir, 'untrusted.pem');
  await writeFile(untrusted, (await other.createIdentity({ mspId: 'X', name: 'x' })).certificate);
  const mistrusting = await FabricCA.open(
    {
      ...caConfig(ca, { enrollmentId: 'registrar', enrollmentSecret: 'registrarpw' }, 'Org1MSP'),
      tlsCaCert: untrusted,
    },
    wallet,
    undefined,
  );
  await assert.rejects(mistrusting.issue({ name: 'y', roles: ['appender'] }), /not reachable/);

  // The CA down: 503, retry later.
  await ca.stop();
  await assert.rejects(issuer.issue({ name: 'late', roles: ['appender'] }), (e: unknown) => {
    assert.ok(e instanceof GatewayError);
    assert.equal(e.code, 'E_UNAVAILABLE');
    assert.equal(e.status, 503);
    return true;
  });
});

test('Fabric gateway with fabric.ca: bootstrap admin and token identities issued by the CA', {
  skip,
}, async (t) => {
  const dir = await tempDir(t, 'torgo-fabric-ca-gw-');
  const ca = await startCA(t, binary!, dir);
  const walletDir = path.join(dir, 'wallet');
  const peerTls = path.join(dir, 'peer-tls.pem');
  await writeFile(peerTls, await readFile(ca.caCert));
  const { url, admin } = await startTestGateway(t, {
    dataDir: path.join(dir, 'data'),
    ledger: 'fabric',
    'fabric.peerEndpoint': `127.0.0.1:${await freePort()}`,
    'fabric.tlsCaCert': peerTls,
    'fabric.wallet': walletDir,
    'fabric.timeoutMs': 1500,
    'fabric.adminIdentity': 'org1-admin',
    'fabric.ca.url': ca.url,
    'fabric.ca.caName': 'ca-test',
    'fabric.ca.tlsCaCert': ca.caCert,
    'fabric.ca.mspId': 'Org1MSP',
    'fabric.ca.registrar.enrollmentId': 'registrar',
    'fabric.ca.registrar.enrollmentSecret': 'registrarpw',
  });
  assert.match(admin, /^torgo_/);
  const wallet = new FileSystemWallet(walletDir);
  const adminIdentity = await wallet.get('org1-admin');
  assert.ok(adminIdentity, 'the bootstrap admin identity was issued into the wallet');
  assert.deepEqual(certificateRoles(adminIdentity.certificate), ['admin']);

  const created = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'relay', roles: ['auditor', 'appender'] },
  });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.json.info.roles, ['appender', 'auditor']);
  assert.equal(created.json.info.identity, 'relay');
  const file = path.join(walletDir, 'relay.id');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const entry = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(entry.mspId, 'Org1MSP');
  assert.equal(entry.type, 'X.509');
  assert.deepEqual(certificateRoles(entry.credentials.certificate), ['appender', 'auditor']);

  // Same name again: a new wallet label, as on the embedded ledger.
  const second = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'relay', roles: ['appender'] },
  });
  assert.equal(second.status, 201, second.text);
  assert.equal(second.json.info.identity, 'relay-2');

  await ca.stop();
  const down = await call(url, 'POST', '/v1/tokens', {
    token: admin,
    body: { name: 'late', roles: ['appender'] },
  });
  assert.equal(down.status, 503, down.text);
  assert.equal(down.json.code, 'E_UNAVAILABLE');
});
