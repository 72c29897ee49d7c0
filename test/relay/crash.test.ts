/**
 * Faults with real processes: a `torgo serve` gateway stopped, killed (SIGKILL) and restarted while
 * a relay takes receipts at a steady rate; a `torgo relay` process killed (SIGKILL) while the gateway
 * has committed a batch whose answer has not reached it, then restarted on its outbox. After each:
 * every acknowledged receipt is on the ledger once, in order per source, in a verifying export.
 */
import '../engine/quiet-logs.js';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startServe } from '../../bench/http.js';
import type { RelayProcess } from '../../bench/relay.js';
import { torgo } from '../cli/run.js';
import { call, createToken, freePort, service, startTestGateway, tempDir } from '../gateway/helpers.js';
import {
  assertOnLedgerInOrder,
  faultProxy,
  startRelayChild,
  startTestRelay,
  steadyProducer,
  waitFor,
} from './helpers.js';

describe('relay under process faults', () => {
  it('a gateway process stopped, killed with SIGKILL and restarted under a steady intake loses and duplicates nothing', async (t) => {
    const dir = await tempDir(t, 'torgo-relay-crash-');
    const port = String(await freePort());
    let gateway = await startServe(dir, ['--port', port]);
    t.after(() => {
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
    });
    const { token, key } = await service(gateway.url, gateway.admin);
    const auditor = await createToken(gateway.url, gateway.admin, 'auditor', ['auditor']);
    const tokenFile = path.join(dir, 'relay.token');
    await writeFile(tokenFile, token, { mode: 0o600 });
    const running = await startTestRelay(t, {
      dataDir: path.join(dir, 'outbox'),
      gateways: [gateway.url],
      tokenFile,
      batchSize: 20,
    });
    const producer = steadyProducer(() => running.url!, key, ['site-1', 'site-2', 'site-3']);
    t.after(() => producer.stop());
    const forwarded = async () => producer.count - running.relay.status().backlog.receipts;
    const grows = async (n: number, what: string) => {
      const target = producer.count + n;
      await waitFor(() => producer.count >= target, what);
    };

    await grows(30, 'receipts before the first fault');
    await waitFor(async () => (await forwarded()) >= 10, 'some receipts forwarded');
    // 1. Stopped cleanly (SIGTERM): the relay keeps accepting, its backlog grows.
    const stopped = new Promise<void>((resolve) => gateway.child.once('exit', () => resolve()));
    gateway.child.kill('SIGTERM');
    await stopped;
    await grows(30, 'receipts while the gateway is stopped');
    await waitFor(() => running.relay.status().forwarding.state === 'retrying', 'the relay to notice');
    assert.ok(running.relay.status().backlog.receipts > 0);

    // 2. Restarted on the same data and port; then killed with SIGKILL while receipts flow.
    gateway = await startServe(dir, ['--port', port]);
    await waitFor(() => running.relay.status().forwarding.consecutiveFailures === 0, 'forwarding to resume');
    await grows(30, 'receipts after the restart');
    const killed = new Promise<void>((resolve) => gateway.child.once('exit', () => resolve()));
    gateway.child.kill('SIGKILL');
    await killed;
    await grows(30, 'receipts while the gateway is dead');

    // 3. Restarted again; the producer stops; the relay drains.
    gateway = await startServe(dir, ['--port', port]);
    await grows(10, 'receipts after the second restart');
    const acknowledged = await producer.stop();
    await waitFor(() => running.relay.status().backlog.receipts === 0, 'the backlog to drain');
    assert.equal(producer.failures, 0, 'the relay acknowledged every receipt through the outages');
    await assertOnLedgerInOrder(gateway.url, auditor, acknowledged, dir);
    const exited = new Promise<void>((resolve) => gateway.child.once('exit', () => resolve()));
    gateway.child.kill('SIGTERM');
    await exited;
  });

  it('a relay process killed with SIGKILL mid-forward and restarted resends the unanswered batch: "existing", never twice', async (t) => {
    const dir = await tempDir(t, 'torgo-relay-kill-');
    const gateway = await startTestGateway(t);
    const { token, key } = await service(gateway.url, gateway.admin);
    const auditor = await createToken(gateway.url, gateway.admin, 'auditor', ['auditor']);
    const tokenFile = path.join(dir, 'relay.token');
    await writeFile(tokenFile, token, { mode: 0o600 });
    const proxy = await faultProxy(t, gateway.url);
    const args = ['--data', path.join(dir, 'outbox'), '--gateway', proxy.url, '--token-file', tokenFile];
    let relay: RelayProcess = await startRelayChild(t, [...args, '--batch-size', '10']);
    const producer = steadyProducer(() => relay.url, key, ['unit-1', 'unit-2']);
    t.after(() => producer.stop());

    await waitFor(() => producer.count >= 30, 'receipts before the kill');
    // The gateway commits the next batch, but its answer is held: the relay is killed waiting for it.
    proxy.setMode('hold');
    await waitFor(() => proxy.held >= 1, 'a batch committed and its answer held');
    relay.child.kill('SIGKILL');
    await relay.exited;
    proxy.dropHeld();
    proxy.setMode('pass');
    const before = producer.count;
    relay = await startRelayChild(t, [...args, '--batch-size', '10']);
    await waitFor(() => producer.count >= before + 30, 'receipts after the restart');
    const acknowledged = await producer.stop();
    await waitFor(
      async () => (await call(relay.url, 'GET', '/v1/status')).json.backlog.receipts === 0,
      'the backlog to drain',
    );
    const metrics = (await call(relay.url, 'GET', '/metrics')).text;
    assert.match(
      metrics,
      /torgo_relay_forwarded_total\{gateway="[^"]+",status="existing"\} [1-9]/,
      'the held batch was resent and answered "existing"',
    );
    const status = await torgo('relay', 'status', '--relay', relay.url);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^backlog +0 receipts/m);
    assert.match(status.stdout, /forwarding +idle/);
    await assertOnLedgerInOrder(gateway.url, auditor, acknowledged, dir);
  });
});
