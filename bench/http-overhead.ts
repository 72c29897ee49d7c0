/**
 * What the gateway's HTTP path costs per request, A/B between two builds in the same minutes: a
 * `torgo serve` of this tree and one of another tree (`--base DIR`, e.g. a `git worktree` at main),
 * both running, driven alternately by autocannon (load.ts). Two loads per round and build:
 * - `GET /v1/me`: authentication, hooks, metrics, the access line, a schema-serialised answer, the
 *   response's write — the fixed per-request part of every authenticated route, and nothing else;
 * - single-receipt `POST /v1/receipts` (`text/markdown`), fresh signed receipts: the whole append.
 * Prints the gateway's CPU per request (all threads, and its main thread) per run and the medians.
 *
 *   npx node dist/bench/http-overhead.js --base /work/wt-base [--requests 4000] [--receipts 300]
 *     [--rounds 3] [--concurrency 8]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeReceipts } from './engine.js';
import { benchKey } from './receipts.js';
import { median } from './harness.js';
import {
  appenderWithKey,
  cpuMsOf,
  createdOne,
  loadChecked,
  type ServeChild,
  startServe,
  stopChild,
  threadCpuMsOf,
} from './http.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    requests: { type: 'string', default: '4000' },
    receipts: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
  },
});
const requests = Number(values.requests);
const receipts = Number(values.receipts);
const rounds = Number(values.rounds);
const connections = Number(values.concurrency);

interface Build {
  readonly name: string;
  readonly serve: ServeChild;
  readonly token: string;
  readonly dir: string;
  readonly figures: Map<string, { all: number[]; main: number[] }>;
}

const key = benchKey;
const agent = new http.Agent({ keepAlive: true });

async function open(name: string, bin: string | undefined): Promise<Build> {
  const dir = await mkdtemp(join(tmpdir(), `torgo-bench-overhead-${name}-`));
  const serve = await startServe(dir, [], { bin });
  const token = await appenderWithKey(agent, serve.url, serve.admin, 'overhead', key);
  return { name, serve, token, dir, figures: new Map() };
}

/** Runs `send` on `build`'s gateway and records its CPU per request under `what`, in µs. */
async function measure(build: Build, what: string, n: number, send: () => Promise<unknown>): Promise<void> {
  const pid = build.serve.child.pid;
  const all = cpuMsOf(pid)!;
  const main = threadCpuMsOf(pid).get('main')!;
  await send();
  const f = build.figures.get(what) ?? { all: [], main: [] };
  f.all.push(((cpuMsOf(pid)! - all) * 1000) / n);
  f.main.push(((threadCpuMsOf(pid).get('main')! - main) * 1000) / n);
  build.figures.set(what, f);
  console.log(
    `${build.name} ${what}: ${f.all.at(-1)!.toFixed(0)} µs all threads, ${f.main.at(-1)!.toFixed(0)} µs main (load ${loadavg()[0]!.toFixed(1)})`,
  );
}

/** One round on `build`: `GET /v1/me` × `requests`, then `receipts` single-receipt appends. */
async function round(build: Build): Promise<void> {
  const { url } = build.serve;
  const me = Array.from({ length: requests }, () => Buffer.alloc(0));
  const meOk = (status: number, text: string) =>
    status === 200 && (JSON.parse(text) as { name?: unknown }).name === 'overhead' ? 1 : 0;
  await measure(build, 'GET /v1/me', requests, () =>
    loadChecked(
      {
        url,
        token: build.token,
        method: 'GET',
        path: '/v1/me',
        type: 'application/json',
        bodies: me,
        connections,
      },
      requests,
      meOk,
    ),
  );
  if (receipts === 0) return;
  const bodies = makeReceipts(receipts).map((mu) => Buffer.from(mu));
  await measure(build, 'POST /v1/receipts', receipts, () =>
    loadChecked(
      { url, token: build.token, path: '/v1/receipts', type: 'text/markdown', bodies, connections },
      receipts,
      createdOne,
    ),
  );
}

const builds: Build[] = [await open('this', undefined)];
try {
  if (values.base) builds.push(await open('base', join(values.base, 'bin', 'torgo.js')));
  for (const b of builds) await round(b); // warm-up: JIT, connections, the key cache
  for (const b of builds) b.figures.clear();
  for (let r = 0; r < rounds; r++)
    for (const b of r % 2 === 0 ? builds : [...builds].reverse()) await round(b);
  for (const what of builds[0]!.figures.keys()) {
    const line = builds.map((b) => {
      const f = b.figures.get(what)!;
      return `${b.name} ${median(f.all).toFixed(0)} µs (main ${median(f.main).toFixed(0)})`;
    });
    const [a, base] = builds.map((b) => median(b.figures.get(what)!.all));
    const ratio = base === undefined ? '' : `; this/base ${(a! / base).toFixed(2)}×`;
    console.log(`${what}, c=${connections}, medians of ${rounds}: ${line.join(', ')}${ratio}`);
  }
} finally {
  for (const b of builds) {
    await stopChild(b.serve);
    await rm(b.dir, { recursive: true, force: true });
  }
  agent.destroy();
}
