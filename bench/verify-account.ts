/**
 * `torgo verify`'s worker accounted (docs/performance.md §13). Three modes:
 *
 *   npx node dist/bench/verify-account.js make --receipts 20000 --dir DIR
 *     signs and exports the bundle bench (bench/bundle.ts) verifies: DIR/bundle.jsonl, DIR/operator.pub.pem
 *   npx node dist/bench/verify-account.js steps --dir DIR [--tree /work/base --tree .] [--lines 1000] [--rounds 7]
 *     the worker's steps run one by one in this thread over receipt lines of the bundle, CPU µs per receipt
 *     (process.threadCpuUsage), each tree's build imported in this process, trees alternating pass by pass
 *   npx node dist/bench/verify-account.js cli --dir DIR [--tree /work/base --tree .] [--workers 1,2] [--rounds 3]
 *     `torgo verify --json` of each tree in a child, alternating (the order swapped each round), CPU per
 *     thread of the child from /proc at its exit: main thread, V8/libuv helpers, and the workers (the
 *     process total less the threads still alive at exit)
 */
import './quiet-logs.js';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { publicKeyToPem } from '../core/index.js';
import { Checkpointer } from '../gateway/logbuilder/checkpointer.js';
import { buildLog, exportTo, ORIGIN, operatorKey, runNode } from './bundle.js';
import { verifyOneThread } from './engine.js';
import { median } from './harness.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string' },
    receipts: { type: 'string', default: '20000' },
    tree: { type: 'string', multiple: true },
    lines: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
    workers: { type: 'string', default: '1,2' },
  },
});
const dir = resolve(values.dir ?? 'verify-account');
const trees = (values.tree ?? [join(import.meta.dirname, '..', '..')]).map((t) => resolve(t));
const rounds = Number(values.rounds);
const bundleFile = join(dir, 'bundle.jsonl');
const trustFile = join(dir, 'operator.pub.pem');

async function make(): Promise<void> {
  const total = Number(values.receipts);
  await mkdir(dir, { recursive: true });
  const store = await buildLog(dir, total, join(dir, 'receipts.jsonl'));
  const checkpointer = await Checkpointer.open(store, { origin: ORIGIN, key: operatorKey });
  try {
    await writeFile(trustFile, publicKeyToPem(operatorKey));
    const n = await exportTo(store, checkpointer, join(dir, 'receipts.jsonl'), total, bundleFile);
    console.log(`${n} receipts in ${bundleFile}`);
  } finally {
    await checkpointer.stop();
    await store.close();
  }
}

/** A tree's build, the modules the worker's steps are in. */
interface Tree {
  readonly name: string;
  readonly core: typeof import('../core/index.js');
  readonly frames: typeof import('../core/bundle/frames.js');
  readonly format: typeof import('../core/bundle/format.js');
  readonly entries: typeof import('../core/bundle/entries.js');
  readonly receipt: typeof import('../core/receipt/receipt.js');
  readonly proof: typeof import('../core/log/proof.js');
}

async function loadTree(root: string): Promise<Tree> {
  const load = (p: string) => import(pathToFileURL(join(root, 'dist', p)).href);
  return {
    name: root,
    core: await load('core/index.js'),
    frames: await load('core/bundle/frames.js'),
    format: await load('core/bundle/format.js'),
    entries: await load('core/bundle/entries.js'),
    receipt: await load('core/receipt/receipt.js'),
    proof: await load('core/log/proof.js'),
  };
}

type Context = Parameters<Tree['frames']['checkFrameBatch']>[1];

/** The receipt context and the first `limit` receipt lines' bytes, as `verifyBundleBytes` hands them to a checker. */
async function captureLines(tree: Tree, limit: number): Promise<{ context: Context; lines: Uint8Array[] }> {
  const lines: Uint8Array[] = [];
  let context: Context | undefined;
  const checker = tree.core.inThreadChecker();
  const report = await tree.core.verifyBundleBytes(createReadStream(bundleFile, { highWaterMark: 1 << 20 }), {
    trusted: [{ name: ORIGIN, key: tree.core.importPublicKey(readFileSync(trustFile, 'utf8')) }],
    checker: {
      check: checker.check,
      async checkFrames(batch, ctx) {
        context = ctx;
        const bytes = new Uint8Array(batch.buffer);
        for (const line of tree.frames.frameLines(bytes, batch.ends))
          if (lines.length < limit) lines.push(line.slice());
        return checker.checkFrames!(batch, ctx);
      },
    },
  });
  if (!report.valid) throw new Error(`bundle not valid: ${JSON.stringify(report.failures[0])}`);
  return { context: context!, lines };
}

/** CPU µs per line of `step` over every line, on this thread. */
function cpuPerLine(lines: readonly Uint8Array[], step: (line: Uint8Array, i: number) => unknown): number {
  const t0 = process.threadCpuUsage();
  for (let i = 0; i < lines.length; i++) step(lines[i]!, i + 10);
  const t = process.threadCpuUsage(t0);
  return (t.user + t.system) / lines.length;
}

/** The worker's steps of one tree, each a function of a line. */
function stepsOf(t: Tree, context: Context, lines: readonly Uint8Array[]) {
  const frames = lines.map((l, i) => t.frames.readReceiptFrame(l, i + 10)!);
  const receipts = frames.map((f) => t.receipt.parseReceipt(f.mu));
  const key = t.core.importPublicKey(context.keys[0]!.publicKey);
  const root = t.core.fromBase64(context.rootHash, 'E_BUNDLE_SYNTAX', 'root');
  let verifier = new t.proof.InclusionVerifier(context.treeSize, root);
  let decoder = new t.format.ProofDecoder();
  const batch = (() => {
    const total = lines.reduce((n, l) => n + l.length, 0);
    const bytes = new Uint8Array(total);
    const ends: number[] = [];
    let at = 0;
    for (const l of lines) {
      bytes.set(l, at);
      at += l.length;
      ends.push(at);
    }
    return { firstLine: 10, buffer: bytes.buffer, ends };
  })();
  return {
    'readReceiptFrame (prefix JSON + shape, mu bytes)': (l: Uint8Array, i: number) =>
      t.frames.readReceiptFrame(l, i),
    'parseReceipt(bytes)': (_: Uint8Array, i: number) => t.receipt.parseReceipt(frames[i - 10]!.mu),
    'leaf hash': (_: Uint8Array, i: number) => t.entries.entryLeafHash(frames[i - 10]!.line.entry),
    'inclusion (proof decode + verify)': (_: Uint8Array, i: number) => {
      if (i === 10) {
        verifier = new t.proof.InclusionVerifier(context.treeSize, root);
        decoder = new t.format.ProofDecoder();
      }
      const f = frames[i - 10]!;
      verifier.verify(
        f.line.leafIndex,
        t.entries.entryLeafHash(f.line.entry),
        decoder.decode(f.line.proof, i),
      );
    },
    'ML-DSA verify': (_: Uint8Array, i: number) =>
      t.receipt.verifyReceiptSignatures(receipts[i - 10]!, () => key),
    'checkFrameBatch (all of it, fresh context)': (_: Uint8Array, i: number) => {
      // the whole batch once, at the first line (a fresh context each pass: no memo carried over)
      if (i === 10) {
        const results = t.frames.checkFrameBatch(batch, { ...context });
        if (results.some((r) => r === 0 || r.check.failure)) throw new Error('a line failed');
      }
    },
  };
}

async function steps(): Promise<void> {
  const loaded = await Promise.all(trees.map(loadTree));
  // Each tree's own context (its shape is the tree's: branch vpost added the keys as read), the same lines.
  const captured = await Promise.all(loaded.map((t) => captureLines(t, Number(values.lines))));
  const lines = captured[0]!.lines;
  const byTree = loaded.map((t, i) => stepsOf(t, captured[i]!.context, lines));
  const names = Object.keys(byTree[0]!) as (keyof (typeof byTree)[0])[];
  const samples = new Map<string, number[]>();
  const load0 = loadavg()[0]!;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < loaded.length; k++) {
      const ti = r % 2 === 0 ? k : loaded.length - 1 - k;
      for (const name of names) {
        const us = cpuPerLine(lines, byTree[ti]![name]);
        const key = `${name}\t${ti}`;
        samples.set(key, [...(samples.get(key) ?? []), us]);
      }
    }
  }
  console.log(
    `${lines.length} lines, ${rounds} rounds, load ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
  );
  console.log(['step', ...loaded.map((t) => t.name)].join('\t'));
  for (const name of names) {
    const meds = loaded.map((_, ti) => median(samples.get(`${name}\t${ti}`)!));
    const ratio = meds.length > 1 ? `\t${(meds[meds.length - 1]! / meds[0]!).toFixed(2)}×` : '';
    console.log(`${name}\t${meds.map((m) => m.toFixed(1)).join('\t')}${ratio}`);
  }
}

/** Loaded before the CLI in the child: CPU ms per thread at exit (/proc), and the process's total. */
const CPU_PROBE = `data:text/javascript,${encodeURIComponent(
  'import{readFileSync,readdirSync}from"node:fs";process.on("exit",()=>{const t=(s)=>{const f=s.slice(s.lastIndexOf(")")+2).split(" ");return(Number(f[11])+Number(f[12]))*10};' +
    'const o={total:t(readFileSync("/proc/self/stat","utf8")),threads:{}};' +
    'for(const id of readdirSync("/proc/self/task")){try{const s=readFileSync("/proc/self/task/"+id+"/stat","utf8");' +
    'const n=id===String(process.pid)?"main":s.slice(s.indexOf("(")+1,s.lastIndexOf(")"));o.threads[n]=(o.threads[n]??0)+t(s)}catch{}}' +
    'o.rss=Number(/VmHWM:\\s*(\\d+)/.exec(readFileSync("/proc/self/status","utf8"))[1]);process.stderr.write("\\ncpu="+JSON.stringify(o)+"\\n")})',
)}`;

interface CliRun {
  readonly wall: number;
  readonly receipts: number;
  readonly main: number;
  readonly helpers: number;
  readonly workers: number;
  readonly total: number;
  readonly rssMiB: number;
}

async function verifyRun(tree: string, workers: number): Promise<CliRun> {
  const bin = join(tree, 'bin', 'torgo.js');
  const args = [
    '--import',
    CPU_PROBE,
    bin,
    'verify',
    bundleFile,
    '--trust',
    trustFile,
    '--workers',
    String(workers),
    '--json',
  ];
  const { code, stdout, stderr, ms: wall } = await runNode(args);
  const m = /cpu=(.*)/.exec(stderr);
  const report =
    code === 0 ? (JSON.parse(stdout) as { valid: boolean; counts: { receipts: number } }) : undefined;
  if (!m || !report?.valid)
    throw new Error(`${tree}: torgo verify exited with ${code}: ${stderr.slice(-1000)}`);
  const cpu = JSON.parse(m[1]!) as { total: number; threads: Record<string, number>; rss: number };
  const main = cpu.threads['main'] ?? 0;
  const alive = Object.values(cpu.threads).reduce((a, b) => a + b, 0);
  return {
    wall,
    receipts: report.counts.receipts,
    main,
    helpers: alive - main,
    workers: cpu.total - alive,
    total: cpu.total,
    rssMiB: cpu.rss / 1024,
  };
}

async function cli(): Promise<void> {
  const counts = values.workers.split(',').map(Number);
  const runs = new Map<string, CliRun[]>();
  const raws: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const w of counts) {
      const order = r % 2 === 0 ? trees : [...trees].reverse();
      for (const tree of order) {
        const run = await verifyRun(tree, w);
        const key = `${w}\t${tree}`;
        runs.set(key, [...(runs.get(key) ?? []), run]);
        console.log(
          `round ${r + 1} workers ${w} ${tree}: wall ${(run.wall / 1000).toFixed(1)} s, main ${run.main} ms, workers ${run.workers} ms, helpers ${run.helpers} ms, rss ${run.rssMiB.toFixed(0)} MiB, load ${loadavg()[0]!.toFixed(1)}`,
        );
      }
    }
    const t0 = process.threadCpuUsage();
    const rate = verifyOneThread(false);
    const t = process.threadCpuUsage(t0);
    raws.push(rate);
    console.log(
      `raw verify ${rate.toFixed(0)}/s (${(((t.user + t.system) / 1e6) * 1).toFixed(2)} s CPU for the run)`,
    );
  }
  console.log('\nmedians (ms CPU; wall s)');
  for (const w of counts) {
    for (const tree of trees) {
      const rs = runs.get(`${w}\t${tree}`)!;
      const med = (f: (x: CliRun) => number) => median(rs.map(f));
      console.log(
        `workers ${w} ${tree}: wall ${(med((x) => x.wall) / 1000).toFixed(1)}, main ${med((x) => x.main)}, workers ${med((x) => x.workers)}, helpers ${med((x) => x.helpers)}, total ${med((x) => x.total)}, rss ${med((x) => x.rssMiB).toFixed(0)}`,
      );
    }
  }
  console.log(`raw verify median ${median(raws).toFixed(0)}/s`);
  issueRows(counts, runs, raws);
}

/**
 * Issue 14's rows by wall clock, per round (each round's runs against the raw verify measured right
 * after them), then their medians: row 6, 1 worker's receipts/s over the raw verify's ops/s; row 7,
 * 1 worker's wall over 2 workers'.
 */
function issueRows(
  counts: readonly number[],
  runs: ReadonlyMap<string, CliRun[]>,
  raws: readonly number[],
): void {
  if (!counts.includes(1)) return;
  for (const tree of trees) {
    const one = runs.get(`1\t${tree}`)!;
    const row6 = one.map((r, i) => r.receipts / (r.wall / 1000) / raws[i]!);
    const two = runs.get(`2\t${tree}`);
    const row7 = two?.map((r, i) => one[i]!.wall / r.wall);
    const fmt = (xs: readonly number[]) =>
      `${xs.map((x) => x.toFixed(2)).join(' ')} (median ${median([...xs]).toFixed(2)})`;
    console.log(
      `${tree}: row 6 (1 worker / raw verify) ${fmt(row6)}${row7 ? `; row 7 (2 vs 1 worker) ${fmt(row7)}` : ''}`,
    );
  }
}

const mode = positionals[0];
if (mode === 'make') await make();
else if (mode === 'steps') await steps();
else if (mode === 'cli') await cli();
else throw new Error('mode: make | steps | cli');
