/**
 * `GET /v1/export` over HTTP: `torgo serve` (child process, embedded ledger) holding N ML-DSA-65
 * receipts of ~4.8 KB of one source (default 5,000, or `--bundle-receipts`, shared with the bundle suite), each
 * export read by a client that only counts: receipts/s (wall, target ≥ 2,000), receipts per server
 * CPU-second (what a loaded machine does not distort), and the server's RSS growth during the export
 * (issue 18: ≤ 50 MiB at any bundle size). Three exports; medians. The first export on a fresh server
 * is also the one after the fill, so all three see the same ledger.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { median, type Row, type Suite } from './harness.js';
import { appenderWithKey, cpuMsOf, request, roleToken, startServe, stopChild } from './http.js';
import { benchKey, signedReceipts } from './receipts.js';
import { exportWhenLogged } from './soak.js';

const SOURCE = 'export-bench-relay';
const BATCH = 100;

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/**
 * Appends `receipts` through the batch route; the items a loaded gateway refused (503, queue full)
 * are sent again (appends are idempotent), a few times, then the fill fails with their answers.
 */
async function appendAll(agent: http.Agent, url: string, token: string, receipts: string[]): Promise<void> {
  let pending = receipts;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const r = await request(
      agent,
      url,
      'POST',
      '/v1/receipts/batch',
      token,
      JSON.stringify({ receipts: pending }),
    );
    if (r.status !== 200) throw new Error(`batch: ${r.status} ${r.text}`);
    const results = (JSON.parse(r.text) as { results: { index: number; status: number }[] }).results;
    const refused = results.filter((x) => x.status !== 200 && x.status !== 201);
    if (refused.length > 0 && attempt === 5)
      throw new Error(`batch: refused ${JSON.stringify(refused.slice(0, 3))}`);
    pending = refused.map((x) => pending[x.index]!);
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Appends `total` signed receipts of `source` through the batch route, BATCH per request. */
export async function fillSource(
  agent: http.Agent,
  url: string,
  token: string,
  source: string,
  total: number,
): Promise<void> {
  const signed = await signedReceipts(total, () => ({ source }));
  for (let i = 0; i < total; i += BATCH) await appendAll(agent, url, token, signed.slice(i, i + BATCH));
}

export const exportSuite: Suite = async ({ smoke, scratch, bundleReceipts }) => {
  const total = smoke ? 60 : (bundleReceipts ?? 5_000);
  const runs = smoke ? 1 : 3;
  const dir = await mkdtemp(join(scratch ?? '/tmp', 'torgo-bench-export-'));
  // BENCH_SERVE_BIN=PATH: another tree's `bin/torgo.js` (an A/B, as export-load.ts).
  const serve = await startServe(dir, [], { bin: process.env.BENCH_SERVE_BIN || undefined });
  const agent = new http.Agent({ keepAlive: true });
  try {
    const token = await appenderWithKey(agent, serve.url, serve.admin, 'export-bench', benchKey);
    const auditor = await roleToken(agent, serve.url, serve.admin, 'export-auditor', ['auditor']);
    await fillSource(agent, serve.url, token, SOURCE, total);
    const pid = serve.child.pid!;
    const figures: { rate: number; perCpuSecond: number; growth: number; bytes: number; before: number }[] =
      [];
    for (let k = 0; k < runs; k++) {
      const before = rssMiB(pid);
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMiB(pid));
      }, 100);
      const cpu0 = cpuMsOf(pid) ?? 0;
      const t0 = performance.now();
      // The log may still be catching up with the last blocks of the fill: 503 + Retry-After.
      const r = await exportWhenLogged(serve, auditor, SOURCE);
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(sampler);
      if (!('bytes' in r)) throw new Error(`export: HTTP ${r.status}`);
      if (r.receipts !== total) throw new Error(`export: ${r.receipts} receipts of ${total}`);
      const cpuSeconds = ((cpuMsOf(pid) ?? 0) - cpu0) / 1000;
      figures.push({
        rate: total / seconds,
        perCpuSecond: total / cpuSeconds,
        growth: peak - before,
        before,
        bytes: r.bytes,
      });
    }
    const mib = (figures[0]!.bytes / 2 ** 20).toFixed(1);
    const size = `${total.toLocaleString('en-US')} receipts, ${mib} MiB`;
    const note = `${size}; ${runs} exports, median`;
    return [
      {
        suite: 'export',
        name: `GET /v1/export of ${total.toLocaleString('en-US')} receipts, over HTTP`,
        value: median(figures.map((f) => f.rate)),
        unit: 'receipts/s',
        note,
        limit: { name: 'target', value: 2_000 },
      },
      {
        suite: 'export',
        name: 'GET /v1/export, receipts per server CPU-second',
        value: median(figures.map((f) => f.perCpuSecond)),
        unit: 'receipts/s',
        note,
      },
      {
        suite: 'export',
        // The largest, not the median: the first export of a gateway may start what later ones reuse.
        name: 'server RSS growth during an export (peak − before), the largest of the exports',
        value: Math.max(...figures.map((f) => f.growth)),
        unit: 'MiB',
        note: `${size}; each: ${figures.map((f) => f.growth.toFixed(0)).join(', ')} MiB (target ≤ 50 at any size); RSS before each: ${figures.map((f) => f.before.toFixed(0)).join(', ')} MiB`,
      },
    ] satisfies Row[];
  } finally {
    agent.destroy();
    await stopChild(serve);
    await rm(dir, { recursive: true, force: true });
  }
};
