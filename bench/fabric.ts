/**
 * Receipts/s through the gateway on a live Fabric network (docs/performance.md, "Fabric").
 *
 *   npx node dist/bench/fabric.js [--network DIR] [--org org1] [--mode batch|single]
 *     [--batch 100] [--concurrency 16] [--receipts 6000] [--rounds 3]
 *     [--per-tx 100] [--in-flight 32] [--label TEXT]
 *
 * Starts `torgo serve` on the network's gateway config ($FABRIC_NETWORK_DIR/gateway-<org>.json,
 * used as written), with the limits
 * given here and the rate limit off. Receipts (ML-DSA-65, ~4.8 KB, fresh ids) are signed on worker
 * threads before each round, so the client's signing is not measured. Each round then sends them as
 * `POST /v1/receipts/batch` of `--batch` items (`--mode batch`) or one `POST /v1/receipts` each
 * (`--mode single`, the gateway coalesces them), `--concurrency` requests at once, over keep-alive
 * HTTP. It prints, per round and as medians: receipts/s, request latency p50/p99, receipts per
 * ledger transaction (from the gateway's metrics), and the CPU of every process of the network, of
 * the gateway, of this client, and of everything else on the machine (other users).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { publicKeyToPem } from '../core/index.js';
import { drive } from './engine.js';
import { median, percentile, procStat } from './harness.js';
import { request as httpRequest } from './http.js';
import { benchKey, receiptText, signTexts } from './receipts.js';

const { values: opt } = parseArgs({
  options: {
    network: { type: 'string', default: process.env['FABRIC_NETWORK_DIR'] ?? '.fabric/network' },
    org: { type: 'string', default: 'org1' },
    mode: { type: 'string', default: 'batch' },
    batch: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    receipts: { type: 'string', default: '6000' },
    rounds: { type: 'string', default: '3' },
    'per-tx': { type: 'string', default: '100' },
    'in-flight': { type: 'string', default: '32' },
    label: { type: 'string', default: '' },
  },
});
const net = opt.network!;
const org = opt.org!;
const mode = opt.mode === 'single' ? 'single' : 'batch';
const batch = Number(opt.batch);
const concurrency = Number(opt.concurrency);
const perRound = Number(opt.receipts);
const rounds = Number(opt.rounds);
let port = 0;
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'torgo.js');

// ── CPU accounting from /proc (clock ticks: 100 per second on Linux) ────────────────────────

const HZ = 100;
function procTicks(pid: number): number {
  const f = procStat(`/proc/${pid}/stat`)?.fields;
  return f ? Number(f[11]) + Number(f[12]) : Number.NaN; // utime + stime (fields 14, 15)
}
/** Busy ticks of the whole machine (all cores, everything but idle and iowait). */
function machineTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
}
function networkPids(): Map<string, number> {
  const out = new Map<string, number>();
  const dir = join(net, 'pids');
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.pid') || f.startsWith('ca-')) continue;
    out.set(f.slice(0, -4), Number(readFileSync(join(dir, f), 'utf8').trim()));
  }
  return out;
}
type Sample = { t: number; machine: number; procs: Map<string, number> };
function sample(pids: Map<string, number>): Sample {
  const procs = new Map<string, number>();
  for (const [name, pid] of pids) procs.set(name, procTicks(pid));
  return { t: performance.now(), machine: machineTicks(), procs };
}
/** Cores used by each process between two samples, plus `others` = machine − all of ours. */
function coresBetween(a: Sample, b: Sample): Record<string, number> {
  const secs = (b.t - a.t) / 1000;
  const out: Record<string, number> = {};
  let ours = 0;
  for (const [name, t0] of a.procs) {
    const d = b.procs.get(name)! - t0;
    out[name] = d / HZ / secs;
    ours += d;
  }
  out['others'] = Math.max(0, b.machine - a.machine - ours) / HZ / secs;
  out['machine'] = (b.machine - a.machine) / HZ / secs;
  return out;
}

// ── the gateway under test ───────────────────────────────────────────────────────────────────

/** The network's gateway config (network-config's gateway-<org>.json) with the bench's limits. */
async function gatewayConfig(): Promise<string> {
  const src = JSON.parse(readFileSync(join(net, `gateway-${org}.json`), 'utf8'));
  port = Number(src.port);
  const fabric = { ...src.fabric };
  const dataDir = join(net, 'gateways', `bench-${org}`);
  mkdirSync(dataDir, { recursive: true });
  const config = {
    ...src,
    port,
    dataDir,
    fabric,
    rateLimit: { max: 0, windowMs: 60_000 },
    log: { level: 'warn' },
    limits: {
      receiptsPerTransaction: Number(opt['per-tx']),
      transactionsInFlight: Number(opt['in-flight']),
      batchItems: Math.max(100, batch),
      queueReceipts: 100_000,
    },
  };
  const file = join(dataDir, 'bench-config.json');
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

async function startGateway(): Promise<{ child: ChildProcess; url: string; admin: string }> {
  const config = await gatewayConfig();
  const tokenFile = join(net, 'gateways', `bench-${org}`, 'admin.token');
  const child = spawn(
    process.execPath,
    [
      ...(process.env['BENCH_GATEWAY_PROF']
        ? ['--cpu-prof', '--cpu-prof-dir', process.env['BENCH_GATEWAY_PROF']]
        : []),
      BIN,
      'serve',
      '--config',
      config,
      '--admin-token-file',
      tokenFile,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TORGO_CONFIG: '' } },
  );
  // The URL is logged at info level only; the bench runs at warn (request logs cost CPU): poll instead.
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (let i = 0; ; i++) {
    if (exited) throw new Error('torgo serve exited while starting');
    if (i > 600) throw new Error('torgo serve did not start in 60 s');
    const ok = await request(url, 'GET', '/healthz', '').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok && existsSync(tokenFile)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.stdout!.resume();
  return { child, url, admin: readFileSync(tokenFile, 'utf8').trim() };
}

// ── HTTP client ──────────────────────────────────────────────────────────────────────────────

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
function request(url: string, method: string, route: string, token: string, body?: string, type?: string) {
  return httpRequest(agent, url, method, route, token, body, type);
}

/** Sum and count of the receipts-per-transaction histogram, and committed ledger transactions. */
async function txMetrics(url: string, token: string): Promise<{ sum: number; count: number }> {
  const r = await request(url, 'GET', '/metrics', token);
  const num = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(r.text);
    return m ? Number(m[1]) : Number.NaN;
  };
  return {
    sum: num('torgo_receipts_per_transaction_sum'),
    count: num('torgo_receipts_per_transaction_count'),
  };
}

/** CPU ms each of our processes spent per receipt appended (cores × 1000 ÷ receipts/s). */
function cpuPerReceipt(cores: Record<string, number>, rate: number): Record<string, number> {
  const out: Record<string, number> = {};
  let ours = 0;
  for (const [k, v] of Object.entries(cores)) {
    if (k === 'others' || k === 'machine') continue;
    out[k] = (v * 1000) / rate;
    ours += out[k];
  }
  out['all of ours'] = ours;
  return out;
}

/**
 * The appender's token: the one just created, or — when an earlier run on the same gateway data
 * directory bound the identity already (E_IDENTITY_BOUND) — that token rotated (docs/api.md, tokens).
 */
async function appenderToken(
  gw: { url: string; admin: string },
  identity: string,
  created: { status: number; text: string },
): Promise<string> {
  if (created.status === 201) return (JSON.parse(created.text) as { token: string }).token;
  const answer = JSON.parse(created.text) as { code?: string; details?: { tokenId?: string } };
  const bound = answer.code === 'E_IDENTITY_BOUND' ? answer.details?.tokenId : undefined;
  if (!bound) throw new Error(`token for ${identity}: ${created.status} ${created.text}`);
  const rotated = await request(gw.url, 'POST', `/v1/tokens/${bound}/rotate`, gw.admin);
  if (rotated.status !== 200 && rotated.status !== 201)
    throw new Error(`rotating the token of ${identity}: ${rotated.status} ${rotated.text}`);
  return (JSON.parse(rotated.text) as { token: string }).token;
}

async function signRound(n: number, source: string): Promise<string[]> {
  return signTexts(Array.from({ length: n }, (_, i) => receiptText(i, { source })));
}

// ── main ─────────────────────────────────────────────────────────────────────────────────────

const gw = await startGateway();
const pids = networkPids();
pids.set('gateway', gw.child.pid!);
pids.set('client', process.pid);
try {
  const identity = `${org}-appender`;
  const created = await request(
    gw.url,
    'POST',
    '/v1/tokens',
    gw.admin,
    JSON.stringify({ name: `bench-${Date.now()}`, identity }),
  );
  const token = await appenderToken(gw, identity, created);
  const reg = await request(
    gw.url,
    'POST',
    '/v1/keys',
    token,
    JSON.stringify({ publicKey: publicKeyToPem(benchKey) }),
  );
  if (reg.status !== 201 && reg.status !== 409) throw new Error(`key: ${reg.status} ${reg.text}`);
  const source = 'bench-fabric';

  const send = async (receipts: string[]): Promise<number> => {
    if (mode === 'single') {
      let failed = 0;
      const { latencies, elapsed } = await drive(receipts.length, concurrency, async (i) => {
        const r = await request(gw.url, 'POST', '/v1/receipts', token, receipts[i]!, 'text/markdown');
        if (r.status !== 201) failed++;
      });
      return report(receipts.length, failed, latencies, elapsed);
    }
    const chunks: string[][] = [];
    for (let i = 0; i < receipts.length; i += batch) chunks.push(receipts.slice(i, i + batch));
    let failed = 0;
    const { latencies, elapsed } = await drive(chunks.length, concurrency, async (i) => {
      const r = await request(
        gw.url,
        'POST',
        '/v1/receipts/batch',
        token,
        JSON.stringify({ receipts: chunks[i] }),
      );
      if (r.status !== 200) failed += chunks[i]!.length;
      else failed += (JSON.parse(r.text) as { failed: number }).failed;
    });
    return report(receipts.length, failed, latencies, elapsed);
  };
  let last = { rate: 0, p50: 0, p99: 0 };
  const report = (n: number, failed: number, latencies: number[], elapsed: number): number => {
    if (failed > 0) process.stderr.write(`  ${failed} of ${n} receipts failed\n`);
    last = {
      rate: ((n - failed) * 1000) / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
    };
    return last.rate;
  };

  // Warm-up: connections, JIT, the key cache, the chaincode's imported key.
  await send(
    await signRound(Math.min(perRound, mode === 'single' ? concurrency * 4 : batch * concurrency), source),
  );

  const results: { rate: number; p50: number; p99: number; perTx: number; cores: Record<string, number> }[] =
    [];
  process.stdout.write(
    `fabric bench: ${mode}${mode === 'batch' ? ` of ${batch}` : ''}, concurrency ${concurrency}, ` +
      `${perRound} receipts × ${rounds} rounds, receiptsPerTransaction ${opt['per-tx']}, ` +
      `transactionsInFlight ${opt['in-flight']} ${opt.label}\n`,
  );
  for (let r = 0; r < rounds; r++) {
    const receipts = await signRound(perRound, source);
    const m0 = await txMetrics(gw.url, gw.admin);
    const s0 = sample(pids);
    await send(receipts);
    const s1 = sample(pids);
    const m1 = await txMetrics(gw.url, gw.admin);
    const cores = coresBetween(s0, s1);
    const perTx = (m1.sum - m0.sum) / (m1.count - m0.count);
    results.push({ ...last, perTx, cores });
    process.stdout.write(
      `  round ${r + 1}: ${last.rate.toFixed(0)} receipts/s, p50 ${last.p50.toFixed(0)} ms, p99 ${last.p99.toFixed(0)} ms, ` +
        `${perTx.toFixed(1)} receipts/tx; cores: ${Object.entries(cores)
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(', ')}\n    CPU ms per receipt: ${Object.entries(cpuPerReceipt(cores, last.rate))
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(', ')}\n`,
    );
  }
  const med = (f: (x: (typeof results)[number]) => number) => median(results.map(f));
  const perReceipt = (n: string) => med((x) => (x.cores[n]! * 1000) / x.rate);
  const names = Object.keys(results[0]!.cores);
  const summary = {
    date: new Date().toISOString(),
    mode,
    batch: mode === 'batch' ? batch : 1,
    concurrency,
    receiptsPerRound: perRound,
    rounds,
    receiptsPerTransactionLimit: Number(opt['per-tx']),
    transactionsInFlight: Number(opt['in-flight']),
    label: opt.label,
    receiptsPerSecond: med((x) => x.rate),
    p50Ms: med((x) => x.p50),
    p99Ms: med((x) => x.p99),
    receiptsPerTransaction: med((x) => x.perTx),
    cores: Object.fromEntries(names.map((n) => [n, Number(med((x) => x.cores[n]!).toFixed(2))])),
    cpuMsPerReceipt: Object.fromEntries(
      names
        .filter((n) => n !== 'others' && n !== 'machine')
        .map((n) => [n, Number(perReceipt(n).toFixed(2))]),
    ),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      load: loadavg(),
    },
  };
  process.stdout.write(
    `median: ${summary.receiptsPerSecond.toFixed(0)} receipts/s, p50 ${summary.p50Ms.toFixed(0)} ms, ` +
      `p99 ${summary.p99Ms.toFixed(0)} ms, ${summary.receiptsPerTransaction.toFixed(1)} receipts/tx\n` +
      `  cores (median): ${JSON.stringify(summary.cores)}\n` +
      `  CPU ms per receipt (median): ${JSON.stringify(summary.cpuMsPerReceipt)}\n`,
  );
  const out = join('bench', 'results');
  if (!existsSync(out)) mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'fabric-latest.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const all = join(out, 'fabric-runs.jsonl');
  writeFileSync(all, `${JSON.stringify(summary)}\n`, { flag: 'a' });
} catch (e) {
  process.exitCode = 1; // the comparison run (fabric-compare.ts) must see a failed run
  throw e;
} finally {
  const exited = new Promise<void>((resolve) => gw.child.once('exit', () => resolve()));
  gw.child.kill('SIGTERM');
  await exited;
  agent.destroy();
}
