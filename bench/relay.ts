/**
 * The store-and-forward relay (`torgo relay`, docs/relay.md), as processes, as deployed: a `torgo
 * serve` gateway and a `torgo relay` child, this process the client (node:http, keep-alive).
 *
 * - the gateway's own append rate, sequential batches of 100 over HTTP: exactly what the relay's
 *   forwarder sends, so the limit its forward rate should approach;
 * - relay intake, durable (fsync before the answer), single receipts at c=16 and batches of 100;
 * - a backlog of `--relay-backlog` receipts (100,000 by default) taken while the gateway is down,
 *   then the time from the gateway's restart to an empty outbox, and the forward rate it implies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drive } from './engine.js';
import { median, type Row, type Suite } from './harness.js';
import { appenderWithKey, request, startServe } from './http.js';
import { benchKey, signedReceipts } from './receipts.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'torgo.js');
/** The relay's default batch size (relay/config.ts): the gateway alone is driven the same way. */
const BATCH = 50;
/** Receipts signed and handed over at a time (bounds this process's memory for large backlogs). */
const CHUNK = 5000;

export interface RelayProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Resolves when the process ended. */
  readonly exited: Promise<void>;
}

/** `torgo relay ARGS` in a child process (port 0); resolves once it listens. Shared with the tests. */
export function startRelayProcess(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<RelayProcess> {
  const child = spawn(process.execPath, [BIN, 'relay', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TORGO_RELAY_CONFIG: '', ...env },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let err = '';
    // `torgo relay` says where it listens on stderr, whatever the log level.
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /^relay: intake (http:\/\/127\.0\.0\.1:\d+)/m.exec(err);
      if (m) {
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        resolve({ child, url: m[1]!, exited });
      }
    });
    child.stdout!.resume();
    child.once('exit', (code) => reject(new Error(`torgo relay exited ${code}: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

function expect(status: number, answer: { status: number; text: string }, what: string): void {
  if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 300)}`);
}

/** Posts `receipts` as sequential batches of 100 to `route`; returns the elapsed ms. */
async function postBatches(
  agent: http.Agent,
  url: string,
  token: string,
  route: string,
  receipts: readonly string[],
): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < receipts.length; i += BATCH) {
    const body = JSON.stringify({ receipts: receipts.slice(i, i + BATCH) });
    const r = await request(agent, url, 'POST', route, token, body);
    expect(200, r, route);
    if (/"failed":[1-9]/.test(r.text)) throw new Error(`${route}: items failed: ${r.text.slice(0, 300)}`);
  }
  return performance.now() - started;
}

async function backlogOf(agent: http.Agent, relayUrl: string): Promise<number> {
  const r = await request(agent, relayUrl, 'GET', '/v1/status', '');
  return (JSON.parse(r.text) as { backlog: { receipts: number } }).backlog.receipts;
}

export const relaySuite: Suite = async ({ smoke, relayBacklog, scratch }) => {
  const backlog = relayBacklog ?? (smoke ? 200 : 100_000);
  const perRun = smoke ? 100 : 2000;
  const runs = smoke ? 1 : 3;
  const rows: Row[] = [];
  const dir = await mkdtemp(join(scratch ?? tmpdir(), 'torgo-bench-relay-'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let gateway = await startServe(dir);
  // Restarts listen where the relay expects the gateway.
  const port = new URL(gateway.url).port;
  let relay: RelayProcess | undefined;
  try {
    const token = await appenderWithKey(agent, gateway.url, gateway.admin, 'relay', benchKey);

    // 1. The gateway alone, as the forwarder drives it.
    const gatewayRates: number[] = [];
    for (let run = 0; run < runs; run++) {
      const receipts = await signedReceipts(perRun);
      const ms = await postBatches(agent, gateway.url, token, '/v1/receipts/batch', receipts);
      gatewayRates.push((perRun * 1000) / ms);
    }
    const gatewayRate = median(gatewayRates);
    rows.push({
      suite: 'relay',
      name: `gateway alone: POST /v1/receipts/batch of ${BATCH}, sequential`,
      value: gatewayRate,
      unit: 'receipts/s',
    });

    // 2. The gateway goes down; the relay takes everything durably.
    await stop(gateway.child);
    const tokenFile = join(dir, 'relay.token');
    await writeFile(tokenFile, token, { mode: 0o600 });
    relay = await startRelayProcess(
      [
        '--data',
        join(dir, 'outbox'),
        '--gateway',
        gateway.url,
        '--token-file',
        tokenFile,
        '--log-level',
        'warn',
      ],
      { TORGO_RELAY_MAX_BACKOFF_MS: '250' },
    );
    const relayUrl = relay.url;
    const singleRates: number[] = [];
    for (let run = 0; run < runs; run++) {
      const receipts = await signedReceipts(perRun);
      const { elapsed } = await drive(perRun, 16, async (i) => {
        const r = await request(agent, relayUrl, 'POST', '/v1/receipts', '', receipts[i]!, 'text/markdown');
        expect(202, r, 'relay intake');
      });
      singleRates.push((perRun * 1000) / elapsed);
    }
    rows.push({
      suite: 'relay',
      name: 'relay intake: POST /v1/receipts, c=16 (durable)',
      value: median(singleRates),
      unit: 'receipts/s',
      limit: { name: 'gateway alone, batches', value: gatewayRate },
    });
    const filled = runs * perRun;
    let batchMs = 0;
    for (let done = filled; done < backlog; done += CHUNK) {
      const receipts = await signedReceipts(Math.min(CHUNK, backlog - done));
      batchMs += await postBatches(agent, relayUrl, '', '/v1/receipts/batch', receipts);
    }
    const total = Math.max(backlog, filled);
    if (backlog > filled) {
      rows.push({
        suite: 'relay',
        name: `relay intake: POST /v1/receipts/batch of ${BATCH} (durable)`,
        value: ((backlog - filled) * 1000) / batchMs,
        unit: 'receipts/s',
        limit: { name: 'gateway alone, batches', value: gatewayRate },
      });
    }
    const queued = await backlogOf(agent, relayUrl);
    if (queued !== total) throw new Error(`the relay holds ${queued} receipts, expected ${total}`);

    // 3. The gateway comes back: how long until the outbox is empty.
    gateway = await startServe(dir, ['--port', port]);
    const started = performance.now();
    while ((await backlogOf(agent, relayUrl)) > 0) await new Promise((r) => setTimeout(r, 250));
    const drainMs = performance.now() - started;
    rows.push({
      suite: 'relay',
      name: `drain a backlog of ${total} receipts after the gateway's restart`,
      value: drainMs / 1000,
      unit: 's',
      note: 'from the restarted gateway listening to an empty outbox (status polled every 250 ms)',
    });
    rows.push({
      suite: 'relay',
      name: `relay forward rate while draining (batches of ${BATCH})`,
      value: (total * 1000) / drainMs,
      unit: 'receipts/s',
      limit: { name: 'gateway alone, batches', value: gatewayRate },
    });
  } finally {
    if (relay) await stop(relay.child);
    await stop(gateway.child);
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
};
