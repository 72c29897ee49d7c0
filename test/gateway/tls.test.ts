/**
 * HTTPS on the gateway (gateway/tls/*): the hybrid post-quantum key exchange is negotiated and seen,
 * `requirePostQuantum` refuses classical-only clients at the handshake, HTTP/2 and HTTP/1.1 both
 * work, mutual TLS maps a client certificate to its token, and the CLI speaks HTTPS with --ca-file.
 * Real gateways on random 127.0.0.1 ports, real TLS handshakes (Node 24, OpenSSL 3.5).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import https from 'node:https';
import http2 from 'node:http2';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { ConfigError, loadConfig } from '../../gateway/config.js';
import { createClientCertificate, createDevCertificates } from '../../gateway/tls/devcert.js';
import { groupNames, kexGroupOfSession, negotiatedGroup, postQuantumOnly } from '../../gateway/tls/groups.js';
import { ListenerObserver } from '../../gateway/tls/listener.js';
import { OutboundObserver } from '../../gateway/tls/outbound.js';
import { torgo } from '../cli/run.js';
import { startTestGateway, tempDir } from './helpers.js';
import { Registry } from 'prom-client';

/** One GET over an HTTP/2 session: status and body. */
function h2Get(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let body = '';
    let status = 0;
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      status = Number(h[':status']);
    });
    stream.on('data', (c: string) => {
      body += c;
    });
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
  });
}

interface Certs {
  dir: string;
  ca: Buffer;
  tls: Record<string, string>;
}

async function devCerts(t: import('node:test').TestContext): Promise<Certs> {
  const dir = await tempDir(t, 'torgo-tls-');
  await createDevCertificates({ dir });
  return {
    dir,
    ca: await readFile(path.join(dir, 'ca.pem')),
    tls: { 'tls.cert': path.join(dir, 'server.pem'), 'tls.key': path.join(dir, 'server.key.pem') },
  };
}

interface Got {
  status: number;
  body: string;
  group: string;
  alpn: string | false | null;
}

/** One HTTP/1.1 request over a fresh TLS connection with the given client TLS options. */
function get(url: string, route: string, options: https.RequestOptions = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}${route}`, { agent: false, timeout: 30_000, ...options }, (res) => {
      const socket = res.socket as tls.TLSSocket;
      const group = negotiatedGroup(socket);
      const alpn = socket.alpnProtocol;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, group, alpn }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

test('dev-cert: a CA and a loopback server certificate, keys 0600, nothing overwritten', async (t) => {
  const dir = await tempDir(t, 'torgo-tls-');
  const r = await torgo('tls', 'dev-cert', '--dir', dir, '--host', 'gw.example.test');
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['ca.key.pem', 'server.key.pem']) {
    assert.equal((await stat(path.join(dir, f))).mode & 0o777, 0o600, f);
  }
  const ca = new X509Certificate(await readFile(path.join(dir, 'ca.pem')));
  const server = new X509Certificate(await readFile(path.join(dir, 'server.pem')));
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey), 'server certificate issued by the CA');
  assert.ok(ca.ca && !server.ca);
  assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(server.checkIP('::1'), '::1');
  assert.equal(server.checkHost('localhost'), 'localhost');
  assert.equal(server.checkHost('gw.example.test'), 'gw.example.test');
  assert.equal(server.checkHost('other.example.test'), undefined);
  const again = await torgo('tls', 'dev-cert', '--dir', dir);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /E_CERT_EXISTS: .*ca\.pem exists: not overwritten/);
  const bad = await torgo('tls', 'dev-cert', '--dir', path.join(dir, 'x'), '--host', 'bad host!');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a host name or IP address/);
});

test('a client restricted to X25519MLKEM768 gets in over HTTP/1.1 and HTTP/2; /readyz and metrics name the group', async (t) => {
  const certs = await devCerts(t);
  const { url } = await startTestGateway(t, certs.tls);
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);

  const pq = await get(url, '/healthz', { ca: certs.ca, ecdhCurve: 'X25519MLKEM768' });
  assert.equal(pq.status, 200);
  assert.equal(pq.group, 'X25519MLKEM768');
  assert.equal(pq.alpn, false, 'no ALPN from this client: HTTP/1.1');

  // A default Node 24 client offers X25519MLKEM768 first, and gets it.
  const dflt = await get(url, '/healthz', { ca: certs.ca });
  assert.equal(dflt.group, 'X25519MLKEM768');

  // HTTP/2 by ALPN on the same port.
  const session = http2.connect(url, { ca: certs.ca, ecdhCurve: 'X25519MLKEM768' });
  t.after(() => session.close());
  const h2 = await h2Get(session, '/readyz');
  assert.equal((session.socket as tls.TLSSocket).alpnProtocol, 'h2');
  assert.equal(h2.status, 200, h2.body);
  const ready = JSON.parse(h2.body);
  assert.equal(ready.details.tls.enabled, true);
  assert.deepEqual(ready.details.tls.groups, [
    'X25519MLKEM768',
    'SecP256r1MLKEM768',
    'X25519',
    'P-256',
    'P-384',
  ]);
  assert.equal(ready.details.tls.lastGroup, 'X25519MLKEM768');
  assert.equal(ready.details.tls.handshakes.X25519MLKEM768, 3);

  const metrics = await get(url, '/metrics', { ca: certs.ca });
  assert.match(metrics.body, /torgo_tls_handshakes_total\{group="X25519MLKEM768",protocol="http\/1\.1"\} 3/);
  assert.match(metrics.body, /torgo_tls_handshakes_total\{group="X25519MLKEM768",protocol="h2"\} 1/);

  // Without requirePostQuantum a classical-only client is still served, and seen as such.
  const classical = await get(url, '/healthz', { ca: certs.ca, ecdhCurve: 'X25519' });
  assert.equal(classical.status, 200);
  assert.equal(classical.group, 'X25519');
  const after = JSON.parse((await get(url, '/readyz', { ca: certs.ca, ecdhCurve: 'P-256' })).body);
  assert.equal(after.details.tls.handshakes.X25519, 1);
  assert.equal(after.details.tls.lastGroup, 'P-256');
});

test('requirePostQuantum: classical-only and TLS 1.2 clients fail the handshake, counted; hybrid clients get in', async (t) => {
  const certs = await devCerts(t);
  const { url } = await startTestGateway(t, { ...certs.tls, 'tls.requirePostQuantum': true });

  for (const ecdhCurve of ['X25519', 'P-256:P-384', 'X25519:P-256:P-384:P-521:X448']) {
    await assert.rejects(
      get(url, '/healthz', { ca: certs.ca, ecdhCurve }),
      (e: Error & { code?: string }) =>
        /alert handshake failure/.test(e.message) && /SSL alert number 40/.test(e.message),
      ecdhCurve,
    );
  }
  await assert.rejects(get(url, '/healthz', { ca: certs.ca, maxVersion: 'TLSv1.2' }), (e: Error) =>
    /protocol version|unsupported protocol/i.test(e.message),
  );
  const ok = await get(url, '/readyz', { ca: certs.ca, ecdhCurve: 'X25519MLKEM768' });
  assert.equal(ok.status, 200);
  assert.equal(ok.group, 'X25519MLKEM768');
  // A client that prefers classical but also offers the hybrid group is moved to it (HelloRetryRequest).
  const mixed = await get(url, '/healthz', { ca: certs.ca, ecdhCurve: 'X25519:X25519MLKEM768' });
  assert.equal(mixed.group, 'X25519MLKEM768');
  const ready = JSON.parse(ok.body);
  assert.deepEqual(ready.details.tls.groups, ['X25519MLKEM768', 'SecP256r1MLKEM768']);
  assert.equal(ready.details.tls.requirePostQuantum, true);
  assert.equal(ready.details.tls.failures.no_shared_group, 3);
  assert.equal(ready.details.tls.failures.protocol_version, 1);
  const metrics = await get(url, '/metrics', { ca: certs.ca });
  assert.match(metrics.body, /torgo_tls_handshake_failures_total\{reason="no_shared_group"\} 3/);
  assert.doesNotMatch(metrics.body, /torgo_tls_handshakes_total\{group="(X25519|P-256)"/);
});

test('a refused classical client is logged with the reason', async (t) => {
  const certs = await devCerts(t);
  const config = loadConfig({ env: {}, overrides: { ...certs.tls, 'tls.requirePostQuantum': true } });
  const lines: { level: string; obj: object; msg: string }[] = [];
  const observer = new ListenerObserver(config.tls, new Registry(), {
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
  });
  const { listenerOptions } = await import('../../gateway/tls/listener.js');
  const server = tls.createServer(await listenerOptions(config.tls), (s) => s.end());
  observer.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => {
    const c = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, ecdhCurve: 'X25519' });
    c.on('error', () => resolve());
  });
  await new Promise((r) => setTimeout(r, 50));
  const refusal = lines.find((l) => l.level === 'warn');
  assert.ok(refusal, JSON.stringify(lines));
  assert.match(refusal.msg, /client offers no post-quantum key exchange .*X25519MLKEM768/);
  assert.equal((refusal.obj as { reason: string }).reason, 'no_shared_group');
});

test('mutual TLS: a client certificate acts as its token; untrusted or revoked ones are refused', async (t) => {
  const certs = await devCerts(t);
  const clientCa = path.join(certs.dir, 'ca.pem');
  const { url, admin } = await startTestGateway(t, {
    ...certs.tls,
    'tls.clientCa': clientCa,
    'tls.clientAuth': 'optional',
  });
  const bearer = { ca: certs.ca, headers: { authorization: `Bearer ${admin}` } };
  const created = await new Promise<{ token: string; info: { id: string } }>((resolve, reject) => {
    const req = https.request(
      `${url}/v1/tokens`,
      {
        method: 'POST',
        agent: false,
        ca: certs.ca,
        headers: { ...bearer.headers, 'content-type': 'application/json' },
      },
      (res) => {
        let b = '';
        res.on('data', (c) => {
          b += c;
        });
        res.on('end', () => resolve(JSON.parse(b)));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ name: 'relay', roles: ['appender'] }));
  });
  const id = created.info.id;
  const files = await createClientCertificate({ dir: certs.dir, tokenId: id });
  assert.equal((await stat(files.files[1]!)).mode & 0o777, 0o600);
  const client = {
    ca: certs.ca,
    cert: await readFile(files.files[0]!),
    key: await readFile(files.files[1]!),
  };

  const me = await get(url, '/v1/me', client);
  assert.equal(me.status, 200, me.body);
  assert.equal(JSON.parse(me.body).tokenId, id);
  assert.equal(me.group, 'X25519MLKEM768');
  // Over HTTP/2 the same certificate authenticates the same way.
  const session = http2.connect(url, client);
  t.after(() => session.close());
  const h2me = await h2Get(session, '/v1/me');
  assert.equal(h2me.status, 200, h2me.body);
  assert.equal(JSON.parse(h2me.body).tokenId, id);
  session.close();
  // Roles are the token's: an appender cannot list tokens.
  assert.equal((await get(url, '/v1/tokens', client)).status, 403);
  // The same certificate with another token's bearer is ambiguous: refused.
  const both = await get(url, '/v1/me', { ...client, headers: bearer.headers });
  assert.equal(both.status, 401);
  assert.match(both.body, /name different tokens/);
  // Bearer tokens still work without a certificate (optional mode).
  assert.equal((await get(url, '/v1/me', bearer)).status, 200);

  // A certificate from another CA is not trusted.
  const other = await tempDir(t, 'torgo-tls-other-');
  await createDevCertificates({ dir: other });
  const forged = await createClientCertificate({ dir: other, tokenId: id });
  const untrusted = await get(url, '/v1/me', {
    ca: certs.ca,
    cert: await readFile(forged.files[0]!),
    key: await readFile(forged.files[1]!),
  });
  assert.equal(untrusted.status, 401);
  assert.match(untrusted.body, /client certificate is not trusted/);

  // Revoking the token refuses its certificate at once.
  const revoke = await new Promise<number>((resolve, reject) => {
    const req = https.request(
      `${url}/v1/tokens/${id}/revoke`,
      { method: 'POST', agent: false, ...bearer },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(revoke, 200);
  const revoked = await get(url, '/v1/me', client);
  assert.equal(revoked.status, 401);
  assert.match(revoked.body, /unknown or revoked/);
});

test('mutual TLS required: no certificate fails the handshake, bearer tokens are off', async (t) => {
  const certs = await devCerts(t);
  const { url, admin } = await startTestGateway(t, {
    ...certs.tls,
    'tls.clientCa': path.join(certs.dir, 'ca.pem'),
    'tls.clientAuth': 'required',
  });
  await assert.rejects(get(url, '/healthz', { ca: certs.ca }), (e: Error & { code?: string }) =>
    /CERTIFICATE_REQUIRED|HANDSHAKE|ECONNRESET/.test(e.code ?? ''),
  );
  const adminId = /^torgo_([0-9a-f]{16})_/.exec(admin)![1]!;
  const files = await createClientCertificate({ dir: certs.dir, tokenId: adminId });
  const client = {
    ca: certs.ca,
    cert: await readFile(files.files[0]!),
    key: await readFile(files.files[1]!),
  };
  assert.equal((await get(url, '/v1/tokens', client)).status, 200);
  const withBearer = await get(url, '/v1/me', { ...client, headers: { authorization: `Bearer ${admin}` } });
  assert.equal(withBearer.status, 401);
  assert.match(withBearer.body, /bearer tokens are off/);

  // The CLI with --cert/--key and no token.
  const r = await torgo(
    'token',
    'list',
    '--gateway',
    url,
    '--ca-file',
    path.join(certs.dir, 'ca.pem'),
    '--cert',
    files.files[0]!,
    '--key',
    files.files[1]!,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /admin\s+admin/);
});

test('the CLI over HTTPS: --ca-file / TORGO_CA_FILE trusts the dev CA; without it a clear error', async (t) => {
  const certs = await devCerts(t);
  const { url, admin } = await startTestGateway(t, certs.tls);
  const caFile = path.join(certs.dir, 'ca.pem');
  const ok = await torgo('token', 'list', '--gateway', url, '--token', admin, '--ca-file', caFile);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /admin/);
  process.env['TORGO_CA_FILE'] = caFile;
  try {
    const viaEnv = await torgo('token', 'list', '--gateway', url, '--token', admin);
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
  } finally {
    delete process.env['TORGO_CA_FILE'];
  }
  const untrusted = await torgo('token', 'list', '--gateway', url, '--token', admin);
  assert.equal(untrusted.code, 2);
  assert.match(untrusted.stderr, /E_GATEWAY_UNREACHABLE: .*not trusted \(give its CA with --ca-file/);
  const plain = await torgo(
    'token',
    'list',
    '--gateway',
    url.replace('https', 'http'),
    '--token',
    admin,
    '--ca-file',
    caFile,
  );
  assert.equal(plain.code, 2);
  assert.match(plain.stderr, /need an https:\/\/ gateway URL/);
});

test('the CLI against a post-quantum-only gateway: a clear handshake error when it cannot comply', async (t) => {
  const certs = await devCerts(t);
  const { url, admin } = await startTestGateway(t, {
    ...certs.tls,
    'tls.groups': 'X25519MLKEM768',
    'tls.requirePostQuantum': true,
  });
  const caFile = path.join(certs.dir, 'ca.pem');
  // Node 24's default groups offer X25519MLKEM768: the CLI gets in.
  const ok = await torgo('token', 'list', '--gateway', url, '--token', admin, '--ca-file', caFile);
  assert.equal(ok.code, 0, ok.stderr);
  // Simulate a classical-only client runtime: restrict this process's default groups.
  const saved = tls.DEFAULT_ECDH_CURVE;
  tls.DEFAULT_ECDH_CURVE = 'X25519:P-256';
  t.after(() => {
    tls.DEFAULT_ECDH_CURVE = saved;
  });
  const refused = await torgo('token', 'list', '--gateway', url, '--token', admin, '--ca-file', caFile);
  tls.DEFAULT_ECDH_CURVE = saved;
  assert.equal(refused.code, 2);
  assert.match(
    refused.stderr,
    /TLS handshake was refused \(the gateway may require post-quantum key exchange X25519MLKEM768/,
  );
});

test('TLS settings are checked at start', () => {
  const load = (o: Record<string, string | boolean>) => loadConfig({ env: {}, overrides: o });
  assert.throws(() => load({ 'tls.cert': 'c.pem' }), /give both tls.cert and tls.key/);
  assert.throws(
    () =>
      load({
        'tls.cert': 'c.pem',
        'tls.key': 'k.pem',
        'tls.groups': 'X25519:P-256',
        'tls.requirePostQuantum': true,
      }),
    (e: unknown) => e instanceof ConfigError && /holds no post-quantum group/.test(e.message),
  );
  assert.throws(
    () => load({ 'tls.cert': 'c.pem', 'tls.key': 'k.pem', 'tls.groups': 'NoSuchGroup' }),
    /OpenSSL does not accept the group list/,
  );
  assert.throws(() => load({ 'tls.requirePostQuantum': true }), /needs TLS on/);
  assert.throws(
    () => load({ 'tls.cert': 'c.pem', 'tls.key': 'k.pem', 'tls.clientAuth': 'optional' }),
    /needs tls.clientCa/,
  );
  assert.throws(() => load({ 'fabric.tlsGroups': 'Nope' }), /fabric.tlsGroups: OpenSSL does not accept/);
  assert.throws(
    () =>
      load({
        ledger: 'fabric',
        'fabric.client': 'network',
        'fabric.peerEndpoint': '127.0.0.1:7051',
        'fabric.tlsCaCert': 'ca.pem',
        'fabric.wallet': 'w',
        'fabric.tlsGroups': 'X25519MLKEM768',
      }),
    /fabric.tlsGroups applies to fabric.client "gateway" only/,
  );
  const env = loadConfig({
    env: { TORGO_TLS_CERT: '/c.pem', TORGO_TLS_KEY: '/k.pem', TORGO_TLS_REQUIRE_POST_QUANTUM: 'true' },
  });
  assert.equal(env.tls.requirePostQuantum, true);
  assert.equal(env.tls.cert, '/c.pem');
});

test('group lists and session parsing', () => {
  assert.deepEqual(groupNames('?X25519MLKEM768:*x25519 / secp256r1'), [
    'X25519MLKEM768',
    'X25519',
    'secp256r1',
  ]);
  assert.equal(
    postQuantumOnly('X25519MLKEM768:SecP256r1MLKEM768 / X25519:P-256'),
    'X25519MLKEM768:SecP256r1MLKEM768',
  );
  assert.equal(postQuantumOnly('X25519:P-256'), '');
  // SEQUENCE { [19] { INTEGER 0x11ec } }
  assert.equal(kexGroupOfSession(Buffer.from('3006b304020211ec', 'hex')), 0x11ec);
  assert.equal(kexGroupOfSession(Buffer.from('3005b30302011d', 'hex')), 0x1d);
  for (const bad of ['', '30', '3006b3040202', '04020000', '3003b30100', '3084ffffffff']) {
    assert.equal(kexGroupOfSession(Buffer.from(bad, 'hex')), undefined, bad);
  }
});

test("outbound: the group of the gateway's own gRPC and HTTPS connections is observed per endpoint", async (t) => {
  const certs = await devCerts(t);
  const [cert, key] = await Promise.all([
    readFile(path.join(certs.dir, 'server.pem')),
    readFile(path.join(certs.dir, 'server.key.pem')),
  ]);
  // An HTTP/2 server standing in for a peer: it answers every gRPC call with UNIMPLEMENTED.
  const server = http2.createSecureServer({ cert, key, allowHTTP1: true }, (req, res) => {
    if (req.httpVersionMajor === 2) {
      res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': '12' });
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const registry = new Registry();
  const observer = new OutboundObserver().start().register(registry);
  t.after(() => observer.stop());

  const grpc = await import('@grpc/grpc-js');
  const call = (groups: string) =>
    new Promise<void>((resolve) => {
      const client = new grpc.Client(
        `127.0.0.1:${port}`,
        grpc.credentials.createFromSecureContext(
          tls.createSecureContext({ ca: certs.ca, ecdhCurve: groups }),
        ),
        { 'grpc.ssl_target_name_override': 'localhost' },
      );
      client.makeUnaryRequest(
        '/protos.Gateway/Evaluate',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        () => {
          client.close();
          resolve();
        },
      );
    });
  await call('X25519MLKEM768');
  const endpoint = `127.0.0.1:${port}`;
  assert.deepEqual(
    observer.list().map((o) => [o.endpoint, o.group]),
    [[endpoint, 'X25519MLKEM768']],
  );
  await call('X25519');
  assert.equal(observer.list().find((o) => o.endpoint === endpoint)?.group, 'X25519');
  // HTTPS by tls.connect (the Fabric CA client's way).
  await get(`https://127.0.0.1:${port}`, '/', { ca: certs.ca, servername: 'localhost', ecdhCurve: 'P-256' });
  assert.equal(observer.list().find((o) => o.endpoint === endpoint)?.group, 'P-256');
  const metrics = await registry.metrics();
  assert.match(
    metrics,
    new RegExp(`torgo_tls_outbound_handshakes_total\\{endpoint="${endpoint}",group="X25519MLKEM768"\\} 1`),
  );
  assert.match(
    metrics,
    new RegExp(`torgo_tls_outbound_handshakes_total\\{endpoint="${endpoint}",group="X25519"\\} 1`),
  );
});

test('serve refuses unreadable or mismatched certificate files with E_CONFIG, before opening anything', async (t) => {
  const certs = await devCerts(t);
  const other = await tempDir(t, 'torgo-tls-other-');
  await createDevCertificates({ dir: other });
  const data = await tempDir(t);
  const missing = await torgo(
    'serve',
    '--data',
    data,
    '--port',
    '0',
    '--tls-cert',
    path.join(certs.dir, 'nope.pem'),
    '--tls-key',
    path.join(certs.dir, 'server.key.pem'),
  );
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /E_CONFIG: cannot read tls.cert .*nope\.pem/);
  const mismatched = await torgo(
    'serve',
    '--data',
    data,
    '--port',
    '0',
    '--tls-cert',
    path.join(certs.dir, 'server.pem'),
    '--tls-key',
    path.join(other, 'server.key.pem'),
  );
  assert.equal(mismatched.code, 2);
  assert.match(mismatched.stderr, /E_CONFIG: tls.cert .* are not a usable PEM certificate chain and its key/);
  const groups = await torgo(
    'serve',
    '--data',
    data,
    '--port',
    '0',
    ...Object.values(certs.tls).flatMap((f, i) => [i === 0 ? '--tls-cert' : '--tls-key', f]),
    '--tls-groups',
    'X25519',
    '--require-post-quantum',
  );
  assert.equal(groups.code, 2);
  assert.match(groups.stderr, /holds no post-quantum group/);
});

test('over HTTPS, slow clients are dropped as over HTTP: a stalled handshake, headers that never end', async (t) => {
  const certs = await devCerts(t);
  const { url } = await startTestGateway(t, {
    ...certs.tls,
    'limits.headersTimeoutMs': 500,
    'limits.requestTimeoutMs': 1000,
  });
  const { port } = new URL(url);
  const closedWithin = (socket: import('node:net').Socket, ms: number) =>
    new Promise<number>((resolve, reject) => {
      const t0 = Date.now();
      const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
      socket.on('error', () => {});
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(Date.now() - t0);
      });
    });
  // TCP connected, no ClientHello: the handshake timeout (the headers timeout) closes it.
  const { connect } = await import('node:net');
  const silent = connect({ host: '127.0.0.1', port: Number(port) });
  assert.ok((await closedWithin(silent, 5000)) < 5000);
  // Handshake done, headers never finished (HTTP/1.1 over the HTTP/2 server's fallback).
  const slow = tls.connect({ host: '127.0.0.1', port: Number(port), ca: certs.ca, servername: 'localhost' });
  await new Promise<void>((resolve) => slow.once('secureConnect', () => resolve()));
  let answer = '';
  slow.setEncoding('utf8');
  slow.on('data', (d: string) => {
    answer += d;
  });
  slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n');
  assert.ok((await closedWithin(slow, 5000)) < 5000);
  assert.match(answer, /^HTTP\/1\.1 408 /);
});
