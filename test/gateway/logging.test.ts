/**
 * The gateway's log destination (gateway/logging.ts): JSON lines gathered up to `bufferBytes` and
 * written together; written at the latest after the flush interval, on flush (after the listening
 * line) and on close (shutdown); with 0, each line at once. Nothing is lost on a graceful shutdown.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGatewayLog } from '../../gateway/logging.js';
import { tempDir } from './helpers.js';

/** A gateway log writing to a fresh file; closed (then the file) after the test. */
async function logToFile(t: Parameters<typeof tempDir>[0], bufferBytes: number, flushMs: number) {
  const file = path.join(await tempDir(t), 'gateway.log');
  const fd = openSync(file, 'w');
  const log = createGatewayLog('info', 'json', bufferBytes, { fd, flushMs });
  t.after(() => {
    log.close();
    closeSync(fd);
  });
  const lines = () =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l)
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
  return { log, lines };
}

test('buffered log: lines wait for bufferBytes, then go out together; flush and close write the rest', async (t) => {
  const { log, lines } = await logToFile(t, 4096, 60_000);
  for (let i = 0; i < 3; i++) log.logger.info(`line ${i}`);
  assert.deepEqual(lines(), [], 'three short lines are still buffered');
  log.flush();
  assert.deepEqual(lines(), ['line 0', 'line 1', 'line 2']);
  // More than the buffer holds: written without a flush, in order, none lost.
  const long = 'x'.repeat(200);
  for (let i = 0; i < 40; i++) log.logger.info({ long }, `more ${i}`);
  const written = lines();
  assert.ok(written.length > 3, 'a full buffer is written without a flush');
  assert.deepEqual(written.slice(0, 4), ['line 0', 'line 1', 'line 2', 'more 0']);
  log.logger.warn('last');
  log.close();
  const all = lines();
  assert.equal(all.length, 3 + 40 + 1, 'close writes what was buffered');
  assert.equal(all.at(-1), 'last');
});

test('buffered log: the flush interval writes a quiet gateway’s lines', async (t) => {
  const { log, lines } = await logToFile(t, 4096, 20);
  log.logger.info('quiet');
  for (let waited = 0; lines().length === 0 && waited < 5000; waited += 20) await sleep(20);
  assert.deepEqual(lines(), ['quiet']);
});

test('log.bufferBytes 0: every line is written as it is logged', async (t) => {
  const { log, lines } = await logToFile(t, 0, 60_000);
  log.logger.info('at once');
  assert.deepEqual(lines(), ['at once']);
});
