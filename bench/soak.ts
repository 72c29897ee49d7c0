/**
 * Soak: `torgo serve` (child process, embedded ledger, the default rate limit of 6,000 requests/min
 * per token) under a steady load for `--minutes N` (default 10): 8 keep-alive clients, each with its
 * own token and source, at a fixed total rate (`--rate`, default 150 receipts/s), one ML-DSA-65
 * receipt (~4.8 KB) per request, signed ahead by a niced child process (soak-signer.ts), plus a
 * query and a checkpoint read per interval. Every 10 s it samples the server's RSS, its CPU per
 * receipt (by thread), the data dir's disk per receipt, LevelDB's tables (and how many are mapped)
 * and the append latency (p50/p99/max); in the middle (or at `--export-at MIN`) it exports one client's source
 * (GET /v1/export) while the load goes on: time, receipts/s, RSS before and after. The per-interval table is printed and
 * written to bench/results/soak-<date>.md; the summary rows join the bench table. Smoke mode (npm
 * test) runs it for a few seconds with 1-second intervals. Not part of a plain `npm run bench`:
 * name it (`--only soak`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publicKeyToPem } from '../core/index.js';
import { type BenchOptions, mappedTableFiles, median, percentile, type Row, type Suite } from './harness.js';
import { request, type ServeChild, startServe, threadCpuMsOf } from './http.js';
import { verifyOneThread } from './engine.js';
import { benchKey, type ReceiptShape } from './receipts.js';
import type { SignedChunk, SignRequest } from './soak-signer.js';

const CLIENTS = 8;
const SOURCE = (c: number) => `soak-relay-${c}`;

interface Interval {
  readonly atSeconds: number;
  readonly receipts: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly rssMiB: number;
  /** The anonymous part of the RSS (heaps, buffers); the rest is file pages (the binary, LevelDB's mmapped tables). */
  readonly anonMiB: number;
  readonly cpuMsPerReceipt: number;
  /**
   * The same CPU by thread (ms per receipt): the main thread (HTTP, contract, engine, log builder),
   * libuv's (LevelDB's reads, writes and fsyncs, and its compaction thread, which inherits the
   * name), the verification workers, and the rest (V8's GC and compiler helpers): what grows in a
   * long run (docs/performance.md §12).
   */
  readonly threads: { main: number; libuv: number; workers: number; other: number };
  readonly diskKBPerReceipt: number;
  /**
   * LevelDB's table files in the data dir, and how many of them the server has memory-mapped: LevelDB
   * 1.20 maps the first 1000 tables it opens and reads any others with `pread` (docs/performance.md §12).
   */
  readonly tables: number;
  readonly mappedTables: number;
}

interface ExportFigures {
  readonly atSeconds: number;
  readonly receipts: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  readonly rssPeakMiB: number;
  readonly anonBeforeMiB: number;
  readonly anonAfterMiB: number;
  readonly anonPeakMiB: number;
}

/**
 * The child's resident set and its anonymous part (MiB), and CPU time (ms, user + system), from /proc.
 * LevelDB reads its table files through mmap, so a long read (an export) brings file pages into the
 * RSS that the kernel can drop at will: the anonymous part is what the process itself holds.
 */
function processFigures(pid: number): { rssMiB: number; anonMiB: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s*(\d+)/.exec(status)?.[1] ?? 0);
  const anonKiB = Number(/RssAnon:\s*(\d+)/.exec(status)?.[1] ?? 0);
  // Fields after the command name: state is the 1st, utime the 12th, stime the 13th (clock ticks).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMiB: rssKiB / 1024, anonMiB: anonKiB / 1024, cpuMs: ticks * 10 };
}

/** The bytes under `dir`, and how many of its files are LevelDB tables (`.ldb`). */
async function diskUsage(dir: string): Promise<{ bytes: number; tables: number }> {
  let bytes = 0;
  let tables = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    try {
      bytes += (await stat(join(entry.parentPath, entry.name))).size;
      if (entry.name.endsWith('.ldb')) tables++;
    } catch {
      // a LevelDB file compacted away between readdir and stat
    }
  }
  return { bytes, tables };
}

/**
 * The soak's signer (soak-signer.ts): one child process at the lowest CPU priority that signs each
 * client's receipts, an interval's worth per refill. Signing is the clients' cost, not the server's:
 * in this process, in bursts at the server's priority, it showed up in the server's tail.
 */
class Signer {
  private readonly child: ChildProcess;
  /** Per client: the receipts signed and not yet taken, and its refills still being signed. */
  private readonly ready: string[][];
  private readonly pending: { resolve: () => void; reject: (e: Error) => void }[][];
  private failure: Error | undefined;

  constructor(
    clients: number,
    private readonly perInterval: number,
  ) {
    this.ready = Array.from({ length: clients }, () => []);
    this.pending = Array.from({ length: clients }, () => []);
    this.child = fork(fileURLToPath(new URL('./soak-signer.js', import.meta.url)), {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (chunk: SignedChunk) => {
      this.ready[chunk.client]!.push(...chunk.receipts);
      if (chunk.done) this.pending[chunk.client]!.shift()?.resolve();
    });
    this.child.once('exit', (code, signal) => {
      this.failure = new Error(`the soak's signer exited (${signal ?? code})`);
      for (const waiting of this.pending) for (const w of waiting.splice(0)) w.reject(this.failure);
    });
  }

  /** Asks for client `client`'s next interval of receipts; resolves once they are all signed. */
  refill(client: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const shapes: ReceiptShape[] = Array.from({ length: this.perInterval }, (_, i) => ({
      source: SOURCE(client),
      subject: `urn:torgo:subject:${(client * 7919 + i) % 5000}`,
    }));
    return new Promise((resolve, reject) => {
      this.pending[client]!.push({ resolve, reject });
      this.child.send({ client, shapes } satisfies SignRequest);
    });
  }

  take(client: number): string | undefined {
    return this.ready[client]!.shift();
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect(); // the signer exits when its channel closes
    await exited;
  }
}

/** What a client counts per interval; `reasons` says what each error was (status or error code). */
interface Sink {
  latencies: number[];
  receipts: number;
  errors: number;
  reasons: Map<string, number>;
}

/** One client: sends at its share of the rate on its own keep-alive connection, records latencies. */
async function runClient(
  serve: ServeChild,
  token: string,
  nextReceipt: () => string | undefined,
  perSecond: number,
  until: number,
  sink: Sink,
): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const gap = 1000 / perSecond;
  let next = performance.now() + Math.random() * gap;
  try {
    // Ends at `until` whatever was sent. A client behind its schedule (a server slower than the
    // rate) sends its next request at once but never makes up the sends it missed: the achieved
    // rate shows the shortfall, and the run still ends on time (catching up kept an overloaded
    // run going for as long again).
    while (performance.now() < until) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      next = Math.max(next + gap, performance.now());
      const mu = nextReceipt();
      if (!mu) {
        sink.errors++; // the signer fell behind: counted, never hidden
        continue;
      }
      const t0 = performance.now();
      const r = await request(agent, serve.url, 'POST', '/v1/receipts', token, mu, 'text/markdown').catch(
        (e: NodeJS.ErrnoException) => ({ status: 0, text: e.code ?? e.message }),
      );
      sink.latencies.push(performance.now() - t0);
      if (r.status === 201) sink.receipts++;
      else {
        sink.errors++;
        const why = r.status === 0 ? r.text : `HTTP ${r.status}`;
        sink.reasons.set(why, (sink.reasons.get(why) ?? 0) + 1);
      }
    }
  } finally {
    agent.destroy();
  }
}

/** A streamed GET's outcome: its bytes and what was counted in them, or the status and Retry-After of a refusal. */
export type Streamed = { bytes: number; receipts: number } | { status: number; retryAfter: number };

/**
 * GET `path` with `token` and `accept`, its body read as it streams: `count` is given each chunk and
 * answers the total counted when the body ends.
 */
export function streamedGet(
  serve: ServeChild,
  token: string,
  path: string,
  accept: string,
  count: { chunk(d: Buffer): void; total(): number },
): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    http
      .get(new URL(path, serve.url), { headers: { authorization: `Bearer ${token}`, accept } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve({ status: res.statusCode ?? 0, retryAfter: Number(res.headers['retry-after'] ?? 1) });
          return;
        }
        let bytes = 0;
        res.on('data', (d: Buffer) => {
          bytes += d.length;
          count.chunk(d);
        });
        res.on('end', () => resolve({ bytes, receipts: count.total() }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** GET /v1/export of `source`: bytes and receipt lines, or the status and Retry-After of a refusal. */
export function exportOnce(serve: ServeChild, token: string, source: string): Promise<Streamed> {
  let receipts = 0;
  let tail = '';
  const text = new StringDecoder('utf8'); // a character cut between two chunks is decoded whole
  return streamedGet(
    serve,
    token,
    `/v1/export?source=${encodeURIComponent(source)}`,
    'application/x-ndjson',
    {
      chunk(d) {
        const parts = (tail + text.write(d)).split('\n');
        tail = parts.pop()!;
        for (const p of parts) if (p.startsWith('{"type":"receipt"')) receipts++;
      },
      total: () => receipts,
    },
  );
}

/**
 * `exportOnce`, sent again as its Retry-After says while the gateway answers 503 (the log still
 * catching up with the ledger); any other answer is returned.
 */
export async function exportWhenLogged(
  serve: ServeChild,
  token: string,
  source: string,
): ReturnType<typeof exportOnce> {
  for (;;) {
    const r = await exportOnce(serve, token, source);
    if (!('retryAfter' in r) || r.status !== 503) return r;
    await new Promise((resolve) => setTimeout(resolve, r.retryAfter * 1000));
  }
}

/**
 * GET /v1/export of one source while the load runs, retried as its Retry-After says while the
 * log catches up with the ledger (503); the server's RSS sampled around it.
 */
async function exportDuring(
  serve: ServeChild,
  token: string,
  source: string,
  startedAt: number,
): Promise<ExportFigures> {
  const pid = serve.child.pid!;
  const before = processFigures(pid);
  let peak = before.rssMiB;
  let anonPeak = before.anonMiB;
  const sampler = setInterval(() => {
    const now = processFigures(pid);
    peak = Math.max(peak, now.rssMiB);
    anonPeak = Math.max(anonPeak, now.anonMiB);
  }, 250);
  const t0 = performance.now();
  try {
    for (let attempt = 1; ; attempt++) {
      const tAttempt = performance.now();
      const r = await exportOnce(serve, token, source);
      if ('bytes' in r) {
        const after = processFigures(pid);
        return {
          atSeconds: Math.round((t0 - startedAt) / 1000),
          receipts: r.receipts,
          bytes: r.bytes,
          seconds: (performance.now() - tAttempt) / 1000,
          rssBeforeMiB: before.rssMiB,
          rssAfterMiB: after.rssMiB,
          rssPeakMiB: peak,
          anonBeforeMiB: before.anonMiB,
          anonAfterMiB: after.anonMiB,
          anonPeakMiB: anonPeak,
        };
      }
      if (r.status !== 503 || attempt === 10) throw new Error(`export: HTTP ${r.status}`);
      await new Promise((resolve) => setTimeout(resolve, r.retryAfter * 1000));
    }
  } finally {
    clearInterval(sampler);
  }
}

/** CPU per receipt between two samples of threadCpuMsOf, in the soak's four groups. */
function threadShares(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  receipts: number,
): Interval['threads'] {
  const out = { main: 0, libuv: 0, workers: 0, other: 0 };
  if (!receipts) return out;
  for (const [name, ms] of after) {
    const group =
      name === 'main'
        ? 'main'
        : name === 'libuv-worker'
          ? 'libuv'
          : name === 'WorkerThread'
            ? 'workers'
            : 'other';
    out[group] += Math.max(0, ms - (before.get(name) ?? 0)) / receipts;
  }
  return out;
}

function intervalTable(intervals: readonly Interval[], exp: ExportFigures | undefined): string {
  const lines = [
    '| t (s) | receipts/s | errors | p50 (ms) | p99 (ms) | max (ms) | RSS (MiB) | of it anonymous (MiB) | CPU per receipt (ms) | of it main / libuv+LevelDB / verify workers / other | disk per receipt (KB) | tables / mapped |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|',
  ];
  let last = 0;
  for (const i of intervals) {
    const secs = i.atSeconds - last;
    last = i.atSeconds;
    lines.push(
      `| ${i.atSeconds} | ${(i.receipts / secs).toFixed(0)} | ${i.errors} | ${i.p50.toFixed(1)} | ${i.p99.toFixed(1)} | ${i.max.toFixed(0)} | ${i.rssMiB.toFixed(0)} | ${i.anonMiB.toFixed(0)} | ${i.cpuMsPerReceipt.toFixed(2)} | ${[i.threads.main, i.threads.libuv, i.threads.workers, i.threads.other].map((ms) => ms.toFixed(2)).join(' / ')} | ${i.diskKBPerReceipt.toFixed(2)} | ${i.tables} / ${i.mappedTables} |`,
    );
  }
  if (exp) {
    lines.push(
      '',
      `Export at ${exp.atSeconds} s (under the load above): ${exp.receipts} receipts, ${(exp.bytes / 2 ** 20).toFixed(1)} MiB in ${exp.seconds.toFixed(1)} s = ${(exp.receipts / exp.seconds).toFixed(0)} receipts/s; server RSS ${exp.rssBeforeMiB.toFixed(0)} MiB before, ${exp.rssPeakMiB.toFixed(0)} MiB peak, ${exp.rssAfterMiB.toFixed(0)} MiB after (anonymous ${exp.anonBeforeMiB.toFixed(0)} → peak ${exp.anonPeakMiB.toFixed(0)} → ${exp.anonAfterMiB.toFixed(0)} MiB).`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const soakSuite: Suite = async (options: BenchOptions) => {
  const { smoke } = options;
  const minutes = options.minutes ?? (smoke ? 0.1 : 10);
  const rate = options.rate ?? (smoke ? 40 : 150);
  const intervalMs = smoke ? 1_000 : 10_000;
  const intervals = Math.max(2, Math.round((minutes * 60_000) / intervalMs));
  const exportInterval =
    options.exportAtMinutes === undefined
      ? Math.ceil(intervals / 2)
      : Math.min(intervals, Math.max(1, Math.round((options.exportAtMinutes * 60_000) / intervalMs)));
  const perClient = rate / CLIENTS;
  const perInterval = Math.ceil((perClient * intervalMs) / 1000);
  const dir = await mkdtemp(join(options.scratch ?? '/tmp', 'torgo-bench-soak-'));
  const serve = await startServe(dir, [], {
    env: { TORGO_RATE_LIMIT_MAX: '6000', TORGO_RATE_LIMIT_WINDOW_MS: '60000' },
  });
  const exited = new Promise<void>((resolve) => serve.child.once('exit', () => resolve()));
  const agent = new http.Agent({ keepAlive: true });
  const signer = new Signer(CLIENTS, perInterval);
  try {
    const token = async (name: string, roles: string[]): Promise<string> => {
      const r = await request(
        agent,
        serve.url,
        'POST',
        '/v1/tokens',
        serve.admin,
        JSON.stringify({ name, roles }),
      );
      if (r.status !== 201) throw new Error(`token: ${r.status} ${r.text}`);
      return (JSON.parse(r.text) as { token: string }).token;
    };
    const tokens = await Promise.all(
      Array.from({ length: CLIENTS }, (_, c) => token(`soak-${c}`, ['appender'])),
    );
    const auditor = await token('soak-auditor', ['auditor']);
    const reg = await request(
      agent,
      serve.url,
      'POST',
      '/v1/keys',
      tokens[0]!,
      JSON.stringify({ publicKey: publicKeyToPem(benchKey) }),
    );
    if (reg.status !== 201) throw new Error(`key: ${reg.status} ${reg.text}`);
    // Two intervals ahead, then one more per interval. A smoke run (npm test, beside other tests on
    // a loaded machine, where a niced signer can starve) signs its whole run before it starts, so an
    // error it counts is the server's.
    const ahead = smoke ? intervals + 1 : 2;
    await Promise.all(tokens.flatMap((_, c) => Array.from({ length: ahead }, () => signer.refill(c))));
    // The machine's speed, before and after the load (the server idle): CPU per receipt is also
    // given in raw native ML-DSA-65 verifies on one thread, comparable across machines.
    const rawBefore = verifyOneThread(smoke);

    const sinks: Sink[] = tokens.map(() => ({ latencies: [], receipts: 0, errors: 0, reasons: new Map() }));
    const startedAt = performance.now();
    const until = startedAt + intervals * intervalMs;
    const clients = tokens.map((t, c) =>
      runClient(serve, t, () => signer.take(c), perClient, until, sinks[c]!),
    );
    const rows: Interval[] = [];
    let exportRun: Promise<ExportFigures> | undefined;
    const auditorFailures: string[] = [];
    let cpu0 = processFigures(serve.child.pid!).cpuMs;
    let threads0 = threadCpuMsOf(serve.child.pid);
    let total = 0;
    for (let k = 1; k <= intervals; k++) {
      // A signer that died supplies nothing more: the clients count each missing receipt as an error.
      if (!smoke) for (const c of tokens.keys()) signer.refill(c).catch(() => {});
      await new Promise((r) => setTimeout(r, startedAt + k * intervalMs - performance.now()));
      const latencies = sinks.flatMap((s) => s.latencies);
      const receipts = sinks.reduce((n, s) => n + s.receipts, 0);
      const errors = sinks.reduce((n, s) => n + s.errors, 0);
      const reasons = new Map<string, number>();
      for (const s of sinks) {
        for (const [why, n] of s.reasons) reasons.set(why, (reasons.get(why) ?? 0) + n);
        s.latencies = [];
        s.receipts = 0;
        s.errors = 0;
        s.reasons = new Map();
      }
      total += receipts;
      const { rssMiB, anonMiB, cpuMs } = processFigures(serve.child.pid!);
      const threads = threadCpuMsOf(serve.child.pid);
      const disk = await diskUsage(join(dir, 'data'));
      rows.push({
        atSeconds: Math.round((k * intervalMs) / 1000),
        receipts,
        errors,
        p50: latencies.length ? percentile(latencies, 50) : 0,
        p99: latencies.length ? percentile(latencies, 99) : 0,
        max: latencies.length ? Math.max(...latencies) : 0,
        rssMiB,
        anonMiB,
        cpuMsPerReceipt: receipts ? (cpuMs - cpu0) / receipts : 0,
        threads: threadShares(threads0, threads, receipts),
        diskKBPerReceipt: total ? disk.bytes / total / 1000 : 0,
        tables: disk.tables,
        mappedTables: mappedTableFiles(serve.child.pid!),
      });
      cpu0 = cpuMs;
      threads0 = threads;
      const why = [...reasons].map(([r, n]) => `${r} ×${n}`).join(', ');
      process.stderr.write(
        `soak: ${rows.at(-1)!.atSeconds} s, ${receipts} receipts, ${errors} errors${why ? ` (${why})` : ''}, RSS ${rssMiB.toFixed(0)} MiB (anonymous ${anonMiB.toFixed(0)})\n`,
      );
      // The auditor's routine while the load runs: a query and a checkpoint read per interval. A
      // failure is counted and reported, never the end of the run.
      for (const route of [`/v1/receipts?source=${SOURCE(1)}&limit=10`, '/v1/checkpoint']) {
        const r = await request(agent, serve.url, 'GET', route, auditor).catch((e: Error) => ({
          status: 0,
          text: e.message,
        }));
        if (r.status !== 200)
          auditorFailures.push(`${rows.at(-1)!.atSeconds} s ${route}: ${r.status} ${r.text}`);
      }
      if (k === exportInterval) {
        exportRun = exportDuring(serve, auditor, SOURCE(0), startedAt);
        exportRun.catch(() => {}); // awaited (and reported) after the load
      }
    }
    await Promise.all(clients);
    const rawAfter = verifyOneThread(smoke);
    const raw = median([rawBefore, rawAfter]);
    let exportFailure: string | undefined;
    const exp = await exportRun?.catch((e: Error) => {
      exportFailure = e.message;
      return undefined;
    });
    let table = intervalTable(rows, exp);
    if (exportFailure) table += `\nThe export in the middle failed: ${exportFailure}\n`;
    if (auditorFailures.length > 0)
      table += `\nAuditor requests that failed (${auditorFailures.length}):\n${auditorFailures.map((f) => `- ${f}`).join('\n')}\n`;
    process.stderr.write(table);
    if (!smoke) {
      const results = join(import.meta.dirname, '..', '..', 'bench', 'results');
      await mkdir(results, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      await writeFile(
        join(results, `soak-${stamp}.md`),
        `# Soak, ${minutes} min at ${rate} receipts/s, ${CLIENTS} clients\n\n${table}`,
      );
    }
    const steady = rows.slice(1); // the first interval includes the warm-up
    const errors = rows.reduce((n, r) => n + r.errors, 0);
    // A long run keeps its table whatever failed; the smoke run (npm test) must fail on any failure,
    // a refused append or a receipt the signer did not supply in time included.
    if (smoke && (exportFailure || auditorFailures.length > 0 || errors > 0)) throw new Error(table);
    const note = `${minutes} min, ${CLIENTS} clients at ${rate}/s in total, ${total.toLocaleString('en-US')} receipts, ${errors} errors; auditor requests failed: ${auditorFailures.length}; export ${exportFailure ? `failed (${exportFailure})` : 'ok'}`;
    const out: Row[] = [
      {
        suite: 'soak',
        name: 'append p50, median of the 10 s intervals',
        value: median(steady.map((r) => r.p50)),
        unit: 'ms',
        note,
      },
      {
        suite: 'soak',
        name: 'append p99, worst 10 s interval',
        value: Math.max(...steady.map((r) => r.p99)),
        unit: 'ms',
        note: `median interval ${median(steady.map((r) => r.p99)).toFixed(1)} ms; worst request ${Math.max(...rows.map((r) => r.max)).toFixed(0)} ms`,
      },
      {
        suite: 'soak',
        name: 'server CPU per receipt, median interval',
        value: median(steady.map((r) => r.cpuMsPerReceipt)),
        unit: 'ms',
        limit: { name: 'target', value: 1.5 },
        note: `= ${((median(steady.map((r) => r.cpuMsPerReceipt)) * raw) / 1000).toFixed(1)} raw native ML-DSA-65 verifies on one thread of this machine (${rawBefore.toFixed(0)}/s before the load, ${rawAfter.toFixed(0)}/s after)`,
      },
      {
        suite: 'soak',
        name: 'disk per receipt at the end (data dir ÷ receipts)',
        value: rows.at(-1)!.diskKBPerReceipt,
        unit: 'KB',
      },
      {
        suite: 'soak',
        name: 'server RSS at the end',
        value: rows.at(-1)!.rssMiB,
        unit: 'MiB',
        note: `first interval ${rows[0]!.rssMiB.toFixed(0)} MiB, highest ${Math.max(...rows.map((r) => r.rssMiB)).toFixed(0)} MiB; anonymous at the end ${rows.at(-1)!.anonMiB.toFixed(0)} MiB, highest ${Math.max(...rows.map((r) => r.anonMiB)).toFixed(0)} MiB (the rest is file pages: the node binary and LevelDB's mmapped tables)`,
      },
    ];
    if (exp) {
      out.push({
        suite: 'soak',
        name: `GET /v1/export of one source under load (${exp.receipts.toLocaleString('en-US')} receipts)`,
        value: exp.receipts / exp.seconds,
        unit: 'receipts/s',
        note: `${(exp.bytes / 2 ** 20).toFixed(1)} MiB in ${exp.seconds.toFixed(1)} s; server RSS ${exp.rssBeforeMiB.toFixed(0)} → peak ${exp.rssPeakMiB.toFixed(0)} → ${exp.rssAfterMiB.toFixed(0)} MiB, anonymous ${exp.anonBeforeMiB.toFixed(0)} → ${exp.anonPeakMiB.toFixed(0)} → ${exp.anonAfterMiB.toFixed(0)} MiB`,
      });
    }
    return out;
  } finally {
    agent.destroy();
    await signer.close();
    serve.child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
};
