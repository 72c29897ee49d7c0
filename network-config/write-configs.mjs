// Writes what clients of the running network need, from network.env's values (passed as the
// environment by up.sh; paths are absolute):
//   connection.json      every org's peer, CA and wallet, the orderers (for tools and other clients):
//                        `orderer` the first, `orderers` every node with its admin endpoint (osnadmin)
//   gateway-<org>.json   a ready `torgo serve --config` file for that org's TORGO gateway: its own peer
//                        first, then the other orgs' peers for failover; its wallet; its CA for
//                        `torgo token create`; a shared log origin so every org's log has the same roots.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const env = process.env;
const net = path.resolve(
  env.FABRIC_NETWORK_DIR ?? path.join(import.meta.dirname, '..', '.fabric', 'network'),
);
const orgs = (env.ORGS ?? 'org1 org2 org3').split(/\s+/).filter(Boolean);
const domain = env.DOMAIN ?? 'torgo.local';
const portOf = (name) => {
  const v = Number(env[`${name}_PORT`]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name}_PORT is not set (source network.env)`);
  return v;
};
const mspId = (org) => `${org[0].toUpperCase()}${org.slice(1)}MSP`;
// raft: `orderer` of OrdererMSP; bft: orderer0, orderer1 of OrdererMSP and orderer2, orderer3 of Orderer2MSP.
const ordererNodes = (env.ORDERER_NODES ?? 'orderer').split(/\s+/).filter(Boolean);
const ordererOrg = (name) => (/^orderer[23]$/.test(name) ? 'orderer2' : 'orderer');
const ordererPort = (name, kind = '') => {
  const i = name.replace(/^orderer/, '');
  return portOf(`ORDERER${i === '' || i === '0' ? '' : i}${kind ? `_${kind}` : ''}`);
};
const orderer = (name) => ({
  name,
  org: ordererOrg(name),
  mspId: mspId(ordererOrg(name)),
  endpoint: `127.0.0.1:${ordererPort(name)}`,
  adminEndpoint: `127.0.0.1:${ordererPort(name, 'ADMIN')}`,
  // Operations service (plain HTTP on 127.0.0.1): /healthz and Prometheus /metrics, SmartBFT's view included.
  operationsEndpoint: `127.0.0.1:${ordererPort(name, 'OPS')}`,
  tlsCaCert: `${net}/organizations/${ordererOrg(name)}/msp/tlscacerts/ca.pem`,
  hostAlias: `${name}.${domain}`,
});
const peer = (org) => ({
  endpoint: `127.0.0.1:${portOf(`PEER_${org.toUpperCase()}`)}`,
  tlsCaCert: `${net}/organizations/${org}/msp/tlscacerts/ca.pem`,
  hostAlias: `peer0.${org}.${domain}`,
});
const ca = (org) => ({
  url: `https://127.0.0.1:${portOf(`CA_${org.toUpperCase()}`)}`,
  caName: `ca-${org}`,
  tlsCaCert: `${net}/ca/${org}/ca-cert.pem`,
});
const write = (file, value) =>
  writeFileSync(path.join(net, file), `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });

write('connection.json', {
  channel: env.CHANNEL,
  chaincode: env.CHAINCODE_NAME,
  fabricVersion: env.FABRIC_VERSION ?? '2.5',
  consensus: env.CONSENSUS ?? 'raft',
  orderer: orderer(ordererNodes[0]),
  orderers: ordererNodes.map(orderer),
  organizations: orgs.map((org) => ({
    name: org,
    mspId: mspId(org),
    peer: peer(org),
    ca: ca(org),
    wallet: `${net}/wallets/${org}`,
    gatewayConfig: `${net}/gateway-${org}.json`,
  })),
});

for (const org of orgs) {
  write(`gateway-${org}.json`, {
    host: '127.0.0.1',
    port: portOf(`GATEWAY_${org.toUpperCase()}`),
    dataDir: `${net}/gateways/${org}`,
    ledger: 'fabric',
    fabric: {
      peers: [org, ...orgs.filter((o) => o !== org)].map(peer),
      channel: env.CHANNEL,
      chaincode: env.CHAINCODE_NAME,
      wallet: `${net}/wallets/${org}`,
      adminIdentity: `${org}-admin`,
      ca: {
        ...ca(org),
        // The CA's bootstrap registrar (identities.sh): a loopback development network's secret.
        registrar: { enrollmentId: 'registrar', enrollmentSecret: 'registrarpw' },
      },
    },
    transparency: {
      origin: `${domain}/${env.CHANNEL}`,
      identity: `${org}-log-operator`,
    },
  });
}
