/**
 * Relay test set-up: relays in-process and as `torgo relay` child processes, a fault proxy in front
 * of a real gateway, a steady producer, and the ledger check every fault test ends with (exactly
 * once, in order per source, in an export bundle that verifies).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { type RelayProcess, startRelayProcess } from '../../bench/relay.js';
import { importPublicKey, type PrivateKey, verifyBundle } from '../../core/index.js';
import { loadRelayConfig, type RelayConfig } from '../../relay/config.js';
import { type RunningRelay, startRelay } from '../../relay/server.js';
import { torgo } from '../cli/run.js';
import { call, receipt } from '../gateway/helpers.js';

/** Polls `condition` until it holds; fails after `timeoutMs` (generous: the machine is loaded). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 180_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A relay in this process on a free loopback port; closed after the test. */
export async function startTestRelay(
  t: TestContext,
  overrides: Partial<RelayConfig> & Pick<RelayConfig, 'dataDir' | 'gateways'>,
  env: Record<string, string> = {},
): Promise<RunningRelay> {
  const config = loadRelayConfig({
    env: {},
    overrides: { port: 0, minBackoffMs: 20, maxBackoffMs: 500, ...overrides },
  });
  const running = await startRelay(config, { log: false, env });
  t.after(() => running.close());
  return running;
}

/** `torgo relay` in a child process (bench/relay.ts); SIGKILLed after the test if still alive. */
export async function startRelayChild(t: TestContext, args: readonly string[]): Promise<RelayProcess> {
  const relay = await startRelayProcess(args);
  t.after(() => {
    if (relay.child.exitCode === null && relay.child.signalCode === null) relay.child.kill('SIGKILL');
  });
  return relay;
}

export type ProxyMode = 'pass' | 'unavailable' | 'hold';

/**
 * An HTTP proxy in front of a real gateway, for the faults a gateway cannot be made to show on its
 * own: `unavailable` answers 503 E_UNAVAILABLE + Retry-After (what a gateway answers while its
 * ledger is down); `hold` passes requests to the gateway (which commits them) but holds the answers
 * until the mode changes: a relay killed then has had its batch committed without knowing it.
 */
export async function faultProxy(t: TestContext, target: string) {
  let mode: ProxyMode = 'pass';
  const held: (() => void)[] = [];
  let unavailableAnswers = 0;
  let passed = 0;
  const server = http.createServer((req, res) => {
    if (mode === 'unavailable') {
      unavailableAnswers++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ code: 'E_UNAVAILABLE', message: 'the ledger is unavailable (fault proxy)' }));
      return;
    }
    const upstream = http.request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (answer) => {
        const send = () => {
          passed++;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        };
        if (mode === 'hold') held.push(send);
        else send();
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    get held() {
      return held.length;
    },
    get unavailableAnswers() {
      return unavailableAnswers;
    },
    get passed() {
      return passed;
    },
    setMode(next: ProxyMode): void {
      mode = next;
      if (next !== 'hold') for (const send of held.splice(0)) send();
    },
    /** Drops the held answers' connections (their client is gone). */
    dropHeld(): void {
      held.splice(0);
      server.closeAllConnections();
    },
  };
}

/** What a producer got acknowledged, per source, in acknowledgement order. */
export type Acknowledged = Map<string, string[]>;

/**
 * Hands the relay one receipt every `intervalMs` (a steady rate), round-robin over `sources`, and
 * records the 2xx-acknowledged ids; refused or failed requests are not acknowledged.
 */
export function steadyProducer(
  relayUrl: () => string,
  key: PrivateKey,
  sources: readonly string[],
  intervalMs = 20,
) {
  const acknowledged: Acknowledged = new Map(sources.map((s) => [s, []]));
  let stopped = false;
  let sent = 0;
  let failures = 0;
  const run = (async () => {
    for (let i = 0; !stopped; i++) {
      const source = sources[i % sources.length]!;
      const mu = receipt([key], { source });
      const started = Date.now();
      try {
        const r = await call(relayUrl(), 'POST', '/v1/receipts', { raw: mu });
        sent++;
        if (r.status === 202 || r.status === 200) acknowledged.get(source)!.push(r.json.id);
        else failures++;
      } catch {
        failures++; // the relay is down (killed): not acknowledged
      }
      const wait = intervalMs - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    acknowledged,
    get count() {
      return [...acknowledged.values()].reduce((n, ids) => n + ids.length, 0);
    },
    get sent() {
      return sent;
    },
    get failures() {
      return failures;
    },
    async stop(): Promise<Acknowledged> {
      stopped = true;
      await run;
      return acknowledged;
    },
  };
}

/**
 * The end of every fault test: for each source, `torgo export` writes a bundle, the core verifier
 * verifies it against the log operator's key with no failure, no receipt is on it twice, and the
 * acknowledged ids are all there in acknowledgement order. (A receipt whose answer was lost when a
 * relay was killed may be there too: durable, but never acknowledged.)
 */
export async function assertOnLedgerInOrder(
  gatewayUrl: string,
  auditor: string,
  acknowledged: Acknowledged,
  dir: string,
): Promise<void> {
  const operator = importPublicKey((await call(gatewayUrl, 'GET', '/v1/log/operator-key')).text);
  for (const [source, ids] of acknowledged) {
    assert.equal(new Set(ids).size, ids.length, `${source}: the relay acknowledged an id twice`);
    const bundle = path.join(dir, `${source}.bundle.jsonl`);
    const e = await torgo(
      'export',
      '--gateway',
      gatewayUrl,
      '--token',
      auditor,
      '--source',
      source,
      '-o',
      bundle,
    );
    assert.equal(e.code, 0, e.stderr);
    const lines = (await readFile(bundle, 'utf8')).trimEnd().split('\n');
    const report = await verifyBundle(
      (async function* () {
        yield* lines;
      })(),
      { trusted: [{ name: 'torgo-ledger.local/log', key: operator }] },
    );
    assert.deepEqual(report.failures, [], `${source}: the export verifies`);
    const onLedger = lines
      .map((l) => JSON.parse(l) as { type?: string; leafIndex?: number; entry?: { id?: string } })
      .filter((l) => l.type === 'receipt')
      .sort((a, b) => a.leafIndex! - b.leafIndex!)
      .map((l) => l.entry!.id!);
    assert.equal(
      report.counts.validReceipts,
      onLedger.length,
      `${source}: every receipt in the export is valid`,
    );
    assert.equal(new Set(onLedger).size, onLedger.length, `${source}: no receipt is on the ledger twice`);
    const acked = new Set(ids);
    assert.deepEqual(
      onLedger.filter((id) => acked.has(id)),
      ids,
      `${source}: every acknowledged receipt, in acknowledgement order`,
    );
  }
}
