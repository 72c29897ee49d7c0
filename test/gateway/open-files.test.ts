/**
 * gateway/ledger/embedded/open-files.ts: the embedded ledger's table files (`embedded.maxOpenFiles`)
 * derived from the process's soft open-file limit, a configured value checked against it before
 * anything opens, and the effective value on /metrics.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../gateway/config.js';
import {
  DEFAULT_MAX_OPEN_FILES,
  DERIVED_MAX_OPEN_FILES_CEILING,
  LEVELDB_MAX_OPEN_FILES,
  parseSoftOpenFileLimit,
  readSoftOpenFileLimit,
  tableFileBudget,
  tablesAllowedBy,
} from '../../gateway/ledger/embedded/open-files.js';
import { startGateway } from '../../gateway/server.js';
import { call, startTestGateway, tempDir } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'bin', 'torgo.js');

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            4096                 524288               files
Max locked memory         8388608              8388608              bytes
`;

test('parseSoftOpenFileLimit reads the soft column of "Max open files"', () => {
  assert.equal(parseSoftOpenFileLimit(LIMITS), 4096);
  assert.equal(
    parseSoftOpenFileLimit(LIMITS.replace('4096                 524288', 'unlimited            unlimited')),
    Number.POSITIVE_INFINITY,
  );
  assert.equal(parseSoftOpenFileLimit(LIMITS.replace('Max open files', 'Max open filez')), undefined);
  assert.equal(parseSoftOpenFileLimit(''), undefined);
});

test('Node raises the soft open-file limit to the hard one, which is what the default is derived from', async (t) => {
  if (process.platform !== 'linux') return t.skip('/proc/self/limits is Linux only');
  const text = await readFile('/proc/self/limits', 'utf8');
  const [, soft, hard] = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text)!;
  if (hard === 'unlimited')
    return t.skip('an unlimited hard limit: Node raises the soft one as far as the kernel lets it');
  assert.equal(soft, hard);
  assert.equal(await readSoftOpenFileLimit(), Number(hard));
});

test('tablesAllowedBy: the 1000 mapped tables, the 10 non-table files and a fifth of the limit', () => {
  assert.equal(tablesAllowedBy(undefined), DEFAULT_MAX_OPEN_FILES);
  assert.equal(tablesAllowedBy(1024), 1010 + 204);
  assert.equal(tablesAllowedBy(4096), 1010 + 819);
  assert.equal(tablesAllowedBy(20_000), 1010 + 4000);
  assert.equal(tablesAllowedBy(10_000_000), LEVELDB_MAX_OPEN_FILES, 'LevelDB clips above 50,000');
  assert.equal(tablesAllowedBy(Number.POSITIVE_INFINITY), LEVELDB_MAX_OPEN_FILES);
  // Below ~640 a fifth would leave the rest of the gateway less than its reserve: mapped tables only.
  assert.equal(tablesAllowedBy(256), 1010);
  assert.equal(tablesAllowedBy(0), 1010);
});

test('tableFileBudget derives 0 from the limit, at least 1000 and at most the ceiling', () => {
  assert.deepEqual(tableFileBudget(0, 4096), {
    maxOpenFiles: 1829,
    source: 'derived',
    softLimit: 4096,
    allowed: 1829,
  });
  assert.equal(tableFileBudget(0, 20_000).maxOpenFiles, DERIVED_MAX_OPEN_FILES_CEILING, '5010 allowed');
  assert.equal(tableFileBudget(0, 16_000).maxOpenFiles, 1010 + 3200);
  assert.equal(tableFileBudget(0, 1_048_576).maxOpenFiles, DERIVED_MAX_OPEN_FILES_CEILING);
  assert.equal(tableFileBudget(0, Number.POSITIVE_INFINITY).maxOpenFiles, DERIVED_MAX_OPEN_FILES_CEILING);
  assert.equal(tableFileBudget(0, 256).maxOpenFiles, 1010);
  assert.deepEqual(tableFileBudget(0, undefined), {
    maxOpenFiles: DEFAULT_MAX_OPEN_FILES,
    source: 'default',
    softLimit: undefined,
    allowed: DEFAULT_MAX_OPEN_FILES,
  });
});

test('tableFileBudget keeps a configured value the limit allows and refuses one above it', () => {
  assert.equal(tableFileBudget(1829, 4096).maxOpenFiles, 1829);
  assert.equal(tableFileBudget(1829, 4096).source, 'configured');
  assert.equal(tableFileBudget(40_000, 1_048_576).maxOpenFiles, 40_000, 'above the ceiling when configured');
  assert.equal(tableFileBudget(4000, undefined).maxOpenFiles, 4000, 'an unknown limit checks nothing');
  assert.equal(tableFileBudget(100, 256).maxOpenFiles, 100);
  assert.throws(
    () => tableFileBudget(1830, 4096),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.code === 'E_CONFIG' &&
      /embedded\.maxOpenFiles 1830 .* soft limit is 4096\b.*at most 1829/.test(e.message),
  );
});

test('the config takes 0 (derive) or 100–50,000 and nothing between', () => {
  assert.equal(loadConfig({ env: {} }).embedded.maxOpenFiles, 0);
  for (const bad of ['50', '50001', '-1']) {
    assert.throws(
      () => loadConfig({ env: { TORGO_EMBEDDED_MAX_OPEN_FILES: bad } }),
      (e: unknown) => e instanceof ConfigError && /embedded\.maxOpenFiles/.test(e.message),
      bad,
    );
  }
});

test('the gateway opens its ledger with the derived value and says so on /metrics', async (t) => {
  const dataDir = await tempDir(t);
  const config = loadConfig({
    env: {},
    overrides: { dataDir, port: 0, host: '127.0.0.1', 'log.level': 'silent' },
  });
  const gw = await startGateway(config, {
    log: false,
    notice: () => {},
    softOpenFileLimit: async () => 4096,
  });
  t.after(() => gw.close());
  const metrics = await call(gw.url, 'GET', '/metrics');
  assert.match(metrics.text, /^torgo_ledger_max_open_files\{source="derived"\} 1829$/m);
});

test('a configured value is on /metrics as configured', async (t) => {
  const { url } = await startTestGateway(t, { 'embedded.maxOpenFiles': 1200 });
  assert.match(
    (await call(url, 'GET', '/metrics')).text,
    /^torgo_ledger_max_open_files\{source="configured"\} 1200$/m,
  );
});

test('a configured value above what the limit allows is refused before anything opens', async (t) => {
  const dataDir = await tempDir(t);
  const config = loadConfig({
    env: {},
    overrides: { dataDir, port: 0, host: '127.0.0.1', 'log.level': 'silent', 'embedded.maxOpenFiles': 5000 },
  });
  await assert.rejects(
    startGateway(config, { log: false, notice: () => {}, softOpenFileLimit: async () => 4096 }),
    (e: unknown) => e instanceof ConfigError && /at most 1829/.test(e.message),
  );
  assert.deepEqual(await readdir(dataDir), [], 'no token store, ledger or log was created');
});

test('torgo serve under a hard limit of 2048 refuses 4000 open tables: E_CONFIG, exit 2', async (t) => {
  if (process.platform !== 'linux') return t.skip('the limit is read from /proc on Linux only');
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(await readFile('/proc/self/limits', 'utf8'))?.[1];
  if (hard !== 'unlimited' && Number(hard) < 2048) return t.skip(`the hard limit (${hard}) is below 2048`);
  const dir = await tempDir(t);
  // The shell lowers the hard limit (Node would raise the soft one to it), then becomes the gateway.
  const child = spawn(
    'sh',
    [
      '-c',
      'ulimit -n 2048 && exec "$0" "$@"',
      process.execPath,
      BIN,
      'serve',
      '--data',
      path.join(dir, 'data'),
      '--port',
      '0',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TORGO_CONFIG: '', NODE_OPTIONS: '', TORGO_EMBEDDED_MAX_OPEN_FILES: '4000' },
    },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(status, 2, err);
  assert.match(err, /E_CONFIG/);
  assert.match(err, /embedded\.maxOpenFiles 4000 .* soft limit is 2048\b.*at most 1419/);
  assert.deepEqual(await readdir(dir), [], 'the data directory was not created');
});
