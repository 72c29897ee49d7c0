/**
 * The Fabric driver when parts of the network are missing: fabric-gateway's own error classes
 * (as the peer's Gateway service produces them — FABRIC-NOTES: FAILED_PRECONDITION "no combination of
 * peers…", ABORTED, UNAVAILABLE) classified into transient reasons or contract refusals; and peer
 * failover with real gRPC servers: a dead port first, then a real grpc-js TLS server that is not
 * Fabric, then the first peer coming back (failback).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  CommitStatusError,
  EndorseError,
  type ErrorDetail,
  GatewayError as FabricGatewayError,
} from '@hyperledger/fabric-gateway';
import { EmbeddedCA } from '../../engine/index.js';
import { loadConfig } from '../../gateway/config.js';
import { ledgerFailure } from '../../gateway/ledger/audit.js';
import { LedgerError } from '../../gateway/ledger/driver.js';
import { answers, FabricDriver } from '../../gateway/ledger/fabric/driver.js';
import { toLedgerError } from '../../gateway/ledger/fabric/errors.js';
import { selfSignedTls, startTlsServer } from './grpc-fixtures.js';
import { freePort, tempDir } from './helpers.js';

function grpcError(code: grpc.status, message: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${message}`), {
    code,
    details: message,
    metadata: new grpc.Metadata(),
  });
}

function endorseError(code: grpc.status, message: string, details: ErrorDetail[] = []): EndorseError {
  const cause = grpcError(code, message);
  return new EndorseError({ code, details, cause, transactionId: 'tx1', message: cause.message });
}

/** Fabric 3's Gateway service on a BFT channel when fewer than a quorum of orderers took a transaction. */
const quorumLost = grpcError(
  grpc.status.UNAVAILABLE,
  'insufficient number of orderers could successfully process transaction to satisfy quorum requirement',
);

const org2 = (message: string): ErrorDetail => ({ address: 'peer0.org2:9051', mspId: 'Org2MSP', message });

test('fabric errors: transient failures are 503 with a reason; contract refusals keep their code', () => {
  const cases: [string, unknown, { code: string; status: number; stage: string; reason?: string }][] = [
    [
      'other org peer down: no endorsement layout',
      endorseError(
        grpc.status.FAILED_PRECONDITION,
        'no combination of peers can be derived which satisfy the endorsement policy',
      ),
      { code: 'E_UNAVAILABLE', status: 503, stage: 'endorse', reason: 'NO_ENDORSERS' },
    ],
    [
      'endorser aborted',
      endorseError(grpc.status.ABORTED, 'failed to endorse transaction, see attached details', [
        org2('error validating proposal: access denied'),
      ]),
      { code: 'E_UNAVAILABLE', status: 503, stage: 'endorse', reason: 'ENDORSER_UNAVAILABLE' },
    ],
    [
      'chaincode server down (ABORTED)',
      endorseError(grpc.status.ABORTED, 'failed to endorse transaction', [
        org2(
          'failed to execute transaction: could not launch chaincode torgo_1: connection error: dial tcp 127.0.0.1:9999: connect: connection refused',
        ),
      ]),
      { code: 'E_UNAVAILABLE', status: 503, stage: 'endorse', reason: 'CHAINCODE_UNAVAILABLE' },
    ],
    [
      'chaincode server down (UNKNOWN, no contract code)',
      endorseError(grpc.status.UNKNOWN, 'failed to execute transaction: timeout expired while executing'),
      { code: 'E_UNAVAILABLE', status: 503, stage: 'endorse', reason: 'CHAINCODE_UNAVAILABLE' },
    ],
    [
      'own peer down',
      endorseError(grpc.status.UNAVAILABLE, 'No connection established'),
      { code: 'E_UNAVAILABLE', status: 503, stage: 'connect', reason: 'PEER_UNAVAILABLE' },
    ],
    [
      'deadline',
      endorseError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'),
      { code: 'E_UNAVAILABLE', status: 503, stage: 'endorse', reason: 'TIMEOUT' },
    ],
    [
      'orderer down at submit',
      Object.assign(
        new FabricGatewayError({
          code: grpc.status.UNAVAILABLE,
          details: [],
          cause: grpcError(grpc.status.UNAVAILABLE, 'failed to send transaction to orderer'),
        }),
        { name: 'SubmitError', transactionId: 'tx1' },
      ),
      { code: 'E_UNAVAILABLE', status: 503, stage: 'submit', reason: 'ORDERER_UNAVAILABLE' },
    ],
    [
      'BFT: fewer than a quorum of orderers took the transaction (Fabric 3 Gateway service)',
      Object.assign(
        new FabricGatewayError({
          code: grpc.status.UNAVAILABLE,
          details: [
            {
              address: '127.0.0.1:7070',
              mspId: 'Orderer2MSP',
              message: 'rpc error: code = Unavailable desc = connection refused',
            },
            {
              address: '127.0.0.1:7080',
              mspId: 'Orderer2MSP',
              message: 'rpc error: code = Unavailable desc = connection refused',
            },
          ],
          cause: quorumLost,
          message: quorumLost.message,
        }),
        { name: 'SubmitError', transactionId: 'tx1' },
      ),
      { code: 'E_UNAVAILABLE', status: 503, stage: 'submit', reason: 'ORDERER_QUORUM_LOST' },
    ],
    [
      'contract refusal inside an ABORTED endorsement',
      endorseError(grpc.status.ABORTED, 'failed to endorse transaction', [
        org2(
          'chaincode response 500, RECEIPT_CONFLICT: receipt 01J… is already on the ledger with other bytes',
        ),
      ]),
      { code: 'E_RECEIPT_CONFLICT', status: 409, stage: 'endorse' },
    ],
    [
      'contract refusal on evaluate',
      (() => {
        const cause = grpcError(
          grpc.status.UNKNOWN,
          'evaluate call to endorser returned error: NOT_FOUND: no receipt X',
        );
        return new FabricGatewayError({ code: cause.code, details: [], cause, message: cause.message });
      })(),
      { code: 'E_NOT_FOUND', status: 404, stage: 'endorse' },
    ],
    [
      'commit status unknown',
      new CommitStatusError({
        code: grpc.status.DEADLINE_EXCEEDED,
        details: [],
        cause: grpcError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'),
        transactionId: 'tx1',
      }),
      { code: 'E_COMMIT_UNKNOWN', status: 504, stage: 'commit-status', reason: 'COMMIT_STATUS_UNKNOWN' },
    ],
    [
      'a call on a connection the driver just closed (grpc-js, not a fabric-gateway error)',
      new Error('Channel has been shut down'),
      { code: 'E_UNAVAILABLE', status: 503, stage: 'connect', reason: 'PEER_UNAVAILABLE' },
    ],
  ];
  for (const [name, error, want] of cases) {
    const mapped = toLedgerError(error);
    assert.ok(mapped instanceof LedgerError, name);
    const answer = ledgerFailure(mapped);
    assert.equal(answer.code, want.code, name);
    assert.equal(answer.status, want.status, name);
    assert.equal(answer.details?.['stage'], want.stage, name);
    if (want.reason) assert.equal(answer.details?.['reason'], want.reason, name);
    assert.equal(mapped.retryable, want.status === 503 || want.status === 504, `${name}: retryable`);
  }
});

test('fabric driver: first peer dead → moves to the next; moves back when the first answers again', async (t) => {
  const dir = await tempDir(t);
  // A self-signed TLS certificate for 127.0.0.1: both the server's certificate and the trusted CA.
  const { certFile, key, cert } = await selfSignedTls(dir);
  const deadAt = await freePort();
  const { server: second, port: secondPort } = await startTlsServer(0, key, cert);
  t.after(() => second.forceShutdown());

  const config = loadConfig({
    env: {},
    file: await (async () => {
      const f = path.join(dir, 'torgo.json');
      await writeFile(
        f,
        JSON.stringify({
          ledger: 'fabric',
          fabric: {
            peers: [
              { endpoint: `127.0.0.1:${deadAt}`, tlsCaCert: certFile, hostAlias: 'peer0.test' },
              { endpoint: `127.0.0.1:${secondPort}`, tlsCaCert: certFile, hostAlias: 'peer0.test' },
            ],
            wallet: 'wallet',
            timeoutMs: 800,
            failbackMs: 200,
          },
        }),
      );
      return f;
    })(),
  });
  const driver = await FabricDriver.open(config.fabric!);
  t.after(() => driver.close());
  assert.equal(driver.currentPeer, `127.0.0.1:${deadAt}`);

  const ca = new EmbeddedCA(path.join(dir, 'msp'));
  const issued = await ca.createIdentity({ mspId: 'Org1MSP', name: 'log-operator' });
  const identity = { label: 'log-operator', ...issued };

  // Readiness tries the first peer, moves to the second, which connects but is not Fabric.
  await assert.rejects(driver.checkReady(identity), (e: unknown) => {
    assert.ok(e instanceof LedgerError);
    assert.match(e.message, new RegExp(`peer 127\\.0\\.0\\.1:${secondPort}`));
    assert.match(e.message, /UNIMPLEMENTED/);
    return true;
  });
  assert.equal(driver.currentPeer, `127.0.0.1:${secondPort}`);
  assert.equal(driver.peerChanges[0]?.from, `127.0.0.1:${deadAt}`);
  await driver.checkReady(undefined); // the connection itself is fine now

  // The first (own-organisation) peer comes back: the driver returns to it within a few failback rounds.
  const { server: first } = await startTlsServer(deadAt, key, cert);
  t.after(() => first.forceShutdown());
  const end = Date.now() + 5000;
  while (driver.currentPeer !== `127.0.0.1:${deadAt}` && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(driver.currentPeer, `127.0.0.1:${deadAt}`);
  assert.match(driver.peerChanges.at(-1)?.why ?? '', /failback/);

  // Both down: readiness names every peer it tried.
  first.forceShutdown();
  second.forceShutdown();
  await assert.rejects(driver.checkReady(undefined), (e: unknown) => {
    assert.ok(e instanceof LedgerError);
    assert.equal(e.reason, 'PEER_UNAVAILABLE');
    assert.match(e.message, /no peer is reachable/);
    assert.match(e.message, new RegExp(`${deadAt}.*${secondPort}|${secondPort}.*${deadAt}`));
    return true;
  });
});

/**
 * A TCP proxy in front of `port` whose `silence()` stops forwarding on the connections it holds
 * without closing them: what a client sees of a peer that died while its socket stayed "open" to
 * Node (the gateway stall, docs/fabric.md) — no error, no close, no answer. New connections are
 * forwarded again (the peer came back).
 */
async function silencingProxy(port: number): Promise<{ port: number; silence(): void; close(): void }> {
  const pairs: [Socket, Socket][] = [];
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    pairs.push([client, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    silence() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close() {
      server.close();
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
    },
  };
}

test('fabric driver: a connection that stops answering while grpc-js still says READY is replaced', async (t) => {
  const dir = await tempDir(t);
  const { certFile, key, cert } = await selfSignedTls(dir);
  const { server, port } = await startTlsServer(0, key, cert);
  t.after(() => server.forceShutdown());
  const proxy = await silencingProxy(port);
  t.after(() => proxy.close());
  const f = path.join(dir, 'torgo.json');
  await writeFile(
    f,
    JSON.stringify({
      ledger: 'fabric',
      fabric: {
        peers: [{ endpoint: `127.0.0.1:${proxy.port}`, tlsCaCert: certFile, hostAlias: 'peer0.test' }],
        wallet: 'wallet',
        // A call on a silent connection would wait this long (for good, were there no deadline).
        timeoutMs: 600_000,
        livenessMs: 100,
      },
    }),
  );
  const driver = await FabricDriver.open(loadConfig({ env: {}, file: f }).fabric!);
  t.after(() => driver.close());
  const ca = new EmbeddedCA(path.join(dir, 'msp'));
  const identity = { label: 'log-operator', ...(await ca.createIdentity({ mspId: 'Org1MSP', name: 'op' })) };

  // Answered through the proxy: the server is gRPC, not Fabric.
  await assert.rejects(driver.evaluate(identity, 'getKey', ['k']), /UNIMPLEMENTED/);
  assert.equal(driver.peerChanges.length, 0, 'a connection that answers is kept');

  proxy.silence();
  // A call made now waits on the silent connection (its deadline is 10 minutes away)…
  // …and fails as soon as the connection is found dead, as a retryable PEER_UNAVAILABLE.
  const waiting = assert.rejects(driver.evaluate(identity, 'getKey', ['k']), (e: unknown) => {
    assert.ok(e instanceof LedgerError);
    assert.equal(e.reason, 'PEER_UNAVAILABLE');
    assert.equal(e.retryable, true);
    assert.match(e.message, /did not answer a call/);
    return true;
  });
  const end = Date.now() + 20_000;
  while (driver.peerChanges.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const change = driver.peerChanges[0];
  assert.ok(change, 'the silent connection was replaced');
  assert.equal(change.from, `127.0.0.1:${proxy.port}`);
  assert.equal(change.to, change.from, 'with one peer, by a new connection to it');
  assert.match(change.why, /did not answer a call/);
  await waiting;

  // The new connection carries calls again: an answer, not a wait for the 10-minute deadline.
  await assert.rejects(driver.evaluate(identity, 'getKey', ['k']), /UNIMPLEMENTED/);
});

test('fabric driver: the liveness probe counts any answer from the server, and no answer as none', async (t) => {
  const dir = await tempDir(t);
  const { key, cert } = await selfSignedTls(dir);
  const { server, port } = await startTlsServer(0, key, cert);
  t.after(() => server.forceShutdown());
  const proxy = await silencingProxy(port);
  t.after(() => proxy.close());
  const client = new grpc.Client(`127.0.0.1:${proxy.port}`, grpc.credentials.createSsl(cert), {
    'grpc.ssl_target_name_override': 'peer0.test',
  });
  t.after(() => client.close());
  assert.equal(await answers(client, 10_000), true, 'UNIMPLEMENTED is an answer');
  proxy.silence();
  assert.equal(await answers(client, 300), false, 'silence is not');
  assert.equal(
    client.getChannel().getConnectivityState(false),
    grpc.connectivityState.READY,
    'while grpc-js still calls the connection READY',
  );
});
