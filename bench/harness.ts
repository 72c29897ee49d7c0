/**
 * The benchmark harness: repeated runs, medians, the machine and versions, a Markdown table and
 * JSON under bench/results/. Figures belong here, never in timed tests.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';

export interface BenchOptions {
  /** Tiny runs that only prove the harness works (used by npm test). */
  readonly smoke: boolean;
  /** Receipts in the query suite's ledger (`--ledger-receipts`); its default is in queries.ts. */
  readonly ledgerReceipts?: number;
  /** Receipts in the bundle suite's bundle (`--bundle-receipts`); its default is in bundle.ts. */
  readonly bundleReceipts?: number;
  /** Receipts in the relay suite's backlog (`--relay-backlog`); its default is in relay.ts. */
  readonly relayBacklog?: number;
  /** Directory for scratch data (ledgers, bundles): `--scratch`, default the OS temp dir. */
  readonly scratch?: string;
  /**
   * The steady suite's load (`--steady-rate`, `--steady-seconds`, `--steady-clients`, `--steady-tokens`) and the ledger's
   * size before it (`--steady-ledger-receipts`); defaults in steady.ts.
   */
  readonly steady?: {
    readonly rate?: number;
    readonly seconds?: number;
    readonly clients?: number;
    readonly tokens?: number;
    readonly ledgerReceipts?: number;
  };
  /** The soak's length (`--minutes`); its default is in soak.ts. */
  readonly minutes?: number;
  /** The soak's total append rate in receipts/s (`--rate`); its default is in soak.ts. */
  readonly rate?: number;
  /** When the soak exports, in minutes from its start (`--export-at`); default the middle of the run. */
  readonly exportAtMinutes?: number;
}

export interface Row {
  readonly suite: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** What the figure is compared with, measured in the same run (e.g. the limit it should approach). */
  readonly limit?: { readonly name: string; readonly value: number };
  /**
   * The ratio to show when each run was paired with its own measurement of the limit: the median of
   * the runs' ratios (on a shared VM the limit moves within minutes). Otherwise value ÷ limit.value.
   */
  readonly ratio?: number;
  readonly note?: string;
}

export type Suite = (options: BenchOptions) => Promise<Row[]>;

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Milliseconds per clock tick of /proc's CPU times (USER_HZ is 100 on Linux). */
export const TICK_MS = 10;

/**
 * The fields of a /proc `stat` file (`/proc/<pid>/stat`, `/proc/<pid>/task/<tid>/stat`) after the
 * process name, so index 0 is field 3 (`state`), 11–12 are utime and stime, 13–14 the ended children's
 * cutime and cstime; with the name (the text between the parentheses). Undefined if it cannot be read
 * (not Linux, or the process or thread has ended).
 */
export function procStat(path: string): { name: string; fields: string[] } | undefined {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(')');
  return { name: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
}

/** utime + stime of a /proc `stat` file, ms; undefined if it cannot be read. */
export function statCpuMs(path: string): number | undefined {
  const f = procStat(path)?.fields;
  return f && (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/**
 * The distinct LevelDB table files (`.ldb`) process `pid` has memory-mapped, from /proc/<pid>/maps
 * (Linux). LevelDB 1.20 maps the first 1000 tables a process opens and reads any others with `pread`.
 */
export function mappedTableFiles(pid: number | 'self'): number {
  const paths = new Set<string>();
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n'))
    if (line.endsWith('.ldb')) paths.add(line.slice(line.lastIndexOf(' ') + 1));
  return paths.size;
}

export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Median operations per second of `fn` over `runs` runs of at least `minMs` each. */
export function opsPerSecond(fn: () => void, runs: number, minMs: number): number {
  fn(); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      fn();
      n++;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    rates.push((n * 1000) / elapsed);
  }
  return median(rates);
}

/** Runs `op` and reports its wall time, the process's CPU time (all threads) and the main thread's busy time. */
export async function timed<T>(
  op: () => Promise<T>,
): Promise<{ value: T; ms: number; cpuMs: number; mainMs: number }> {
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const value = await op();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  return { value, ms, cpuMs: (cpu.user + cpu.system) / 1000, mainMs: elu.active };
}

function versionOf(pkg: string): string {
  try {
    const file = join(import.meta.dirname, '..', '..', 'node_modules', pkg, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export function environment(): Record<string, string | number> {
  const cpu = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl ?? '',
    platform: `${platform()} ${release()} ${arch()}`,
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    packages: ['classic-level', 'fabric-shim', '@noble/post-quantum', 'fastify']
      .map((p) => `${p} ${versionOf(p)}`)
      .join(', '),
    date: new Date().toISOString(),
  };
}

function fmt(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  if (n >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

export function toMarkdown(env: Record<string, string | number>, rows: readonly Row[]): string {
  const head = Object.entries(env)
    .map(([k, v]) => `${k}: ${v}`)
    .join(' · ');
  const lines = [
    '# TORGO Ledger benchmarks',
    '',
    head,
    '',
    '| suite | measurement | value | unit | limit (same run) | ratio | note |',
    '|---|---|---:|---|---|---:|---|',
  ];
  for (const r of rows) {
    const limit = r.limit ? `${r.limit.name}: ${fmt(r.limit.value)}` : '';
    const shown = r.ratio ?? (r.limit ? r.value / r.limit.value : undefined);
    const ratio = shown === undefined ? '' : `${shown.toFixed(2)}×`;
    lines.push(
      `| ${r.suite} | ${r.name} | ${fmt(r.value)} | ${r.unit} | ${limit} | ${ratio} | ${r.note ?? ''} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function writeResults(
  dir: string,
  env: Record<string, string | number>,
  rows: readonly Row[],
): string {
  mkdirSync(dir, { recursive: true });
  const stamp = String(env['date']).replace(/[:.]/g, '-');
  const md = toMarkdown(env, rows);
  writeFileSync(join(dir, `bench-${stamp}.md`), md);
  writeFileSync(join(dir, `bench-${stamp}.json`), `${JSON.stringify({ environment: env, rows }, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), md);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify({ environment: env, rows }, null, 2)}\n`);
  return md;
}

/** Bytes this process has caused to be written to disk so far (/proc/self/io `write_bytes`). */
export function bytesWritten(): number {
  const m = /^write_bytes: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return m ? Number(m[1]) : 0;
}
