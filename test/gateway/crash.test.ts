/**
 * Crash safety through the gateway: a `torgo serve` child process takes appends under load and is
 * killed with SIGKILL mid-stream; a restart on the same data must hold every receipt that was
 * acknowledged with a 2xx, and the block chain must verify.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EmbeddedDriver } from '../../gateway/ledger/embedded/driver.js';
import { call, receipt, service, startTestGateway, tempDir } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'bin', 'torgo.js');

/** Starts `torgo serve` on a free port; resolves with its URL once it listens. */
function serveChild(dataDir: string, tokenFile: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--data', dataDir, '--port', '0', '--admin-token-file', tokenFile, '--log-level', 'info'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ child, url: m[1]! });
      }
    });
    child.on('exit', (code) => reject(new Error(`torgo serve exited ${code}: ${err}`)));
  });
}

test('SIGKILL during a load: every 2xx-acknowledged receipt is there after a restart', async (t) => {
  const dir = await tempDir(t);
  const tokenFile = path.join(dir, 'admin.token');
  const { child, url } = await serveChild(path.join(dir, 'data'), tokenFile);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const admin = (await readFile(tokenFile, 'utf8')).trim();
  const s = await service(url, admin);

  // 8 clients append in a loop; after 150 acknowledgements the process is killed.
  const acknowledged = new Set<string>();
  let killed = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const client = async (): Promise<void> => {
    for (let i = 0; i < 200 && !killed; i++) {
      const raw = receipt([s.key], { source: 'crash-test' });
      try {
        const r = await call(url, 'POST', '/v1/receipts', { token: s.token, raw });
        if (r.status === 201 || r.status === 200) acknowledged.add(r.json.id);
        if (acknowledged.size >= 150 && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      } catch {
        return; // the connection died with the process: not acknowledged
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, client));
  assert.ok(killed, 'the load reached the kill point');
  await exited;
  assert.equal(child.signalCode, 'SIGKILL');

  const again = await startTestGateway(t, {}, path.join(dir, 'data'));
  for (const id of acknowledged) {
    const r = await call(again.url, 'GET', `/v1/receipts/${id}`, { token: s.token });
    assert.equal(r.status, 200, `acknowledged receipt ${id} is missing after the crash`);
  }
  await (again.gw.service.driver as EmbeddedDriver).ledger.verifyChain();
  // And the restarted gateway takes appends again.
  assert.equal(
    (await call(again.url, 'POST', '/v1/receipts', { token: s.token, raw: receipt([s.key]) })).status,
    201,
  );
});

test('SIGTERM during a load: in-flight appends are answered, the process exits 0, acknowledged ones are there', async (t) => {
  const dir = await tempDir(t);
  const tokenFile = path.join(dir, 'admin.token');
  const { child, url } = await serveChild(path.join(dir, 'data'), tokenFile);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const admin = (await readFile(tokenFile, 'utf8')).trim();
  const s = await service(url, admin);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const acknowledged = new Set<string>();
  const statuses = new Map<number, number>();
  let signalled = false;
  const client = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      try {
        const r = await call(url, 'POST', '/v1/receipts', {
          token: s.token,
          raw: receipt([s.key], { source: 'term-test' }),
        });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 201) acknowledged.add(r.json.id);
        else assert.equal(r.status, 503, `during shutdown only 503 is expected besides 201: ${r.text}`);
        if (acknowledged.size >= 40 && !signalled) {
          signalled = true;
          child.kill('SIGTERM');
        }
      } catch {
        return; // the listener is closed: new connections are refused
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, client));
  assert.ok(signalled);
  assert.equal(await exited, 0, 'graceful shutdown exits 0');
  const again = await startTestGateway(t, {}, path.join(dir, 'data'));
  for (const id of acknowledged) {
    assert.equal((await call(again.url, 'GET', `/v1/receipts/${id}`, { token: s.token })).status, 200, id);
  }
});
