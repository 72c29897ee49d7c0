/**
 * The fabric-network (2.2) driver without a network: its error mapping on fabric-network's own error
 * classes and on endorsement failures shaped as fabric-network/fabric-common build them (peer answers
 * nested in `responses`, `errors`, `endorsements`), through to the gateway's HTTP codes; block
 * events decoded by fabric-common's BlockDecoder give the same LogBlock as blocks.ts gives
 * fabric-gateway's; the config keys of both Fabric clients and the CA.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { common } from '@hyperledger/fabric-protos';
import fabricCommon from 'fabric-common';
import { TimeoutError } from 'fabric-network';
import { networkInternals } from '../../chaincode/fabric-internals.js';
import { ConfigError, loadConfig } from '../../gateway/config.js';
import { ledgerFailure } from '../../gateway/ledger/audit.js';
import { LedgerError } from '../../gateway/ledger/driver.js';
import { logBlockOfFabric } from '../../gateway/ledger/fabric/blocks.js';
import {
  connectionProfileOf,
  logBlockOfBlockEvent,
  toLedgerError,
} from '../../gateway/ledger/fabric/network-driver.js';
import { sampleBlock } from './fabric-block-fixture.js';
import { tempDir } from './helpers.js';

const { newFullBlockEvent, TransactionError, FabricError } = networkInternals();

const CONFLICT =
  'RECEIPT_CONFLICT: receipt 01M8S0Q1AENNPMJ97HVQV102CY is already on the ledger with digest sha256:aa; this one has digest sha256:bb';

/** transaction.js newEndorsementError: one line per peer, the answers kept on the error. */
function endorsementError(answers: { peer: string; status: number; message: string }[]): Error {
  const e = new Error(
    [
      'No valid responses from any peers. Errors:',
      ...answers.map((a) => `peer=${a.peer}, status=${a.status}, message=${a.message}`),
    ].join('\n    '),
  );
  return Object.assign(e, {
    responses: answers.map((a) => ({
      connection: { name: a.peer },
      response: { status: a.status, message: a.message },
    })),
    errors: [],
  });
}

function mapped(e: unknown, stage: 'endorse' | 'evaluate' = 'endorse'): LedgerError {
  const m = toLedgerError(e, stage);
  assert.ok(m instanceof LedgerError, `a LedgerError, not ${String(m)}`);
  return m;
}

test('endorsement refused by the contract: its CODE survives to the HTTP answer', () => {
  const e = endorsementError([
    { peer: '127.0.0.1:9151', status: 500, message: CONFLICT },
    { peer: '127.0.0.1:7151', status: 500, message: CONFLICT },
  ]);
  const l = mapped(e);
  assert.equal(l.stage, 'endorse');
  assert.equal(l.message, CONFLICT);
  assert.equal(l.retryable, false);
  const g = ledgerFailure(l);
  assert.equal(g.code, 'E_RECEIPT_CONFLICT');
  assert.equal(g.status, 409);

  // Discovery's handler nests the peers' answers under an "Endorsement has failed" error.
  const viaDiscovery = Object.assign(
    new Error(
      'No valid responses from any peers. Errors:\n    peer=undefined, status=grpc, message=Endorsement has failed',
    ),
    {
      responses: [],
      errors: [
        Object.assign(new Error('Endorsement has failed'), {
          endorsements: [{ response: { status: 500, message: 'KEY_UNKNOWN: no key 12ab' } }],
        }),
      ],
    },
  );
  const k = ledgerFailure(mapped(viaDiscovery));
  assert.equal(k.code, 'E_KEY_UNKNOWN');

  // evaluate: SingleQueryHandler copies the peer's answer onto the error.
  const query = Object.assign(new Error('peer error response: NOT_FOUND: no receipt 01X'), {
    status: 500,
    message: 'peer error response: NOT_FOUND: no receipt 01X',
    isEndorsed: false,
  });
  const n = ledgerFailure(mapped(query, 'evaluate'));
  assert.equal(n.code, 'E_NOT_FOUND');
  assert.equal(n.status, 404);
});

test('no peer answered, ordering refused, commit invalid or unknown: stages and retries as driver.ts', () => {
  // Peers down or discovery without a plan: nothing said about the transaction → connect, retry, 503.
  const down = Object.assign(
    new Error(
      'No valid responses from any peers. Errors:\n    peer=undefined, status=grpc, message=Peer 127.0.0.1:9151 is not connected',
    ),
    {
      responses: [],
      errors: [new Error('Peer 127.0.0.1:9151 is not connected')],
    },
  );
  const d = mapped(down);
  assert.equal(d.stage, 'connect');
  assert.equal(d.retryable, true);
  assert.equal(ledgerFailure(d).code, 'E_UNAVAILABLE');
  const q = mapped(
    new FabricError('Query failed. Errors: ["Error: 14 UNAVAILABLE: No connection established"]'),
    'evaluate',
  );
  assert.equal(q.stage, 'connect');
  assert.equal(ledgerFailure(q).status, 503);

  // A peer that ran the proposal and refused without a contract code: not retryable, 500.
  const refused = mapped(endorsementError([{ peer: 'p', status: 500, message: 'access denied' }]));
  assert.equal(refused.stage, 'endorse');
  assert.equal(refused.retryable, false);
  assert.equal(ledgerFailure(refused).code, 'E_INTERNAL');

  const ordering = mapped(
    new Error('Failed to commit transaction %ab12cd, orderer response status: SERVICE_UNAVAILABLE'),
  );
  assert.equal(ordering.stage, 'submit');
  assert.equal(ordering.txId, 'ab12cd');
  assert.equal(ordering.reason, 'SERVICE_UNAVAILABLE');
  assert.equal(ordering.retryable, true);

  const mvcc = mapped(
    new TransactionError({
      message: 'Commit of transaction ab12cd failed on peer p with status MVCC_READ_CONFLICT',
      transactionId: 'ab12cd',
      transactionCode: 'MVCC_READ_CONFLICT',
    }),
  );
  assert.equal(mvcc.stage, 'commit');
  assert.equal(mvcc.reason, 'MVCC_READ_CONFLICT');
  assert.equal(mvcc.retryable, true);
  assert.equal(ledgerFailure(mvcc).code, 'E_COMMIT_CONFLICT');
  const endorsementPolicy = mapped(
    new TransactionError({
      message: 'x',
      transactionId: 'ab12cd',
      transactionCode: 'ENDORSEMENT_POLICY_FAILURE',
    }),
  );
  assert.equal(endorsementPolicy.retryable, false);

  const timeout = mapped(
    new TimeoutError({
      message: 'Event strategy not satisfied within the timeout period of 30 seconds',
      transactionId: 'ab12cd',
    }),
  );
  assert.equal(timeout.stage, 'commit-status');
  assert.equal(timeout.retryable, true);
  const t = ledgerFailure(timeout);
  assert.equal(t.code, 'E_COMMIT_UNKNOWN');
  assert.equal(t.status, 504);
});

test('a full block through fabric-network reads as the same LogBlock as through fabric-gateway', () => {
  const bytes = sampleBlock();

  const viaGateway = logBlockOfFabric(common.Block.deserializeBinary(bytes), 'torgo');
  // What fabric-common's EventService hands fabric-network for a 'full' block listener.
  // biome-ignore lint/suspicious/noExplicitAny: BlockDecoder is untyped in fabric-common's typings.
  const { BlockDecoder } = fabricCommon as any;
  const decoded = BlockDecoder.decode(Buffer.from(bytes));
  const event = newFullBlockEvent({ block: decoded, blockNumber: decoded.header.number } as Parameters<
    typeof newFullBlockEvent
  >[0]);
  const viaNetwork = logBlockOfBlockEvent(event, 'torgo');
  assert.equal(viaNetwork.number, 7);
  const plain = (b: typeof viaGateway) =>
    b.transactions.map((t) => [
      t.txId,
      t.valid,
      t.event?.name ?? null,
      t.event ? Buffer.from(t.event.payload).toString() : null,
    ]);
  assert.deepEqual(plain(viaNetwork), plain(viaGateway));
  assert.equal(plain(viaNetwork).length, 3);

  // fabric-common swallows a transaction it cannot decode (logs it, yields no actions): a valid
  // endorser transaction without actions must stop the log, never pass as "no event".
  const broken = structuredClone(decoded);
  broken.data.data[0].payload.data.actions = [];
  const brokenEvent = newFullBlockEvent({ block: broken, blockNumber: broken.header.number } as Parameters<
    typeof newFullBlockEvent
  >[0]);
  assert.throws(() => logBlockOfBlockEvent(brokenEvent, 'torgo'), /tx-a.*no actions/);
});

test('config: fabric.client, adminIdentity and ca defaults, env vars, relative paths, registrar shapes', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'torgo.json');
  await writeFile(
    file,
    JSON.stringify({
      ledger: 'fabric',
      fabric: {
        peerEndpoint: '127.0.0.1:7051',
        tlsCaCert: 'tls/ca.pem',
        wallet: 'wallet',
        connectionProfile: 'profile.json',
        ca: {
          url: 'https://127.0.0.1:7054',
          tlsCaCert: 'ca/ca-cert.pem',
          registrar: { identity: 'registrar' },
        },
      },
    }),
  );
  const c = loadConfig({ file, env: {} });
  assert.equal(c.fabric!.client, 'gateway');
  assert.equal(c.fabric!.adminIdentity, 'admin');
  assert.equal(c.fabric!.connectionProfile, path.join(dir, 'profile.json'));
  assert.equal(c.fabric!.ca!.tlsCaCert, path.join(dir, 'ca/ca-cert.pem'));
  assert.equal(c.fabric!.ca!.affiliation, '');
  assert.deepEqual(c.fabric!.ca!.registrar, { identity: 'registrar' });

  const env = loadConfig({
    env: {
      TORGO_LEDGER: 'fabric',
      TORGO_FABRIC_PEER_ENDPOINT: '127.0.0.1:7051',
      TORGO_FABRIC_TLS_CA_CERT: '/tls.pem',
      TORGO_FABRIC_WALLET: '/wallet',
      TORGO_FABRIC_CLIENT: 'network',
      TORGO_FABRIC_ADMIN_IDENTITY: 'org1-admin',
      TORGO_FABRIC_CA_URL: 'https://127.0.0.1:7054',
      TORGO_FABRIC_CA_NAME: 'ca-org1',
      TORGO_FABRIC_CA_REGISTRAR_ID: 'registrar',
      TORGO_FABRIC_CA_REGISTRAR_SECRET: 'registrarpw',
    },
  });
  assert.equal(env.fabric!.client, 'network');
  assert.equal(env.fabric!.adminIdentity, 'org1-admin');
  assert.deepEqual(env.fabric!.ca!.registrar, { enrollmentId: 'registrar', enrollmentSecret: 'registrarpw' });

  const base = {
    TORGO_LEDGER: 'fabric',
    TORGO_FABRIC_PEER_ENDPOINT: '127.0.0.1:7051',
    TORGO_FABRIC_TLS_CA_CERT: '/tls.pem',
    TORGO_FABRIC_WALLET: '/wallet',
    TORGO_FABRIC_CA_URL: 'https://127.0.0.1:7054',
  };
  assert.throws(
    () => loadConfig({ env: { ...base, TORGO_FABRIC_CLIENT: 'legacy' } }),
    (e: unknown) => e instanceof ConfigError && /fabric\.client/.test(e.message),
  );
  for (const extra of [
    { TORGO_FABRIC_CA_REGISTRAR_ID: 'registrar' },
    {
      TORGO_FABRIC_CA_REGISTRAR_ID: 'registrar',
      TORGO_FABRIC_CA_REGISTRAR_SECRET: 'registrarpw',
      TORGO_FABRIC_CA_REGISTRAR_IDENTITY: 'org1-registrar',
    },
  ]) {
    assert.throws(
      () => loadConfig({ env: { ...base, ...extra } }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /fabric\.ca\.registrar: give either/.test(e.message) &&
        !e.message.includes('registrarpw'),
    );
  }
});

test('connection profile built from the config: one peer, its TLS CA and host alias', () => {
  const config = loadConfig({
    env: {},
    overrides: {
      ledger: 'fabric',
      'fabric.peerEndpoint': '127.0.0.1:7151',
      'fabric.tlsCaCert': '/tls.pem',
      'fabric.wallet': '/wallet',
      'fabric.hostAlias': 'peer0.org1.torgo.local',
    },
  }).fabric!;
  const profile = connectionProfileOf(config, 'Org1MSP', 'PEM') as {
    client: { organization: string };
    organizations: Record<string, { mspid: string; peers: string[] }>;
    peers: Record<string, { url: string; tlsCACerts: { pem: string }; grpcOptions: Record<string, string> }>;
  };
  assert.equal(profile.client.organization, 'Org1MSP');
  assert.deepEqual(profile.organizations['Org1MSP'], { mspid: 'Org1MSP', peers: ['peer0.org1.torgo.local'] });
  const p = profile.peers['peer0.org1.torgo.local']!;
  assert.equal(p.url, 'grpcs://127.0.0.1:7151');
  assert.equal(p.tlsCACerts.pem, 'PEM');
  assert.equal(p.grpcOptions['ssl-target-name-override'], 'peer0.org1.torgo.local');
});

test('contract server down: the peers’ answers map to a retryable CHAINCODE_UNAVAILABLE (503), not a refusal', () => {
  const e = endorsementError([
    {
      peer: '127.0.0.1:7351',
      status: 500,
      message:
        'failed to execute transaction: could not launch chaincode torgo_1: connection error: dial tcp 127.0.0.1:9999: connect: connection refused',
    },
  ]);
  const l = mapped(e);
  assert.equal(l.retryable, true);
  assert.equal(l.reason, 'CHAINCODE_UNAVAILABLE');
  const answer = ledgerFailure(l);
  assert.equal(answer.status, 503);
});

test('every commit event service failing after ordering: the outcome is unknown (retryable commit-status)', () => {
  const l = mapped(Object.assign(new Error('No successful events received'), { transactionId: 'tx9' }));
  assert.equal(l.stage, 'commit-status');
  assert.equal(l.reason, 'COMMIT_STATUS_UNKNOWN');
  assert.equal(l.retryable, true);
});
