/**
 * cli/young-generation.ts: `torgo serve` runs with V8's young generation capped at
 * `node.maxSemiSpaceMiB` and with single-threaded GC (`node.singleThreadedGc`), whichever way it is
 * started — the process replaces itself (same process id) when a flag is missing, and leaves an
 * explicit flag, 0 or false alone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  defaultStartFlags,
  earlyRelaunchArgs,
  hasSemiSpaceFlag,
  missingFlags,
  relaunchArgs,
} from '../../cli/young-generation.js';
import { type GatewayConfig, loadConfig } from '../../gateway/config.js';
import { tempDir } from '../gateway/helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'bin', 'torgo.js');

const start = {
  execPath: '/usr/bin/node',
  execArgv: ['--enable-source-maps'],
  argv: ['/usr/bin/node', '/opt/torgo/bin/torgo.js', 'serve', '--port', '0'],
  nodeOptions: undefined,
};

const semi = (maxSemiSpaceMiB: number) => ({ maxSemiSpaceMiB, singleThreadedGc: false });
const gc = { maxSemiSpaceMiB: 0, singleThreadedGc: true };

test('relaunchArgs: the same program and arguments with the flags first; none when given or not asked', () => {
  assert.deepEqual(relaunchArgs(semi(16), start), [
    '/usr/bin/node',
    '--max-semi-space-size=16',
    '--enable-source-maps',
    '/opt/torgo/bin/torgo.js',
    'serve',
    '--port',
    '0',
  ]);
  assert.equal(relaunchArgs(semi(0), start), undefined, '0: Node’s default');
  assert.equal(relaunchArgs(semi(16), { ...start, execArgv: ['--max-semi-space-size=4'] }), undefined);
  assert.equal(relaunchArgs(semi(16), { ...start, execArgv: ['--max-semi-space-size', '4'] }), undefined);
  assert.equal(
    relaunchArgs(semi(16), { ...start, nodeOptions: '--trace-warnings --max-semi-space-size=64' }),
    undefined,
  );
  assert.equal(hasSemiSpaceFlag({ execArgv: ['--max-semi-space-sizes=4'], nodeOptions: '' }), false);
  // Single-threaded GC: added unless given, either way round.
  assert.deepEqual(relaunchArgs(gc, start)?.slice(0, 3), [
    '/usr/bin/node',
    '--single-threaded-gc',
    '--enable-source-maps',
  ]);
  assert.deepEqual(relaunchArgs({ ...gc, maxSemiSpaceMiB: 8 }, start)?.slice(1, 3), [
    '--max-semi-space-size=8',
    '--single-threaded-gc',
  ]);
  assert.equal(relaunchArgs(gc, { ...start, execArgv: ['--single-threaded-gc'] }), undefined);
  assert.equal(
    relaunchArgs(gc, { ...start, nodeOptions: '--no-single-threaded-gc' }),
    undefined,
    'an explicit no is kept',
  );
  assert.deepEqual(
    missingFlags({ ...gc, maxSemiSpaceMiB: 8 }, { ...start, execArgv: ['--single-threaded-gc'] }),
    ['--max-semi-space-size=8'],
  );
});

test('earlyRelaunchArgs: bin/torgo.js adds the V8 flags before the CLI loads only where defaults and the environment decide', () => {
  assert.deepEqual(earlyRelaunchArgs(start, {})?.slice(0, 4), [
    '/usr/bin/node',
    '--max-semi-space-size=8',
    '--single-threaded-gc',
    '--enable-source-maps',
  ]);
  assert.deepEqual(defaultStartFlags(), ['--max-semi-space-size=8', '--single-threaded-gc']);
  assert.ok(earlyRelaunchArgs(start, { TORGO_NODE_SINGLE_THREADED_GC: 'true' }));
  assert.deepEqual(
    earlyRelaunchArgs(start, { TORGO_NODE_SINGLE_THREADED_GC: 'false' })?.slice(1, 3),
    ['--max-semi-space-size=8', '--enable-source-maps'],
    'the young generation alone',
  );
  assert.deepEqual(earlyRelaunchArgs(start, { TORGO_NODE_MAX_SEMI_SPACE_MIB: '16' })?.slice(1, 3), [
    '--max-semi-space-size=16',
    '--single-threaded-gc',
  ]);
  assert.equal(
    earlyRelaunchArgs(start, { TORGO_NODE_MAX_SEMI_SPACE_MIB: '0', TORGO_NODE_SINGLE_THREADED_GC: 'false' }),
    undefined,
    "Node's defaults: no restart",
  );
  for (const unplain of ['x', '-1', '1025', '08', ' 8', '']) {
    assert.equal(
      earlyRelaunchArgs(start, { TORGO_NODE_MAX_SEMI_SPACE_MIB: unplain }),
      undefined,
      `${JSON.stringify(unplain)}: the configuration decides (and reports)`,
    );
  }
  assert.equal(earlyRelaunchArgs(start, { TORGO_NODE_SINGLE_THREADED_GC: '1' }), undefined);
  assert.equal(
    earlyRelaunchArgs(start, { TORGO_CONFIG: '/etc/torgo.json' }),
    undefined,
    'a file decides later',
  );
  const withFile = { ...start, argv: [...start.argv, '--config', 'torgo.json'] };
  assert.equal(earlyRelaunchArgs(withFile, {}), undefined);
  const verify = { ...start, argv: ['/usr/bin/node', '/opt/torgo/bin/torgo.js', 'verify', 'b.jsonl'] };
  assert.equal(earlyRelaunchArgs(verify, {}), undefined, 'only serve');
  assert.equal(
    earlyRelaunchArgs({ ...start, execArgv: ['--single-threaded-gc', '--max-semi-space-size=4'] }, {}),
    undefined,
    'given already',
  );
});

test('earlyRelaunchArgs decides as the configuration would: every environment it decides for gives the same node settings', () => {
  const bare = { ...start, execArgv: [] };
  const gcs = [undefined, 'true', 'false', '1', '0', 'yes'];
  const semis = [undefined, '0', '4', '8', '16', '1024', '1025', '08', '-1', 'x'];
  for (const gc of gcs) {
    for (const semi of semis) {
      const env = {
        ...(gc === undefined ? {} : { TORGO_NODE_SINGLE_THREADED_GC: gc }),
        ...(semi === undefined ? {} : { TORGO_NODE_MAX_SEMI_SPACE_MIB: semi }),
      };
      const early = earlyRelaunchArgs(bare, env);
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
): Promise<{ spawned: number; logged: number; cmdline: string[] }> {
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
    return { spawned: child.pid!, logged, cmdline };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

test('torgo serve: it runs as the same process with --single-threaded-gc and --max-semi-space-size=8 by default, with other values when asked; without them it does not restart', {
  skip: process.platform !== 'linux' && 'reads /proc',
}, async (t) => {
  const dir = await tempDir(t, 'torgo-young-');
  const byDefault = await serveCommandLine(dir, {});
  assert.equal(byDefault.logged, byDefault.spawned);
  assert.ok(byDefault.cmdline.includes('--max-semi-space-size=8'), byDefault.cmdline.join(' '));
  assert.ok(byDefault.cmdline.includes('--single-threaded-gc'), 'single-threaded GC by default');
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
