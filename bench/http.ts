/**
 * HTTP append through the gateway: receipts/s and p50/p99 latency at concurrency 1, 16 and 64, each
 * next to the engine alone (appendReceipt submitted in-process, durable) measured in the same run; and
 * the batch route (50 per request, 4 in flight) next to the engine's appendReceipts of 50, 4 in flight.
 *
 * The gateway runs as `torgo serve` in a child process, as in production, with its rate limit off;
 * this process is the client: the raw-socket client in the timed runs (load.ts `loadRaw`: one
 * keep-alive connection per request in flight, every body a distinct receipt prepared before timing,
 * every answer checked; ~0.45× of autocannon's CPU per request, docs/performance.md §5), node:http
 * for set-up. The gateway's path adds HTTP parsing, auth,
 * pre-verification (the contract's own check then finds the verification memo) and coalescing in
 * front of the same engine, and builds the transparency log from its blocks.
 *
 * The client shares the machine's cores with the gateway (~0.1–0.3 ms of CPU per single-receipt request
 * on the reference VM), which the engine alone never pays; so each HTTP row also gives CPU per receipt
 * — the gateway's process (all threads) against the engine's process in its runs — and the client's
 * CPU per request, and a `receipts per CPU-second` row compares the two where CPU is the only limit.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { defaultStartEnv, defaultStartFlags } from '../cli/young-generation.js';
import { publicKeyToPem } from '../core/index.js';
import { drive, makeReceipts, openBenchLedger } from './engine.js';
import { benchKey } from './receipts.js';
import { median, percentile, procStat, type Row, type Suite, statCpuMs, TICK_MS } from './harness.js';
import { type LoadOptions, load } from './load.js';

/** The key engine.ts signs with (same seed), registered through the API. */
const key = benchKey;
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'torgo.js');

export interface ServeChild {
  readonly child: ChildProcess;
  readonly url: string;
  readonly admin: string;
}

/**
 * `torgo serve` in a child process on a fresh data dir under `dir`, rate limit off, logging at info so
 * its listening line (with the URL) can be read; `extraArgs` add options (TLS); `options` add Node
 * options, environment variables and a log-line listener. Shared with tls.ts, soak.ts and
 * the export tests.
 */
export async function startServe(
  dir: string,
  extraArgs: readonly string[] = [],
  options: {
    /** Node options before the script (e.g. --cpu-prof). */
    readonly nodeArgs?: readonly string[];
    /** Environment variables added (e.g. NODE_OPTIONS with a heap cap). */
    readonly env?: Readonly<Record<string, string>>;
    /** Each of its log lines (stdout). */
    readonly onLog?: (line: string) => void;
    /** Another tree's `bin/torgo.js` (an A/B of two builds side by side); default this tree's. */
    readonly bin?: string | undefined;
  } = {},
): Promise<ServeChild> {
  const { nodeArgs = [], env = {}, onLog, bin = BIN } = options;
  const tokenFile = join(dir, 'admin.token');
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      bin,
      'serve',
      '--data',
      join(dir, 'data'),
      '--port',
      '0',
      '--admin-token-file',
      tokenFile,
      '--log-level',
      'info',
      ...extraArgs,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TORGO_RATE_LIMIT_MAX: '0', TORGO_CONFIG: '', ...env },
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(https?:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) {
        child.stdout!.removeAllListeners('data');
        if (onLog) {
          for (const line of out.split('\n')) if (line) onLog(line);
          createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', onLog);
        } else child.stdout!.resume();
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`torgo serve exited with ${code}`)));
  });
  return { child, url, admin: (await readFile(tokenFile, 'utf8')).trim() };
}

/**
 * CPU time a process has used (all threads), in ms, from /proc (Linux; undefined elsewhere). CPU time,
 * unlike wall time, hardly moves when other processes compete for the cores.
 */
export function cpuMsOf(pid: number | undefined): number | undefined {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** A process's main-thread system (kernel) time, ms: its wakes, socket and pipe writes, epoll (Linux). */
export function mainKernelMsOf(pid: number | undefined): number | undefined {
  const f = procStat(`/proc/${pid}/task/${pid}/stat`)?.fields;
  return f && Number(f[12]) * TICK_MS;
}

/**
 * CPU time per thread name of a process (Linux /proc/<pid>/task/<tid>/stat; empty elsewhere), in ms:
 * threads with the same name (the libuv pool, V8's helpers) are summed. Tells which part of a
 * process a cost grows in: its main thread, worker threads, LevelDB's compaction thread (which a
 * process-wide figure lumps together).
 */
export function threadCpuMsOf(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const stat = procStat(`/proc/${pid}/task/${tid}/stat`);
    if (!stat) continue; // the thread ended between the listing and the read
    const name = tid === String(pid) ? 'main' : stat.name;
    out.set(name, (out.get(name) ?? 0) + (Number(stat.fields[11]) + Number(stat.fields[12])) * TICK_MS);
  }
  return out;
}

/** SIGTERM a `torgo serve` child and wait for it to exit. */
export async function stopChild(c: ServeChild): Promise<void> {
  const exited = new Promise<void>((resolve) => c.child.once('exit', () => resolve()));
  c.child.kill('SIGTERM');
  await exited;
}

/** A new token (named `name`, its own identity) with `roles` on the gateway at `url`, made with the `admin` token. */
export async function roleToken(
  agent: http.Agent,
  url: string,
  admin: string,
  name: string,
  roles: readonly string[],
): Promise<string> {
  const created = await request(agent, url, 'POST', '/v1/tokens', admin, JSON.stringify({ name, roles }));
  if (created.status !== 201) throw new Error(`token: ${created.status} ${created.text}`);
  return (JSON.parse(created.text) as { token: string }).token;
}

/** A new appender token (named `name`, its own identity) on the gateway at `url`, made with the `admin` token. */
export function appenderToken(agent: http.Agent, url: string, admin: string, name: string): Promise<string> {
  return roleToken(agent, url, admin, name, ['appender']);
}

/**
 * A new appender token (named `name`) on the gateway at `url`, made with the `admin` token, and `key`
 * registered under it: what every suite that appends over HTTP sets up first.
 */
export async function appenderWithKey(
  agent: http.Agent,
  url: string,
  admin: string,
  name: string,
  key: Parameters<typeof publicKeyToPem>[0],
): Promise<string> {
  const token = await appenderToken(agent, url, admin, name);
  const reg = await request(
    agent,
    url,
    'POST',
    '/v1/keys',
    token,
    JSON.stringify({ publicKey: publicKeyToPem(key) }),
  );
  if (reg.status !== 201) throw new Error(`key: ${reg.status} ${reg.text}`);
  return token;
}

/** Keep-alive connections; node:http costs the client less CPU than fetch, so the client distorts less. */
/** One HTTP request with a bearer token over `agent`; the body as text. Shared by the HTTP and Fabric benches. */
/**
 * One request on `agent`, its status and body. A request that fails with a reset before any answer
 * on a connection the agent *reused* is sent once more on a new connection: the server closed that
 * connection while it was idle (its keep-alive timeout) just as the request left, so the server
 * never received it (RFC 9112 §9.3.1: a client may retry such a request; every request the
 * benches send is idempotent, appends included). Any other failure is the caller's.
 */
export async function request(
  agent: http.Agent,
  url: string,
  method: string,
  route: string,
  token: string,
  body?: string,
  type = 'application/json',
): Promise<{ status: number; text: string }> {
  try {
    return await requestOnce(agent, url, method, route, token, body, type);
  } catch (e) {
    if (!(e instanceof StaleConnectionError)) throw e;
    return requestOnce(agent, url, method, route, token, body, type);
  }
}

/** A reset before any answer on a reused keep-alive connection: the server never saw the request. */
export class StaleConnectionError extends Error {}

function requestOnce(
  agent: http.Agent,
  url: string,
  method: string,
  route: string,
  token: string,
  body: string | undefined,
  type: string,
): Promise<{ status: number; text: string }> {
  const u = new URL(route, url);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': type, 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        answered = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject); // a connection reset mid-answer
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      const stale = !answered && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE');
      reject(stale ? new StaleConnectionError(e.message, { cause: e }) : e);
    });
    req.end(body);
  });
}

function post(
  agent: http.Agent,
  url: string,
  token: string,
  route: string,
  body: string,
  type: string,
): Promise<{ status: number; text: string }> {
  return request(agent, url, 'POST', route, token, body, type);
}

/** Receipts a `POST /v1/receipts` answer acknowledges: 1 for a 201 with the receipt's id, else 0. */
export function createdOne(status: number, text: string): number {
  if (status !== 201) return 0;
  return typeof (JSON.parse(text) as { id?: unknown }).id === 'string' ? 1 : 0;
}

/**
 * Receipts a `POST /v1/receipts/batch` answer of `size` fresh receipts acknowledges: all of them when
 * it is a 200 with every item appended (201 each), else 0.
 */
export function appendedInBatch(status: number, text: string, size: number): number {
  if (status !== 200) return 0;
  const r = JSON.parse(text) as { appended?: unknown; failed?: unknown; results?: { status?: unknown }[] };
  const all =
    r.appended === size &&
    r.failed === 0 &&
    r.results?.length === size &&
    r.results.every((x) => x.status === 201);
  return all ? size : 0;
}

/**
 * `load` (load.ts) that fails unless every answer acknowledged what was sent, `expected` receipts in
 * all: a bench that does not check its answers measures nothing.
 */
export async function loadChecked(
  options: Omit<LoadOptions, 'acknowledged'>,
  expected: number,
  acknowledged: LoadOptions['acknowledged'],
): Promise<{ latencies: number[]; elapsed: number }> {
  const r = await load({ ...options, acknowledged });
  if (r.failures > 0 || r.acknowledged !== expected)
    throw new Error(
      `${options.path}: ${r.acknowledged} of ${expected} receipts acknowledged, ${r.failures} failed requests${r.firstFailure ? ` (first: ${r.firstFailure})` : ''}`,
    );
  return { latencies: r.latencies, elapsed: r.elapsed };
}

/** The timed runs' load generator (load.ts): the raw-socket client, the cheapest honest one measured. */
const CLIENT = 'raw';

/** Requests (or transactions) of a batch in flight at once, gateway and engine alike. */
const BATCH_CONCURRENCY = 4;

/** CPU (all threads) of this process since `since`, in ms. */
function ownCpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

/** `n` over `ms` milliseconds, per second. */
const perSecond = (n: number, ms: number): number => (n * 1000) / ms;

function batchesOf<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) =>
    items.slice(i * size, (i + 1) * size),
  );
}

const HTTP_FLOOR_SERVER = join(import.meta.dirname, 'http-floor-server.js');

/**
 * A floor server (bench/floor-server.ts, bench/http-floor-server.ts: a script that says `{ port }` on its IPC
 * channel once listening on 127.0.0.1) forked with the V8 flags and malloc arena cap `torgo serve` starts with
 * by default (its young generation, single-threaded GC, MALLOC_ARENA_MAX); `dir` is its argument.
 */
export async function forkFloorServer(
  script: string,
  dir: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(script, [dir], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: defaultStartFlags(),
    env: { ...process.env, ...defaultStartEnv() },
  });
  try {
    const [{ port }] = (await once(child, 'message')) as [{ port: number }];
    return { child, url: `http://127.0.0.1:${port}` };
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  }
}

/** SIGTERM a forked floor server and wait for it to exit. */
export async function stopFloorServer(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Receipts/s and CPU per receipt (ms, the server process's, from /proc) of one timed load. */
interface FloorRun {
  readonly rate: number;
  readonly cpu: number;
}

/**
 * Rows 14.3–14.4's floor (bench/http-floor-server.ts: the engine alone behind a bare node:http server, in a
 * child started with `torgo serve`'s V8 flags and environment), driven by the same client, bodies and
 * concurrency as the gateway's c=64 and batch runs: `runs` of each, after a warm-up.
 */
async function httpFloorRuns(
  runs: number,
  perRun: number,
  batchRun: number,
  batch: number,
): Promise<{ single: FloorRun[]; batch: FloorRun[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'torgo-bench-http-floor-'));
  const { child, url } = await forkFloorServer(HTTP_FLOOR_SERVER, dir);
  try {
    const measure = async (
      path: string,
      bodies: Buffer[],
      connections: number,
      receipts: number,
      size: number,
    ) => {
      const before = cpuMsOf(child.pid);
      const r = await loadChecked(
        {
          url,
          token: '',
          path,
          type: size === 1 ? 'text/markdown' : 'application/json',
          bodies,
          connections,
          client: CLIENT,
        },
        receipts,
        size === 1 ? createdOne : (status, text) => appendedInBatch(status, text, size),
      );
      const after = cpuMsOf(child.pid);
      return {
        rate: perSecond(receipts, r.elapsed),
        cpu: before === undefined || after === undefined ? Number.NaN : (after - before) / receipts,
      };
    };
    const singles = (n: number) => makeReceipts(n).map((mu) => Buffer.from(mu));
    const batches = (n: number) =>
      batchesOf(makeReceipts(n), batch).map((receipts) => Buffer.from(JSON.stringify({ receipts })));
    await measure('/v1/receipts', singles(Math.min(perRun, 400)), 64, Math.min(perRun, 400), 1);
    const single: FloorRun[] = [];
    const batched: FloorRun[] = [];
    for (let run = 0; run < runs; run++) {
      single.push(await measure('/v1/receipts', singles(perRun), 64, perRun, 1));
      batched.push(
        await measure('/v1/receipts/batch', batches(batchRun), BATCH_CONCURRENCY, batchRun, batch),
      );
    }
    return { single, batch: batched };
  } finally {
    await stopFloorServer(child);
    await rm(dir, { recursive: true, force: true });
  }
}

export const httpSuite: Suite = async ({ smoke }) => {
  const rows: Row[] = [];
  const perRun = smoke ? 20 : 600;
  const runs = smoke ? 1 : 3;
  const concurrencies = [1, 16, 64];
  const batch = smoke ? 5 : 50;
  const batchRun = smoke ? 10 : 1000;
  let engineBatchRate = Number.NaN;
  let engineBatchCpu = Number.NaN;

  // Engine alone, same receipts shape, same machine, same run; its CPU is this process's (all threads).
  const engineRates = new Map<number, number>();
  const engineCpu = new Map<number, number>();
  const bench = await openBenchLedger();
  try {
    for (const c of concurrencies) {
      const rates: number[] = [];
      const cpus: number[] = [];
      for (let run = 0; run < runs; run++) {
        const receipts = makeReceipts(perRun);
        const cpu = process.cpuUsage();
        const { elapsed } = await drive(perRun, c, (i) =>
          bench.ledger.submit(bench.appender, 'appendReceipt', [receipts[i]!]),
        );
        cpus.push(ownCpuMs(cpu) / perRun);
        rates.push((perRun * 1000) / elapsed);
      }
      engineRates.set(c, median(rates));
      engineCpu.set(c, median(cpus));
    }
    const rates: number[] = [];
    const cpus: number[] = [];
    for (let run = 0; run < runs; run++) {
      const batches = batchesOf(makeReceipts(batchRun), batch);
      const cpu = process.cpuUsage();
      const { elapsed } = await drive(batches.length, BATCH_CONCURRENCY, (i) =>
        bench.ledger.submit(bench.appender, 'appendReceipts', [JSON.stringify(batches[i]!)]),
      );
      cpus.push(ownCpuMs(cpu) / batchRun);
      rates.push((batchRun * 1000) / elapsed);
    }
    engineBatchRate = median(rates);
    engineBatchCpu = median(cpus);
  } finally {
    await bench.close();
  }

  // The floor (rows 14.3–14.4): the same engine behind a bare node:http server, between the engine alone and the gateway.
  const floor = await httpFloorRuns(runs, perRun, batchRun, batch);
  const floorSingle = median(floor.single.map((r) => r.rate));
  const floorBatch = median(floor.batch.map((r) => r.rate));
  const top = concurrencies.at(-1)!;
  const floorNote = (runs: FloorRun[], engineCpu: number) =>
    `bench/http-floor-server.ts: node:http, the body submitted to the engine, 201; no framework, auth, pre-check, coalescing, log or metrics; ` +
    `CPU per receipt: server ${Math.round(median(runs.map((r) => r.cpu)) * 1000)} µs, engine alone ${Math.round(engineCpu * 1000)} µs; ` +
    `runs ${runs.map((r) => Math.round(r.rate)).join(', ')}/s`;
  rows.push(
    {
      suite: 'http',
      name: `floor: the engine behind bare node:http, POST /v1/receipts, c=${top}`,
      value: floorSingle,
      unit: 'receipts/s',
      limit: { name: `engine alone c=${top}`, value: engineRates.get(top)! },
      note: floorNote(floor.single, engineCpu.get(top)!),
    },
    {
      suite: 'http',
      name: `floor: the engine behind bare node:http, POST /v1/receipts/batch, ${batch} per request, c=${BATCH_CONCURRENCY}`,
      value: floorBatch,
      unit: 'receipts/s',
      limit: {
        name: `engine appendReceipts, ${batch} per tx, c=${BATCH_CONCURRENCY}`,
        value: engineBatchRate,
      },
      note: floorNote(floor.batch, engineBatchCpu),
    },
  );

  const dir = await mkdtemp(join(tmpdir(), 'torgo-bench-http-'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const { child, url, admin } = await startServe(dir);
  /** CPU per receipt of the gateway (all its threads) and of this process, the client, over `run`. */
  const cpuOf = async (receipts: number, run: () => Promise<void>) => {
    const gateway = cpuMsOf(child.pid);
    const client = process.cpuUsage();
    await run();
    const after = cpuMsOf(child.pid);
    return {
      gateway: gateway === undefined || after === undefined ? Number.NaN : (after - gateway) / receipts,
      client: ownCpuMs(client) / receipts,
    };
  };
  /** The CPU part of a row's note, in µs. */
  const cpuNote = (gateway: number, client: number, engine: number, per: string) =>
    `CPU per receipt: gateway ${Math.round(gateway * 1000)} µs, engine alone ${Math.round(engine * 1000)} µs; client ${Math.round(client * 1000)} µs per ${per}`;
  try {
    const token = await appenderWithKey(agent, url, admin, 'bench', key);
    // Warm-up: connections, JIT, the gateway's key cache.
    await drive(smoke ? 4 : 64, 8, async (i) =>
      post(agent, url, token, '/v1/receipts', makeReceipts(1)[0]!, 'text/markdown').then(() => i),
    );

    for (const c of concurrencies) {
      const rates: number[] = [];
      const p50s: number[] = [];
      const p99s: number[] = [];
      const gatewayCpu: number[] = [];
      const clientCpu: number[] = [];
      for (let run = 0; run < runs; run++) {
        const bodies = makeReceipts(perRun).map((mu) => Buffer.from(mu));
        let timed = { latencies: [] as number[], elapsed: Number.NaN };
        const cpu = await cpuOf(perRun, async () => {
          timed = await loadChecked(
            {
              url,
              token,
              path: '/v1/receipts',
              type: 'text/markdown',
              bodies,
              connections: c,
              client: CLIENT,
            },
            perRun,
            createdOne,
          );
        });
        rates.push((perRun * 1000) / timed.elapsed);
        p50s.push(percentile(timed.latencies, 50));
        p99s.push(percentile(timed.latencies, 99));
        gatewayCpu.push(cpu.gateway);
        clientCpu.push(cpu.client);
      }
      const engine = engineCpu.get(c)!;
      rows.push({
        suite: 'http',
        name: `POST /v1/receipts, c=${c}`,
        value: median(rates),
        unit: 'receipts/s',
        limit: { name: `engine alone c=${c}`, value: engineRates.get(c)! },
        note:
          `p50 ${median(p50s).toFixed(1)} ms, p99 ${median(p99s).toFixed(1)} ms; ${cpuNote(median(gatewayCpu), median(clientCpu), engine, 'request')}` +
          (c === top ? `; ${(median(rates) / floorSingle).toFixed(2)}× of the floor` : ''),
      });
      if (c === top) {
        rows.push({
          suite: 'http',
          name: `POST /v1/receipts, c=${c}, receipts per CPU-second (gateway process, client excluded)`,
          value: perSecond(1, median(gatewayCpu)),
          unit: 'receipts/s',
          limit: { name: `engine alone c=${c}, per CPU-second`, value: perSecond(1, engine) },
        });
      }
    }

    // The batch route next to the engine's batched append (same batch size and concurrency, same run).
    const rates: number[] = [];
    const p99s: number[] = [];
    const gatewayCpu: number[] = [];
    const clientCpu: number[] = [];
    for (let run = 0; run < runs; run++) {
      const bodies = batchesOf(makeReceipts(batchRun), batch).map((receipts) =>
        Buffer.from(JSON.stringify({ receipts })),
      );
      let timed = { latencies: [] as number[], elapsed: Number.NaN };
      const cpu = await cpuOf(batchRun, async () => {
        timed = await loadChecked(
          {
            url,
            token,
            path: '/v1/receipts/batch',
            type: 'application/json',
            bodies,
            connections: BATCH_CONCURRENCY,
            client: CLIENT,
          },
          batchRun,
          (status, text) => appendedInBatch(status, text, batch),
        );
      });
      rates.push((batchRun * 1000) / timed.elapsed);
      p99s.push(percentile(timed.latencies, 99));
      gatewayCpu.push(cpu.gateway);
      clientCpu.push(cpu.client);
    }
    rows.push({
      suite: 'http',
      name: `POST /v1/receipts/batch, ${batch} per request, c=${BATCH_CONCURRENCY}`,
      value: median(rates),
      unit: 'receipts/s',
      limit: {
        name: `engine appendReceipts, ${batch} per tx, c=${BATCH_CONCURRENCY}`,
        value: engineBatchRate,
      },
      note: `p99 ${median(p99s).toFixed(1)} ms per request; ${cpuNote(median(gatewayCpu), median(clientCpu), engineBatchCpu, 'receipt')}; ${(median(rates) / floorBatch).toFixed(2)}× of the floor`,
    });
    rows.push({
      suite: 'http',
      name: `POST /v1/receipts/batch, ${batch} per request, receipts per CPU-second (gateway process, client excluded)`,
      value: perSecond(1, median(gatewayCpu)),
      unit: 'receipts/s',
      limit: {
        name: `engine appendReceipts, ${batch} per tx, per CPU-second`,
        value: perSecond(1, engineBatchCpu),
      },
    });
  } finally {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
};
