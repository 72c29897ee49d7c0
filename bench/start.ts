/**
 * Time from `npm start` to a listening gateway (the "gateway listening" log line), in a fresh clone of
 * this repository's HEAD: cold (no dist/: tsc, the console and the verifier page all built) and warm
 * (a second start: every build step finds its output up to date), and `torgo serve` alone (no npm, no
 * build step) for what the server itself takes. The clone shares this checkout's node_modules (a
 * symlink), so `npm ci` is not counted. Smoke mode (npm test) measures only `torgo serve` here.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { median, type Suite, statCpuMs } from './harness.js';

const REPO = join(import.meta.dirname, '..', '..');

/**
 * Runs `command` in `cwd` until it logs that the gateway listens — and then, when `ready` is given,
 * until `ready(url)` resolves (the listening line's `url`) — and returns the ms that took; then stops it.
 */
async function untilListening(
  command: string,
  args: string[],
  cwd: string,
  ready?: (url: string, pid: number) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  const child: ChildProcess = spawn(command, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: npm's children are stopped with it
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    return await new Promise<number>((resolve, reject) => {
      let out = '';
      let err = '';
      let listening = false;
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.includes('"msg":"gateway listening"'));
        if (!line || listening) return;
        listening = true;
        if (!ready) return resolve(performance.now() - started);
        const url = (JSON.parse(line) as { url: string }).url;
        ready(url, child.pid!).then(() => resolve(performance.now() - started), reject);
      });
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
      });
      void exited.then(() =>
        reject(new Error(`${command} ${args.join(' ')} exited before listening:\n${err}`)),
      );
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

/** Polls `url`/readyz until it answers 200 (every 10 ms; gives up after 60 s). */
async function readyz(url: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const status = await fetch(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (performance.now() > deadline) throw new Error(`${url}/readyz still answers ${status} after 60 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** CPU time (user + system) process `pid` has used, in ms, from /proc (Linux); undefined elsewhere. */
function cpuMsOf(pid: number): number | undefined {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * `torgo serve --data <dataDir>` (this checkout's build) from spawn to its first `/readyz` 200: wall
 * ms, and the CPU ms the server process used by then (what a loaded machine does not inflate as much).
 */
export async function serveUntilReady(dataDir: string): Promise<{ ms: number; cpuMs: number | undefined }> {
  let cpuMs: number | undefined;
  const ms = await untilListening(
    process.execPath,
    ['bin/torgo.js', 'serve', '--data', dataDir, '--port', '0'],
    REPO,
    async (url, pid) => {
      await readyz(url);
      cpuMs = cpuMsOf(pid);
    },
  );
  return { ms, cpuMs };
}

export const startSuite: Suite = async ({ smoke, scratch }) => {
  const dir = await mkdtemp(join(scratch ?? REPO, 'torgo-bench-start-'));
  try {
    const serveArgs = (n: number): string[] => ['--data', join(dir, `data-${n}`), '--port', '0'];
    const serveAlone = async (cwd: string, runs: number): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < runs; i++)
        times.push(
          await untilListening(process.execPath, ['bin/torgo.js', 'serve', ...serveArgs(100 + i)], cwd),
        );
      return median(times);
    };
    if (smoke) {
      return [
        {
          suite: 'start',
          name: '`torgo serve` to listening (no build step)',
          value: await serveAlone(REPO, 1),
          unit: 'ms',
        },
      ];
    }
    const clone = join(dir, 'clone');
    execFileSync('git', ['clone', '--quiet', '--shared', REPO, clone]);
    await symlink(join(REPO, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const npmStart = (n: number): Promise<number> =>
      untilListening('npm', ['start', '--', ...serveArgs(n)], clone);
    const cold = await npmStart(0);
    const warm: number[] = [];
    for (let i = 1; i <= 3; i++) warm.push(await npmStart(i));
    const alone = await serveAlone(clone, 3);
    return [
      {
        suite: 'start',
        name: '`npm start` to listening, fresh clone (cold: everything built)',
        value: cold,
        unit: 'ms',
      },
      {
        suite: 'start',
        name: '`npm start` to listening, second start (warm: builds up to date)',
        value: median(warm),
        unit: 'ms',
        limit: { name: '`torgo serve` alone', value: alone },
        note: 'median of 3; the difference from `torgo serve` alone is npm plus the up-to-date checks',
      },
      {
        suite: 'start',
        name: '`torgo serve` to listening (no build step)',
        value: alone,
        unit: 'ms',
        note: 'median of 3',
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
