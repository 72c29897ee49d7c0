/**
 * What `torgo serve` prints, as a process a log collector reads (stdout not a terminal): the gateway's
 * own pino JSON lines and nothing else on stdout — no fabric-contract-api decorator chatter — and on
 * stderr the one-time admin token banner, never in the log.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'bin', 'torgo.js');

test('torgo serve: stdout is JSON log lines only, the admin token stands apart on stderr', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'torgo-serve-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = { ...process.env };
  delete env['CORE_CHAINCODE_LOGGING_LEVEL'];
  const child = spawn(process.execPath, [BIN, 'serve', '--data', path.join(dir, 'data'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"msg":"gateway listening"')) resolve();
    });
    void exited.then((code) => reject(new Error(`torgo serve exited ${code}: ${err}`)));
  });
  child.kill('SIGTERM');
  assert.equal(await exited, 0);

  const lines = out.split('\n').filter((l) => l !== '');
  assert.ok(lines.length >= 2, out);
  for (const line of lines) {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
    assert.equal(typeof entry.level, 'number', line);
    assert.equal(typeof entry.msg, 'string', line);
  }
  assert.doesNotMatch(out + err, /c-api|@Transaction/);
  const token = /^ {2}TORGO_TOKEN=(torgo_\S+)$/m.exec(err);
  assert.ok(token, `banner on stderr: ${err}`);
  assert.ok(!err.includes('\u001b['), 'no colour codes when stderr is not a terminal');
  assert.ok(!out.includes(token[1]!), 'the token is never logged');
});
