/** The relay's configuration: layers (defaults, file, env, flags) and the refusals at start. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadRelayConfig } from '../../relay/config.js';
import { torgo } from '../cli/run.js';
import { tempDir } from '../gateway/helpers.js';

describe('relay configuration', () => {
  it('layers file, environment and flags; paths in a file are relative to it', async (t) => {
    const dir = await tempDir(t, 'torgo-relay-config-');
    const file = path.join(dir, 'relay.json');
    await writeFile(
      file,
      JSON.stringify({ dataDir: 'outbox', gateways: ['http://127.0.0.1:1'], batchSize: 10 }),
    );
    const c = loadRelayConfig({
      file,
      env: { TORGO_RELAY_BATCH_SIZE: '20', TORGO_RELAY_GATEWAYS: 'http://127.0.0.1:2, http://127.0.0.1:3' },
      overrides: { maxReceipts: 5, port: undefined },
    });
    assert.equal(c.dataDir, path.join(dir, 'outbox'));
    assert.deepEqual(c.gateways, ['http://127.0.0.1:2', 'http://127.0.0.1:3']);
    assert.equal(c.batchSize, 20);
    assert.equal(c.maxReceipts, 5);
    assert.equal(c.port, 8087);
  });

  it('refuses a routable intake address, no gateway, half a client certificate, unknown keys', () => {
    const gateways = ['http://127.0.0.1:1'];
    assert.throws(
      () => loadRelayConfig({ overrides: { host: '0.0.0.0', gateways } }),
      /not a loopback address/,
    );
    assert.throws(() => loadRelayConfig({ overrides: {} }), /gateways: give at least one gateway URL/);
    assert.throws(() => loadRelayConfig({ overrides: { gateways: ['ftp://x'] } }), { code: 'E_CONFIG' });
    assert.throws(
      () => loadRelayConfig({ overrides: { gateways, certFile: 'c.pem' } }),
      /give both certFile and keyFile/,
    );
    assert.throws(
      () => loadRelayConfig({ overrides: { gateways, tcp: false } }),
      /with tcp off, give a socket/,
    );
    assert.throws(() => loadRelayConfig({ overrides: { gateways, color: 'red' } as never }), {
      code: 'E_CONFIG',
    });
    assert.throws(
      () => loadRelayConfig({ env: { TORGO_RELAY_PORT: 'x' }, overrides: { gateways } }),
      /expected a non-negative integer/,
    );
  });

  it('torgo relay: a bad configuration exits 2 with E_CONFIG before anything opens; status of no relay exits 2', async () => {
    const r = await torgo('relay', '--gateway', 'http://127.0.0.1:1', '--host', '192.0.2.1');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /E_CONFIG: invalid relay configuration/);
    const s = await torgo('relay', 'status', '--relay', 'http://127.0.0.1:1');
    assert.equal(s.code, 2);
    assert.match(s.stderr, /E_RELAY_UNREACHABLE/);
  });
});
