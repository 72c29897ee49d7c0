/** Configuration: defaults, file, environment and flags in that order; every problem reported at once. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  ConfigError,
  DEFAULT_CONFIG,
  type GatewayConfig,
  loadConfig,
  peersOf,
} from '../../gateway/config.js';
import { fromContractMessage } from '../../gateway/errors.js';
import { blockNumberOf, heightOf } from '../../gateway/ledger/fabric/protobuf.js';
import { tempDir } from './helpers.js';

test('defaults: 127.0.0.1:8080, ./data, embedded', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.equal(c.dataDir, path.resolve('data'));
  assert.equal(c.ledger, 'embedded');
  assert.deepEqual(c.limits, DEFAULT_CONFIG.limits);
});

test('file < environment < flags; relative paths in a file are relative to it', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'torgo.json');
  await writeFile(
    file,
    JSON.stringify({
      port: 9000,
      dataDir: 'ledger-data',
      limits: { batchItems: 20 },
      log: { level: 'warn' },
    }),
  );
  const fromFile = loadConfig({ file, env: {} });
  assert.equal(fromFile.port, 9000);
  assert.equal(fromFile.dataDir, path.join(dir, 'ledger-data'));
  assert.equal(fromFile.limits.batchItems, 20);
  assert.equal(fromFile.limits.bodyBytes, DEFAULT_CONFIG.limits.bodyBytes, 'unset keys keep their defaults');
  const fromEnv = loadConfig({ env: { TORGO_CONFIG: file, TORGO_PORT: '9001', TORGO_TRUST_PROXY: 'true' } });
  assert.equal(fromEnv.port, 9001);
  assert.equal(fromEnv.trustProxy, true);
  assert.equal(fromEnv.log.level, 'warn');
  const fromFlags = loadConfig({
    file,
    env: { TORGO_PORT: '9001' },
    overrides: { port: 9002, dataDir: undefined },
  });
  assert.equal(fromFlags.port, 9002);
});

test('invalid settings are refused with every problem named', async (t) => {
  assert.throws(
    () => loadConfig({ env: { TORGO_PORT: 'eighty', TORGO_LOG_LEVEL: 'loud' } }),
    (e: unknown) => e instanceof ConfigError && /TORGO_PORT=eighty: expected an integer/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ env: { TORGO_PORT: '70000', TORGO_LOG_LEVEL: 'loud', TORGO_MAX_BATCH_ITEMS: '0' } }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /port/.test(e.message) &&
      /log\.level/.test(e.message) &&
      /limits\.batchItems/.test(e.message),
  );
  assert.throws(() => loadConfig({ env: { TORGO_LEDGER: 'fabric' } }), /fabric section/);
  // An export thread's heap: 0 (exports on the gateway's thread) or enough for a thread to start.
  assert.equal(loadConfig({ env: {} }).transparency.exportThreadHeapMiB, 64);
  assert.equal(
    loadConfig({ env: { TORGO_LOG_EXPORT_THREAD_HEAP_MIB: '0' } }).transparency.exportThreadHeapMiB,
    0,
  );
  assert.equal(
    loadConfig({ env: { TORGO_LOG_EXPORT_THREAD_HEAP_MIB: '16' } }).transparency.exportThreadHeapMiB,
    16,
  );
  assert.throws(
    () => loadConfig({ env: { TORGO_LOG_EXPORT_THREAD_HEAP_MIB: '8' } }),
    (e: unknown) => e instanceof ConfigError && /transparency\.exportThreadHeapMiB/.test(e.message),
  );
  const dir = await tempDir(t);
  const file = path.join(dir, 'bad.json');
  await writeFile(file, '{"port": 1, "colour": "blue"}');
  assert.throws(() => loadConfig({ file, env: {} }), /additional properties|colour/);
  await writeFile(file, '{not json');
  assert.throws(() => loadConfig({ file, env: {} }), /not valid JSON/);
  assert.throws(
    () => loadConfig({ file: path.join(dir, 'missing.json'), env: {} }),
    /cannot read config file/,
  );
});

test('fabric settings from the environment, with defaults for channel, chaincode and timeout', () => {
  const c = loadConfig({
    env: {
      TORGO_LEDGER: 'fabric',
      TORGO_FABRIC_PEER_ENDPOINT: '127.0.0.1:7051',
      TORGO_FABRIC_TLS_CA_CERT: '/etc/torgo/tls-ca.pem',
      TORGO_FABRIC_WALLET: '/etc/torgo/wallet',
    },
  });
  assert.deepEqual(c.fabric, {
    client: 'gateway',
    channel: 'torgo',
    chaincode: 'torgo',
    timeoutMs: 30000,
    failbackMs: 30000,
    livenessMs: 2000,
    adminIdentity: 'admin',
    peerEndpoint: '127.0.0.1:7051',
    tlsCaCert: '/etc/torgo/tls-ca.pem',
    wallet: '/etc/torgo/wallet',
  });
  assert.deepEqual(peersOf(c.fabric!), [{ endpoint: '127.0.0.1:7051', tlsCaCert: '/etc/torgo/tls-ca.pem' }]);
});

test('fabric.peers: several peers from a file (paths relative to it); neither or both forms refused', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'torgo.json');
  const peers = [
    { endpoint: '127.0.0.1:7051', tlsCaCert: 'org1/tls-ca.pem', hostAlias: 'peer0.org1.example.com' },
    { endpoint: '127.0.0.1:9051', tlsCaCert: '/abs/org2/tls-ca.pem' },
  ];
  await writeFile(
    file,
    JSON.stringify({ ledger: 'fabric', fabric: { peers, wallet: 'wallet', failbackMs: 5000 } }),
  );
  const c = loadConfig({ file, env: {} });
  assert.deepEqual(peersOf(c.fabric!), [
    { ...peers[0], tlsCaCert: path.join(dir, 'org1/tls-ca.pem') },
    peers[1],
  ]);
  assert.equal(c.fabric!.failbackMs, 5000);
  assert.throws(
    () => loadConfig({ env: { TORGO_LEDGER: 'fabric', TORGO_FABRIC_WALLET: '/w' } }),
    (e: unknown) => e instanceof ConfigError && /fabric\.peers, or fabric\.peerEndpoint/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ file, env: { TORGO_FABRIC_PEER_ENDPOINT: '127.0.0.1:1' } }),
    (e: unknown) => e instanceof ConfigError && /not both/.test(e.message),
  );
});

test('resilience settings: defaults and environment', () => {
  const d = loadConfig({ env: {} });
  assert.equal(d.limits.retryBudgetMs, 5000);
  assert.equal(d.transparency.stallAfterMs, 15000);
  assert.equal(d.transparency.catchUpTimeoutMs, 10000);
  assert.equal(d.transparency.reconnectMaxBackoffMs, 5000);
  const c = loadConfig({
    env: {
      TORGO_RETRY_BUDGET_MS: '0',
      TORGO_LOG_STALL_AFTER_MS: '2000',
      TORGO_LOG_CATCH_UP_TIMEOUT_MS: '300',
      TORGO_LOG_RECONNECT_MAX_BACKOFF_MS: '1000',
    },
  });
  assert.equal(c.limits.retryBudgetMs, 0);
  assert.equal(c.transparency.stallAfterMs, 2000);
  assert.equal(c.transparency.catchUpTimeoutMs, 300);
  assert.equal(c.transparency.reconnectMaxBackoffMs, 1000);
});

test('contract messages map by code, never by prose', () => {
  const conflict = fromContractMessage('RECEIPT_CONFLICT: receipt X is already on the ledger');
  assert.equal(conflict?.code, 'E_RECEIPT_CONFLICT');
  assert.equal(conflict?.status, 409);
  const invalid = fromContractMessage('RECEIPT_INVALID: E_SIGNATURE_INVALID: signature by k does not verify');
  assert.equal(invalid?.code, 'E_SIGNATURE_INVALID');
  assert.equal(invalid?.status, 422);
  assert.equal(invalid?.details?.['contractCode'], 'RECEIPT_INVALID');
  const internal = fromContractMessage('INTERNAL: TypeError: secret detail');
  assert.equal(internal?.code, 'E_INTERNAL');
  assert.ok(!internal?.message.includes('secret'), 'internal detail does not reach clients');
  assert.equal(fromContractMessage('the receipt conflicts with another'), undefined);
  assert.equal(fromContractMessage('NOT_A_CODE: whatever'), undefined);
});

test('qscc answers: block number and height decoded from protobuf', () => {
  // common.Block { header: { number: 300 } } and common.BlockchainInfo { height: 301 }.
  const header = Uint8Array.from([0x08, 0xac, 0x02]);
  const block = Uint8Array.from([0x0a, header.length, ...header, 0x12, 0x00]);
  assert.equal(blockNumberOf(block), 300);
  assert.equal(heightOf(Uint8Array.from([0x08, 0xad, 0x02, 0x12, 0x01, 0x00])), 301);
  assert.equal(blockNumberOf(Uint8Array.from([0x0a, 0x00])), 0);
});

test('runtime sizes: young generation and LevelDB caches from the environment, bounds checked', () => {
  const sizes: [string, (c: GatewayConfig) => number, number][] = [
    ['TORGO_NODE_MAX_SEMI_SPACE_MIB', (c) => c.node.maxSemiSpaceMiB, 16],
    ['TORGO_EMBEDDED_CACHE_MIB', (c) => c.embedded.cacheMiB, 64],
    ['TORGO_EMBEDDED_MAX_OPEN_FILES', (c) => c.embedded.maxOpenFiles, 4000],
    ['TORGO_EMBEDDED_WRITE_BUFFER_MIB', (c) => c.embedded.writeBufferMiB, 64],
  ];
  const set = loadConfig({ env: Object.fromEntries(sizes.map(([name, , v]) => [name, String(v)])) });
  for (const [name, read, v] of sizes) assert.equal(read(set), v, name);
  assert.equal(loadConfig({ env: {} }).node.maxSemiSpaceMiB, 8, 'docs/operations.md says 8');
  assert.equal(loadConfig({ env: {} }).embedded.writeBufferMiB, 8, 'docs/operations.md says 8');
  assert.throws(
    () =>
      loadConfig({
        env: {
          TORGO_NODE_MAX_SEMI_SPACE_MIB: '-1',
          TORGO_EMBEDDED_CACHE_MIB: '4',
          TORGO_EMBEDDED_WRITE_BUFFER_MIB: '2',
        },
      }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /node\.maxSemiSpaceMiB/.test(e.message) &&
      /embedded\.cacheMiB/.test(e.message) &&
      /embedded\.writeBufferMiB/.test(e.message),
  );
});
