/**
 * The bench client's own cost: `node:http` (keep-alive agent, `request` in http.ts) against autocannon
 * and the raw-socket client (load.ts `load`, `loadRaw`) driving the same `torgo serve` with single-receipt `POST /v1/receipts`, alternating in the
 * same minutes. Prints, per client, the median over rounds of its CPU per request (this process, all
 * threads), the gateway's CPU per receipt (its process, all threads, /proc) and the rate.
 *
 *   npx node dist/bench/http-client-ab.js [--receipts 600] [--rounds 3] [--concurrency 64]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { drive, makeReceipts } from './engine.js';
import { benchKey } from './receipts.js';
import { median } from './harness.js';
import { ledgerCounts } from './steady.js';
import { appenderWithKey, cpuMsOf, createdOne, loadChecked, request, startServe, stopChild } from './http.js';

const { values } = parseArgs({
  options: {
    receipts: { type: 'string', default: '600' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
  },
});
const perRun = Number(values.receipts);
const rounds = Number(values.rounds);
const c = Number(values.concurrency);

const key = benchKey;
const dir = await mkdtemp(join(tmpdir(), 'torgo-bench-client-'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const serve = await startServe(dir);

type Client = 'node:http' | 'autocannon' | 'raw';
/** Sends `receipts` with client `client`; fails unless every one was answered 201. */
async function send(client: Client, receipts: string[], token: string): Promise<void> {
  if (client !== 'node:http') {
    const bodies = receipts.map((mu) => Buffer.from(mu));
    const { url } = serve;
    await loadChecked(
      { url, token, path: '/v1/receipts', type: 'text/markdown', bodies, connections: c, client },
      receipts.length,
      createdOne,
    );
    return;
  }
  let failures = 0;
  await drive(receipts.length, c, async (i) => {
    const r = await request(agent, serve.url, 'POST', '/v1/receipts', token, receipts[i]!, 'text/markdown');
    if (createdOne(r.status, r.text) !== 1) failures++;
  });
  if (failures > 0) throw new Error(`${failures} appends failed (node:http)`);
}

try {
  const token = await appenderWithKey(agent, serve.url, serve.admin, 'client-ab', key);
  await send('node:http', makeReceipts(64), token);
  await send('autocannon', makeReceipts(64), token);
  await send('raw', makeReceipts(64), token);
  const figures = new Map<
    Client,
    { client: number[]; kernel: number[]; gateway: number[]; rate: number[] }
  >();
  for (let round = 0; round < rounds; round++) {
    const clients: Client[] = ['node:http', 'autocannon', 'raw'];
    const order = round % 2 === 0 ? clients : clients.toReversed();
    for (const client of order) {
      const receipts = makeReceipts(perRun);
      const counts = await ledgerCounts(serve.url, agent);
      const gateway = cpuMsOf(serve.child.pid)!;
      const own = process.cpuUsage();
      const start = performance.now();
      await send(client, receipts, token);
      const elapsed = performance.now() - start;
      const u = process.cpuUsage(own);
      const gatewayMs = cpuMsOf(serve.child.pid)! - gateway;
      const after = await ledgerCounts(serve.url, agent);
      const f = figures.get(client) ?? { client: [], kernel: [], gateway: [], rate: [] };
      f.client.push((u.user + u.system) / perRun);
      f.kernel.push(u.system / perRun);
      f.gateway.push((gatewayMs * 1000) / perRun);
      f.rate.push((perRun * 1000) / elapsed);
      figures.set(client, f);
      console.log(
        `round ${round + 1} ${client}: client ${f.client.at(-1)!.toFixed(0)} µs/request (kernel ${f.kernel.at(-1)!.toFixed(0)}), gateway ${f.gateway.at(-1)!.toFixed(0)} µs/receipt, ${f.rate.at(-1)!.toFixed(0)}/s, ${(perRun / (after.transactions - counts.transactions)).toFixed(1)} receipts per transaction, ${(perRun / (after.blocks - counts.blocks)).toFixed(1)} per block`,
      );
    }
  }
  for (const [client, f] of figures)
    console.log(
      `${client}: median client ${median(f.client).toFixed(0)} µs/request (kernel ${median(f.kernel).toFixed(0)}), gateway ${median(f.gateway).toFixed(0)} µs/receipt, ${median(f.rate).toFixed(0)}/s (c=${c}, ${rounds} rounds of ${perRun})`,
    );
} finally {
  await stopChild(serve);
  agent.destroy();
  await rm(dir, { recursive: true, force: true });
}
