/**
 * The fabric-network driver when its peers go away, against real grpc-js TLS servers on 127.0.0.1
 * that are not Fabric (every call answers UNIMPLEMENTED) and ports nothing listens on: readiness
 * moves to the next of `fabric.peers` and back to the first (failback); a failure that stale
 * connection state explains rebuilds the connection on a peer that still answers, at most once per
 * `minResetMs`, and moves on from one that does not; the block stream ends with a retryable error
 * instead of hanging.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { EmbeddedCA } from '../../engine/index.js';
import { loadConfig } from '../../gateway/config.js';
import { LedgerError } from '../../gateway/ledger/driver.js';
import { FabricNetworkDriver } from '../../gateway/ledger/fabric/network-driver.js';
import type { WalletIdentity } from '../../gateway/ledger/wallet.js';
import { selfSignedTls, startTlsServer } from './grpc-fixtures.js';
import { freePort, tempDir } from './helpers.js';

interface Setup {
  key: Buffer;
  cert: Buffer;
  certFile: string;
  identity: WalletIdentity;
  open(ports: number[], minResetMs?: number): Promise<FabricNetworkDriver>;
}

async function setup(t: TestContext): Promise<Setup> {
  const dir = await tempDir(t);
  const { certFile, key, cert } = await selfSignedTls(dir);
  const ca = new EmbeddedCA(path.join(dir, 'msp'));
  const issued = await ca.createIdentity({ mspId: 'Org1MSP', name: 'log-operator' });
  return {
    key,
    cert,
    certFile,
    identity: { label: 'log-operator', ...issued },
    async open(ports, minResetMs) {
      const f = path.join(dir, `torgo-${ports.join('-')}.json`);
      await writeFile(
        f,
        JSON.stringify({
          ledger: 'fabric',
          fabric: {
            client: 'network',
            peers: ports.map((p) => ({
              endpoint: `127.0.0.1:${p}`,
              tlsCaCert: certFile,
              hostAlias: 'peer0.test',
            })),
            wallet: 'wallet',
            timeoutMs: 1000,
            failbackMs: 200,
          },
        }),
      );
      const driver = await FabricNetworkDriver.open(loadConfig({ env: {}, file: f }).fabric!, {
        ...(minResetMs === undefined ? {} : { minResetMs }),
      });
      t.after(() => driver.close());
      return driver;
    },
  };
}

async function eventually(what: string, ms: number, check: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('network driver: first peer dead → readiness moves to the next; back to the first when it answers', async (t) => {
  const s = await setup(t);
  const deadAt = await freePort();
  const secondAt = await freePort();
  const { server: second } = await startTlsServer(secondAt, s.key, s.cert);
  t.after(() => second.forceShutdown());
  const driver = await s.open([deadAt, secondAt]);
  assert.equal(driver.currentPeer, `127.0.0.1:${deadAt}`);

  await driver.checkReady(undefined);
  assert.equal(driver.currentPeer, `127.0.0.1:${secondAt}`);
  assert.equal(driver.connectionChanges[0]?.from, `127.0.0.1:${deadAt}`);
  assert.match(driver.connectionChanges[0]?.why ?? '', /not reachable/);

  // With an identity, the peer is reached but is not Fabric: a retryable failure naming that peer.
  await assert.rejects(driver.checkReady(s.identity), (e: unknown) => {
    assert.ok(e instanceof LedgerError, String(e));
    assert.equal(e.retryable, true);
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${secondAt}`));
    return true;
  });

  // The first (own-organisation) peer comes back: failback within a few rounds of failbackMs.
  const { server: first } = await startTlsServer(deadAt, s.key, s.cert);
  t.after(() => first.forceShutdown());
  await eventually('failback to the first peer', 5000, () => driver.currentPeer === `127.0.0.1:${deadAt}`);
  assert.match(driver.connectionChanges.at(-1)?.why ?? '', /failback/);

  // Both down: readiness names every peer it tried.
  first.forceShutdown();
  second.forceShutdown();
  await assert.rejects(driver.checkReady(undefined), (e: unknown) => {
    assert.ok(e instanceof LedgerError);
    assert.equal(e.reason, 'PEER_UNAVAILABLE');
    assert.match(e.message, /no peer is reachable/);
    return true;
  });
});

test('network driver: a connect failure on a live peer rebuilds the connection, at most once per minResetMs', async (t) => {
  const s = await setup(t);
  const port = await freePort();
  const { server } = await startTlsServer(port, s.key, s.cert);
  t.after(() => server.forceShutdown());
  // minResetMs well above what two failing calls take on a loaded machine (they took over 1.5 s once).
  const minResetMs = 4000;
  const driver = await s.open([port], minResetMs);

  // Discovery answers UNIMPLEMENTED: retryable, and the driver rebuilds its Gateways (same peer).
  const evaluate = () =>
    assert.rejects(driver.evaluate(s.identity, 'getInfo', []), (e: unknown) => {
      assert.ok(e instanceof LedgerError, String(e));
      assert.equal(e.stage, 'connect');
      assert.equal(e.retryable, true);
      return true;
    });
  await evaluate();
  await eventually('a reset', 3000, () => driver.connectionChanges.length === 1);
  assert.deepEqual(
    [driver.connectionChanges[0]!.from, driver.connectionChanges[0]!.to],
    [`127.0.0.1:${port}`, `127.0.0.1:${port}`],
  );
  const firstSeenAt = Date.now();
  // Failing again at once: no second rebuild inside minResetMs (no reconnect loop)…
  await evaluate();
  await evaluate();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(Date.now() - firstSeenAt < minResetMs, 'the calls fit inside minResetMs');
  assert.equal(driver.connectionChanges.length, 1);
  // …but after it, one more.
  await new Promise((r) => setTimeout(r, minResetMs));
  await evaluate();
  await eventually('a second reset', 3000, () => driver.connectionChanges.length === 2);
});

test('network driver: a call failing on a dead peer moves to the next; the block stream ends, retryable', async (t) => {
  const s = await setup(t);
  const deadAt = await freePort();
  const nextAt = await freePort();
  const { server: next } = await startTlsServer(nextAt, s.key, s.cert);
  t.after(() => next.forceShutdown());
  const driver = await s.open([deadAt, nextAt], 60_000);

  await assert.rejects(driver.submit(s.identity, 'appendReceipt', ['{}']), (e: unknown) => {
    assert.ok(e instanceof LedgerError, String(e));
    assert.equal(e.retryable, true);
    return true;
  });
  // Moving on from an unreachable peer is not held back by minResetMs.
  await eventually('a move to the next peer', 3000, () => driver.currentPeer === `127.0.0.1:${nextAt}`);

  // blocks() never hangs: with no Fabric peer to stream from it ends with a retryable LedgerError.
  const abort = new AbortController();
  t.after(() => abort.abort());
  const started = Date.now();
  await assert.rejects(
    (async () => {
      for await (const _ of driver.blocks(s.identity, 0, abort.signal)) {
        // nothing arrives
      }
    })(),
    (e: unknown) => {
      assert.ok(e instanceof LedgerError, String(e));
      assert.equal(e.retryable, true);
      return true;
    },
  );
  assert.ok(Date.now() - started < 10_000, 'the stream failed promptly');
});
