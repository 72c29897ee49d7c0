/**
 * Post-quantum transport on the hop to Fabric: the gateway's gRPC connections to its peers negotiate
 * the hybrid group X25519MLKEM768 (Fabric 2.5 built with Go ≥ 1.24 offers it). Shown three ways on
 * the live network: the gateway restricted to that group (`fabric.tlsGroups`) still connects and
 * appends; /readyz reports the group observed on each real peer connection; and, as the control,
 * restricted to classical X25519 it reports X25519, so the observation tells the two apart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generatePrivateKey, publicKeyToPem } from '../../core/index.js';
import { call, receipt } from '../gateway/helpers.js';
import { connection, GatewayProcess } from './network.js';

const client = process.env['TORGO_FABRIC_CLIENT'] ?? 'gateway';

interface Outbound {
  endpoint: string;
  group: string;
}

async function outbound(url: string): Promise<Outbound[]> {
  const ready = await call(url, 'GET', '/readyz');
  assert.equal(ready.status, 200, ready.text);
  return ready.json.details.tls.outbound as Outbound[];
}

describe(`post-quantum key exchange between the gateway and its peers (fabric.client ${client})`, {
  timeout: 300_000,
}, () => {
  let org1: GatewayProcess;
  let peer: string;

  before(async () => {
    org1 = await GatewayProcess.create('org1');
    const org = (await connection()).organizations.find((o) => o.name === 'org1');
    assert.ok(org, 'org1 in connection.json');
    peer = org.peer.endpoint;
  });
  after(async () => {
    await org1?.stop();
  });

  it('restricted to X25519MLKEM768, the gateway connects to its peer and appends; /readyz names the hybrid group', async (t) => {
    // fabric.tlsGroups applies to the gateway client's connections; fabric-network opens its own
    // with Node's defaults, which offer X25519MLKEM768 first: the observation below holds for both.
    await org1.start(client === 'gateway' ? { TORGO_FABRIC_TLS_GROUPS: 'X25519MLKEM768' } : {});
    t.after(() => org1.stop());
    await org1.ready();
    const made = await call(org1.url, 'POST', '/v1/tokens', {
      token: org1.admin,
      body: { name: `pq-${Date.now().toString(36)}`, roles: ['appender'] },
    });
    assert.equal(made.status, 201, made.text);
    const token = made.json.token as string;
    const key = generatePrivateKey('ML-DSA-65');
    const reg = await call(org1.url, 'POST', '/v1/keys', { token, body: { publicKey: publicKeyToPem(key) } });
    assert.equal(reg.status, 201, reg.text);
    const appended = await call(org1.url, 'POST', '/v1/receipts', {
      token,
      raw: receipt([key], { source: `pq-${Date.now().toString(36)}` }),
    });
    assert.equal(appended.status, 201, appended.text);

    const seen = await outbound(org1.url);
    t.diagnostic(`outbound TLS of the gateway: ${JSON.stringify(seen)}`);
    const toPeer = seen.filter((o) => o.endpoint === peer);
    assert.ok(toPeer.length === 1, `a connection to ${peer} observed: ${JSON.stringify(seen)}`);
    assert.equal(toPeer[0]!.group, 'X25519MLKEM768');
    for (const o of seen)
      assert.equal(o.group, 'X25519MLKEM768', `every TLS hop of the gateway: ${o.endpoint}`);
    const metrics = await call(org1.url, 'GET', '/metrics');
    assert.match(
      metrics.text,
      new RegExp(`torgo_tls_outbound_handshakes_total\\{endpoint="${peer}",group="X25519MLKEM768"\\} [1-9]`),
    );
  });

  it('control: restricted to classical X25519, the same connection is reported as X25519', {
    skip: client !== 'gateway',
  }, async (t) => {
    await org1.start({ TORGO_FABRIC_TLS_GROUPS: 'X25519' });
    t.after(() => org1.stop());
    await org1.ready();
    const toPeer = (await outbound(org1.url)).filter((o) => o.endpoint === peer);
    assert.equal(toPeer.length, 1);
    assert.equal(toPeer[0]!.group, 'X25519');
  });
});
