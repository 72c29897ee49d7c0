/**
 * cli/young-generation.ts: `torgo serve` runs with V8's young generation capped at
 * `node.maxSemiSpaceMiB` and with single-threaded GC (`node.singleThreadedGc`), whichever way it is
 * started — the process replaces itself (same process id) when a flag is missing, and leaves an
 * explicit flag, 0 or false alone, and adds glibc's malloc arena cap (`node.mallocArenaMax`) to its
 * environment unless one is set there.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  defaultStartFlags,
  earlyRelaunch,
  hasSemiSpaceFlag,
  missingEnv,
  missingFlags,
  relaunch,
} from '../../cli/young-generation.js';
import { type GatewayConfig, loadConfig } from '../../gateway/config.js';
import { tempDir } from '../gateway/helpers.js';

/** Whether this process runs on glibc (which reads MALLOC_ARENA_MAX). */
const glibc =
  typeof (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
    ?.glibcVersionRuntime === 'string';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'bin', 'torgo.js');

const start = {
  execPath: '/usr/bin/node',
  execArgv: ['--enable-source-maps'],
  argv: ['/usr/bin/node', '/opt/torgo/bin/torgo.js', 'serve', '--port', '0'],
  nodeOptions: undefined,
};

const semi = (maxSemiSpaceMiB: number) => ({ maxSemiSpaceMiB, singleThreadedGc: false, mallocArenaMax: 0 });
const gc = { maxSemiSpaceMiB: 0, singleThreadedGc: true, mallocArenaMax: 0 };

/** bin/torgo.js's decision on the V8 flags alone: the environment sets the arena cap already. */
const earlyArgs = (s: typeof start, env: Record<string, string>) =>
  earlyRelaunch(s, { MALLOC_ARENA_MAX: '2', ...env })?.args;

test('relaunch: the same program and arguments with the flags first; none when given or not asked', () => {
  assert.deepEqual(relaunch(semi(16), start)?.args, [
    '/usr/bin/node',
    '--max-semi-space-size=16',
    '--enable-source-maps',
    '/opt/torgo/bin/torgo.js',
    'serve',
    '--port',
    '0',
  ]);
  assert.equal(relaunch(semi(0), start)?.args, undefined, '0: Node’s default');
  assert.equal(relaunch(semi(16), { ...start, execArgv: ['--max-semi-space-size=4'] })?.args, undefined);
  assert.equal(relaunch(semi(16), { ...start, execArgv: ['--max-semi-space-size', '4'] })?.args, undefined);
  assert.equal(
    relaunch(semi(16), { ...start, nodeOptions: '--trace-warnings --max-semi-space-size=64' })?.args,
    undefined,
  );
  assert.equal(hasSemiSpaceFlag({ execArgv: ['--max-semi-space-sizes=4'], nodeOptions: '' }), false);
  // Single-threaded GC: added unless given, either way round.
  assert.deepEqual(relaunch(gc, start)?.args?.slice(0, 3), [
    '/usr/bin/node',
    '--single-threaded-gc',
    '--enable-source-maps',
  ]);
  assert.deepEqual(relaunch({ ...gc, maxSemiSpaceMiB: 8 }, start)?.args?.slice(1, 3), [
    '--max-semi-space-size=8',
    '--single-threaded-gc',
  ]);
  assert.equal(relaunch(gc, { ...start, execArgv: ['--single-threaded-gc'] })?.args, undefined);
  assert.equal(
    relaunch(gc, { ...start, nodeOptions: '--no-single-threaded-gc' })?.args,
    undefined,
    'an explicit no is kept',
  );
  assert.deepEqual(
    missingFlags({ ...gc, maxSemiSpaceMiB: 8 }, { ...start, execArgv: ['--single-threaded-gc'] }),
    ['--max-semi-space-size=8'],
  );
});

test('earlyRelaunch: bin/torgo.js adds the V8 flags before the CLI loads only where defaults and the environment decide', () => {
  assert.deepEqual(earlyArgs(start, {})?.slice(0, 4), [
    '/usr/bin/node',
    '--max-semi-space-size=8',
    '--single-threaded-gc',
    '--enable-source-maps',
  ]);
  assert.deepEqual(defaultStartFlags(), ['--max-semi-space-size=8', '--single-threaded-gc']);
  assert.ok(earlyArgs(start, { TORGO_NODE_SINGLE_THREADED_GC: 'true' }));
  assert.deepEqual(
    earlyArgs(start, { TORGO_NODE_SINGLE_THREADED_GC: 'false' })?.slice(1, 3),
    ['--max-semi-space-size=8', '--enable-source-maps'],
    'the young generation alone',
  );
  assert.deepEqual(earlyArgs(start, { TORGO_NODE_MAX_SEMI_SPACE_MIB: '16' })?.slice(1, 3), [
    '--max-semi-space-size=16',
    '--single-threaded-gc',
  ]);
  assert.equal(
    earlyArgs(start, { TORGO_NODE_MAX_SEMI_SPACE_MIB: '0', TORGO_NODE_SINGLE_THREADED_GC: 'false' }),
    undefined,
    "Node's defaults: no restart",
  );
  for (const unplain of ['x', '-1', '1025', '08', ' 8', '']) {
    assert.equal(
      earlyArgs(start, { TORGO_NODE_MAX_SEMI_SPACE_MIB: unplain }),
      undefined,
      `${JSON.stringify(unplain)}: the configuration decides (and reports)`,
    );
  }
  assert.equal(earlyArgs(start, { TORGO_NODE_SINGLE_THREADED_GC: '1' }), undefined);
  assert.equal(earlyArgs(start, { TORGO_CONFIG: '/etc/torgo.json' }), undefined, 'a file decides later');
  const withFile = { ...start, argv: [...start.argv, '--config', 'torgo.json'] };
  assert.equal(earlyArgs(withFile, {}), undefined);
  const verify = { ...start, argv: ['/usr/bin/node', '/opt/torgo/bin/torgo.js', 'verify', 'b.jsonl'] };
  assert.equal(earlyArgs(verify, {}), undefined, 'only serve');
  assert.equal(
    earlyArgs({ ...start, execArgv: ['--single-threaded-gc', '--max-semi-space-size=4'] }, {}),
    undefined,
    'given already',
  );
});

test('the malloc arena cap: asked of glibc through the environment, unless it is set there already', () => {
  const arenas = (mallocArenaMax: number) => ({
    maxSemiSpaceMiB: 0,
    singleThreadedGc: false,
    mallocArenaMax,
  });
  const onGlibc = { ...start, glibc: true };
  assert.deepEqual(missingEnv(arenas(2), onGlibc), { MALLOC_ARENA_MAX: '2' });
  assert.deepEqual(missingEnv(arenas(0), onGlibc), {}, "0: glibc's own cap");
  assert.deepEqual(missingEnv(arenas(2), { ...onGlibc, env: { MALLOC_ARENA_MAX: '8' } }), {}, 'kept as set');
  assert.deepEqual(
    missingEnv(arenas(2), { ...onGlibc, env: { GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' } }),
    {},
    'set as a tunable',
  );
  assert.deepEqual(
    missingEnv(arenas(2), { ...start, glibc: false }),
    {},
    'another C library would not read it',
  );
  // Flags all given, the variable missing: the same program again, the variable added.
  assert.deepEqual(relaunch(arenas(2), onGlibc), {
    args: ['/usr/bin/node', '--enable-source-maps', '/opt/torgo/bin/torgo.js', 'serve', '--port', '0'],
    env: { MALLOC_ARENA_MAX: '2' },
  });
  assert.equal(relaunch(arenas(2), { ...onGlibc, env: { MALLOC_ARENA_MAX: '2' } }), undefined);
  const given = { ...onGlibc, execArgv: ['--single-threaded-gc', '--max-semi-space-size=8'] };
  assert.deepEqual(earlyRelaunch(given, {})?.env, { MALLOC_ARENA_MAX: '2' }, 'by default');
  assert.deepEqual(earlyRelaunch(given, { TORGO_NODE_MALLOC_ARENA_MAX: '4' })?.env, {
    MALLOC_ARENA_MAX: '4',
  });
  assert.equal(earlyRelaunch(given, { TORGO_NODE_MALLOC_ARENA_MAX: '0' }), undefined);
  assert.equal(
    earlyRelaunch(given, { TORGO_NODE_MALLOC_ARENA_MAX: '65' }),
    undefined,
    'the configuration refuses it',
  );
  assert.equal(loadConfig({ env: {} }).node.mallocArenaMax, 2);
  assert.equal(loadConfig({ env: { TORGO_NODE_MALLOC_ARENA_MAX: '0' } }).node.mallocArenaMax, 0);
  assert.throws(() => loadConfig({ env: { TORGO_NODE_MALLOC_ARENA_MAX: '65' } }));
});

test('earlyRelaunch decides as the configuration would: every environment it decides for gives the same node settings', () => {
  const bare = { ...start, execArgv: [] };
  const gcs = [undefined, 'true', 'false', '1', '0', 'yes'];
  const semis = [undefined, '0', '4', '8', '16', '1024', '1025', '08', '-1', 'x'];
  for (const gc of gcs) {
    for (const semi of semis) {
      const env = {
        ...(gc === undefined ? {} : { TORGO_NODE_SINGLE_THREADED_GC: gc }),
        ...(semi === undefined ? {} : { TORGO_NODE_MAX_SEMI_SPACE_MIB: semi }),
      };
      const early = earlyArgs(bare, env);
      let node: GatewayConfig['node'] | undefined;
      try {
        node = loadConfig({ env }).node;
      } catch {
        node = undefined;
      }
      const label = JSON.stringify(env);
      if (node === undefined) {
        assert.equal(early, undefined, `${label}: refused by the configuration, left to it`);
        continue;
      }
      const expected = missingFlags(node, bare);
      if (early === undefined) {
        const unplain = ['1', '0', 'yes'].includes(gc ?? '') || semi === '08';
        assert.ok(expected.length === 0 || unplain, `${label}: deferred though plain`);
      } else {
        assert.deepEqual(early, [bare.execPath, ...expected, ...bare.argv.slice(1)], label);
      }
    }
  }
});

/** Starts `torgo serve` as a real process; answers its command line while it listens, then stops it. */
async function serveCommandLine(
  dir: string,
  env: Record<string, string>,
): Promise<{ spawned: number; logged: number; cmdline: string[]; environ: string[] }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', path.join(dir, 'data'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TORGO_CONFIG: '', NODE_OPTIONS: '', ...env },
  });
  try {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const logged = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /"pid":(\d+)[^\n]*"msg":"gateway listening"/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`torgo serve exited ${code}: ${err}`)));
    });
    const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
    const environ = (await readFile(`/proc/${child.pid}/environ`, 'utf8')).split('\0').filter(Boolean);
    return { spawned: child.pid!, logged, cmdline, environ };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

test('torgo serve: it runs as the same process with --single-threaded-gc, --max-semi-space-size=8 and MALLOC_ARENA_MAX=2 (glibc) by default, with other values when asked; without them it does not restart', {
  skip: process.platform !== 'linux' && 'reads /proc',
}, async (t) => {
  const dir = await tempDir(t, 'torgo-young-');
  const byDefault = await serveCommandLine(dir, {});
  assert.equal(byDefault.logged, byDefault.spawned);
  assert.ok(byDefault.cmdline.includes('--max-semi-space-size=8'), byDefault.cmdline.join(' '));
  assert.ok(byDefault.cmdline.includes('--single-threaded-gc'), 'single-threaded GC by default');
  if (glibc)
    assert.ok(byDefault.environ.includes('MALLOC_ARENA_MAX=2'), 'two malloc arenas by default (glibc)');
  const arenas = await serveCommandLine(dir, { MALLOC_ARENA_MAX: '1' });
  assert.equal(arenas.logged, arenas.spawned);
  assert.ok(arenas.environ.includes('MALLOC_ARENA_MAX=1'), 'an arena cap in the environment is kept');
  const helpers = await serveCommandLine(dir, { TORGO_NODE_SINGLE_THREADED_GC: 'false' });
  assert.equal(helpers.logged, helpers.spawned);
  assert.ok(!helpers.cmdline.includes('--single-threaded-gc'), helpers.cmdline.join(' '));
  const asked = await serveCommandLine(dir, {
    TORGO_NODE_MAX_SEMI_SPACE_MIB: '16',
    TORGO_NODE_SINGLE_THREADED_GC: 'false',
  });
  assert.equal(asked.logged, asked.spawned, 'the process id is kept');
  assert.ok(asked.cmdline.includes('--max-semi-space-size=16'), asked.cmdline.join(' '));
  const plain = await serveCommandLine(dir, {
    TORGO_NODE_MAX_SEMI_SPACE_MIB: '0',
    TORGO_NODE_SINGLE_THREADED_GC: 'false',
  });
  assert.ok(
    !plain.cmdline.some((a) => a.startsWith('--max-semi-space-size') || a === '--single-threaded-gc'),
    plain.cmdline.join(' '),
  );
  const given = await serveCommandLine(dir, {
    NODE_OPTIONS: '--max-semi-space-size=4',
    TORGO_NODE_MAX_SEMI_SPACE_MIB: '16',
  });
  assert.ok(!given.cmdline.some((a) => a.startsWith('--max-semi-space-size')), 'NODE_OPTIONS kept as given');
});
