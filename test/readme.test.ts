/**
 * The README as a script: its ```sh test blocks run verbatim, in order, in one bash (set -euo pipefail)
 * on a fresh copy of the checkout (package.json and bin/, with this build's dist/ and node_modules linked
 * in), against a real `torgo serve` on 127.0.0.1 started there as `npm start` would. The one line a
 * reader fills in — `export TORGO_GATEWAY=… TORGO_TOKEN=torgo_…` — gets this gateway's address and admin
 * token. Every command must succeed, npm must print no warning (EBADENGINE), and every file the commands
 * leave in the checkout must be git-ignored (private keys above all).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FILL_IN = 'export TORGO_GATEWAY=http://127.0.0.1:8080 TORGO_TOKEN=torgo_…';

/** The README's ```sh test blocks, in order. */
export function testedBlocks(readme: string): string[] {
  return [...readme.matchAll(/^```sh test\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/**
 * Starts `torgo serve` in `cwd` on a free port; resolves with its URL and the admin token it printed.
 * The URL comes on stdout and the banner on stderr, in either order; it waits for both. A start that
 * fails kills the child, so it never outlives the test.
 */
async function serve(cwd: string): Promise<{ child: ChildProcess; url: string; token: string }> {
  const child = spawn(process.execPath, ['bin/torgo.js', 'serve', '--port', '0'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let missing: NodeJS.Timeout | undefined;
  try {
    return await new Promise<{ child: ChildProcess; url: string; token: string }>((resolve, reject) => {
      const check = () => {
        const url = /"msg":"gateway listening"/.test(out) && /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
        const token = /^ {2}TORGO_TOKEN=(torgo_\S+)$/m.exec(err)?.[1];
        if (url && token) resolve({ child, url: url[1]!, token });
        // Listening without a banner: the banner is written first, so 30 s later it is missing.
        else if (url && !missing)
          missing = setTimeout(() => reject(new Error(`no admin token banner: ${err}`)), 30_000).unref();
      };
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        check();
      });
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        check();
      });
      child.once('exit', (code) => reject(new Error(`torgo serve exited ${code}: ${err}`)));
    });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(missing);
  }
}

/** Every file under `dir`, relative, skipping the links to this checkout's build and packages. */
async function filesUnder(dir: string, skip: Set<string>): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .filter((f) => !skip.has(f.split(path.sep)[0]!));
}

test('the README runs: every `sh test` block, verbatim, on a fresh copy against a real gateway', async (t) => {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const blocks = testedBlocks(readme);
  assert.ok(blocks.length >= 3, `found ${blocks.length} tested blocks`);
  assert.equal(blocks.filter((b) => b.includes(FILL_IN)).length, 1, `one block has "${FILL_IN}"`);

  const copy = await mkdtemp(path.join(tmpdir(), 'torgo-readme-'));
  t.after(() => rm(copy, { recursive: true, force: true }));
  await cp(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));
  await cp(path.join(ROOT, 'bin'), path.join(copy, 'bin'), { recursive: true });
  for (const linked of ['dist', 'node_modules'])
    await symlink(path.join(ROOT, linked), path.join(copy, linked), 'dir');
  const before = new Set(await readdir(copy));

  const gateway = await serve(copy);
  t.after(() => {
    if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
  });
  const script = ['set -euo pipefail', ...blocks]
    .join('\n')
    .replace(FILL_IN, `export TORGO_GATEWAY=${gateway.url} TORGO_TOKEN=${gateway.token}`);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('TORGO_') && !k.startsWith('npm_')) env[k] = v;
  const run = spawn('bash', ['-c', script], { cwd: copy, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  run.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  run.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const status = await new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
  assert.equal(status, 0, `the README's commands failed:\n${err}\n--- stdout:\n${out}`);
  assert.doesNotMatch(err, /npm warn|EBADENGINE/i);
  // What the commands say they do, in their own words.
  assert.match(out, /^valid: receipt \S+ \(icu-relay-3 vitals\.forward/m, 'torgo receipt verify');
  assert.match(out, /^r1\.mu: appended: /m, 'torgo append');
  assert.match(out, /^\S+Z +\S+ +icu-relay-3 +vitals\.forward/m, 'torgo query');
  assert.match(out, /^VALID: every check passed$/m, 'torgo verify of the exported bundle');

  gateway.child.kill('SIGTERM');
  await new Promise<void>((resolve) => gateway.child.once('exit', () => resolve()));

  // Everything the README's commands (and `npm start`'s ./data) left in the checkout is git-ignored.
  const made = await filesUnder(copy, before);
  assert.ok(
    made.some((f) => f.endsWith('relay.key.pem')),
    made.join(', '),
  );
  const ignored = execFileSync('git', ['-C', ROOT, 'check-ignore', '--no-index', ...made], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((l) => l !== '');
  assert.deepEqual(
    made.filter((f) => !ignored.includes(f)),
    [],
    'files the README makes that git would commit',
  );
});
