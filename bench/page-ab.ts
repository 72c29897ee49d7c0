/**
 * JSON query pages over HTTP, for A/B comparisons of two builds' page path (`--bin` another tree's
 * `bin/torgo.js`): a `torgo serve` child on a fresh ledger of `--receipts` receipts of one source
 * answers `--pages` first pages of 50, one at a time on one keep-alive connection. Reports the
 * child's CPU per page (all threads, and its main thread; /proc, Linux) and the collections it made
 * (its `/metrics` GC counters), which a loaded machine inflates far less than wall time. The young
 * generation is pinned at Node's default for both builds (`node.maxSemiSpaceMiB` 0, not the gateway's
 * default 8), so builds from before and after that default compare their page path alone.
 *
 *   npx node dist/bench/page-ab.js [--bin DIR/bin/torgo.js] [--receipts 500] [--pages 600]
 */
import './quiet-logs.js';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { publicKeyToPem } from '../core/index.js';
import { cpuMsOf, request, type ServeChild, startServe, stopChild, threadCpuMsOf } from './http.js';
import { benchKey, signedReceipts } from './receipts.js';

const PAGE = '/v1/receipts?source=bench-relay&limit=50';

/** The child's collections so far, by kind, from its Prometheus GC counters. */
async function collections(agent: http.Agent, serve: ServeChild): Promise<Record<string, number>> {
  const metrics = await request(agent, serve.url, 'GET', '/metrics', '');
  const out: Record<string, number> = {};
  for (const m of metrics.text.matchAll(/^torgo_nodejs_gc_duration_seconds_count\{kind="(\w+)"\} (\d+)/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

/** An appender + auditor token with the bench key registered, and `n` receipts appended with it. */
async function populate(agent: http.Agent, serve: ServeChild, n: number): Promise<string> {
  const body = JSON.stringify({ name: 'page-ab', roles: ['appender', 'auditor'] });
  const created = await request(agent, serve.url, 'POST', '/v1/tokens', serve.admin, body);
  if (created.status !== 201) throw new Error(`token: ${created.status} ${created.text}`);
  const token = (JSON.parse(created.text) as { token: string }).token;
  const key = JSON.stringify({ publicKey: publicKeyToPem(benchKey) });
  const reg = await request(agent, serve.url, 'POST', '/v1/keys', token, key);
  if (reg.status !== 201) throw new Error(`key: ${reg.status} ${reg.text}`);
  const receipts = await signedReceipts(n);
  for (let i = 0; i < n; i += 100) {
    const batch = JSON.stringify({ receipts: receipts.slice(i, i + 100) });
    const r = await request(agent, serve.url, 'POST', '/v1/receipts/batch', token, batch);
    if (r.status !== 200) throw new Error(`batch: ${r.status} ${r.text}`);
  }
  return token;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      bin: { type: 'string' },
      receipts: { type: 'string', default: '500' },
      pages: { type: 'string', default: '600' },
      scratch: { type: 'string', default: tmpdir() },
    },
  });
  const dir = await mkdtemp(join(values.scratch, 'torgo-page-ab-'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const serve = await startServe(dir, [], {
    bin: values.bin,
    env: { NODE_OPTIONS: '', TORGO_NODE_MAX_SEMI_SPACE_MIB: '0', TORGO_LOG_LEVEL: 'warn' },
  });
  try {
    const token = await populate(agent, serve, Number(values.receipts));
    let bytes = 0;
    const page = async () => {
      const r = await request(agent, serve.url, 'GET', PAGE, token);
      if (r.status !== 200) throw new Error(`page: ${r.status} ${r.text}`);
      bytes = Buffer.byteLength(r.text);
    };
    for (let i = 0; i < 50; i++) await page(); // warm-up
    const gc0 = await collections(agent, serve);
    const cpu0 = cpuMsOf(serve.child.pid)!;
    const main0 = threadCpuMsOf(serve.child.pid).get('main')!;
    const pages = Number(values.pages);
    for (let i = 0; i < pages; i++) await page();
    const cpu = (cpuMsOf(serve.child.pid)! - cpu0) / pages;
    const main = (threadCpuMsOf(serve.child.pid).get('main')! - main0) / pages;
    const gc1 = await collections(agent, serve);
    const counts = Object.keys(gc1)
      .map((k) => `${k} ${gc1[k]! - (gc0[k] ?? 0)}`)
      .join(', ');
    console.log(
      `${pages} pages of ${bytes} bytes: CPU ${cpu.toFixed(3)} ms/page (main thread ${main.toFixed(3)}); collections ${counts}`,
    );
  } finally {
    await stopChild(serve);
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
