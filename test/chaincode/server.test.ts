/**
 * The deployable package: `npm run build:chaincode`'s bundle (tsc output + core, one CommonJS
 * file) keeps the decorator metadata, and `fabric-chaincode-node server` — how a peer runs it as
 * chaincode-as-a-service — starts on it and listens.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import './quiet-logs.js';
import { shimInternals } from '../../chaincode/fabric-internals.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const bundleDir = path.join(root, 'chaincode', 'dist');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('chaincode package', () => {
  // The root build (pretest) compiled dist/chaincode; bundle it as `npm run build:chaincode` does.
  execFileSync(process.execPath, [path.join(root, 'chaincode', 'build.mjs')], { cwd: root, stdio: 'pipe' });
  const pkg = JSON.parse(readFileSync(path.join(bundleDir, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;

  it('has a package.json a peer can install and start', () => {
    assert.equal(pkg['name'], 'torgo-audit-chaincode');
    assert.equal(pkg['main'], 'index.cjs');
    assert.deepEqual(pkg['scripts'], {
      start: 'fabric-chaincode-node start',
      server: 'fabric-chaincode-node server',
    });
    assert.deepEqual(pkg['dependencies'], { 'fabric-contract-api': '2.5.8', 'fabric-shim': '2.5.8' });
    assert.deepEqual(pkg['overrides'], { 'class-transformer': '0.4.0' });
    const bundle = readFileSync(path.join(bundleDir, 'index.cjs'), 'utf8');
    assert.match(bundle, /require\("fabric-contract-api"\)/, 'fabric-contract-api stays external');
    assert.doesNotMatch(bundle, /from ['"]\.\.\/core/, 'core is inlined');
  });

  it('the bundle exports contracts whose decorator metadata survived bundling', () => {
    const require = createRequire(path.join(bundleDir, 'index.cjs'));
    const mod = require('./index.cjs') as {
      contracts: unknown[];
      serializers: { transaction: string; serializers: Record<string, unknown> };
    };
    assert.equal(mod.contracts.length, 1);
    // What fabric-shim's bootstrap reads from the main module: the serializer queries answer through.
    assert.equal(typeof mod.serializers.serializers[mod.serializers.transaction], 'function');
    // The dispatcher and serializer of the fabric-shim the bundle resolves (this checkout's, pinned).
    assert.equal(require.resolve('fabric-shim'), createRequire(import.meta.url).resolve('fabric-shim'));
    const ChaincodeFromContract = shimInternals().ChaincodeFromContract as new (
      ...args: unknown[]
    ) => {
      metadata: {
        contracts: Record<string, { transactions: { name: string; parameters: { name: string }[] }[] }>;
      };
    };
    const { JSONSerializer } = shimInternals();
    const cc = new ChaincodeFromContract(
      [...mod.contracts],
      {
        transaction: mod.serializers.transaction,
        serializers: { ...mod.serializers.serializers, jsonSerializer: JSONSerializer },
      },
      {},
      'torgo',
      '0',
    );
    const append = cc.metadata.contracts['AuditContract']!.transactions.find(
      (t) => t.name === 'appendReceipt',
    );
    assert.deepEqual(
      append?.parameters.map((p) => p.name),
      ['muText'],
    );
  });

  it('fabric-chaincode-node server starts on the bundle and listens', async (t) => {
    const port = await freePort();
    const cli = createRequire(import.meta.url).resolve('fabric-shim/cli.js');
    const child = spawn(
      process.execPath,
      [cli, 'server', '--chaincode-address', `127.0.0.1:${port}`, '--chaincode-id', 'torgo:1'],
      {
        cwd: bundleDir,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, CORE_CHAINCODE_LOGGING_LEVEL: 'ERROR' },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    t.after(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    const deadline = Date.now() + 20_000;
    let listening = false;
    while (!listening && Date.now() < deadline && child.exitCode === null) {
      listening = await canConnect(port);
      if (!listening) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(listening, `the chaincode server did not listen on 127.0.0.1:${port}: ${stderr}`);
    child.kill('SIGTERM');
    await exited;
  });
});
