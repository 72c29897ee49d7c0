/**
 * `torgo verify`'s checker: batches of line bytes on 1 or 2 worker threads (cli/verify/pool.ts)
 * give the report of the plain in-thread reading — the same failures, in the same (line) order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type BundleReport,
  bundleLines,
  publicKey,
  utf8,
  verifyBundle,
  verifyBundleBytes,
} from '../../core/index.js';
import { WorkerPool } from '../../cli/verify/pool.js';
import {
  buildLog,
  type LogFixture,
  longerBundle,
  ORIGIN,
  operatorKey,
} from '../gateway/logbuilder/fixture.js';

const trusted = [{ name: ORIGIN, key: publicKey(operatorKey.alg, operatorKey.publicKey) }];

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

/** As `torgo verify --workers N` reads (parallelism 2 per worker), with batches of 3 lines. */
async function onWorkers(bytes: Uint8Array, workers: number): Promise<BundleReport> {
  const pool = new WorkerPool(workers);
  return verifyBundleBytes(chunksOf(bytes, 5000), {
    trusted,
    checker: pool,
    parallelism: workers * 2,
    batchSize: 3,
  });
}

describe('torgo verify on worker threads: the plain report with 1 and 2 workers', () => {
  let f: LogFixture;
  let lines: string[];
  before(async () => {
    f = await buildLog();
    lines = (await longerBundle(f, 20)).trimEnd().split('\n');
  });
  after(async () => {
    await f.close();
  });

  it('clean, tampered, duplicated, invalid UTF-8 and truncated bundles: identical reports', async () => {
    const tamper = (n: number) => lines[n]!.replace('hctab', 'hctaB');
    const variants: [string, Uint8Array][] = [
      ['clean', utf8(`${lines.join('\n')}\n`)],
      [
        'two receipts tampered, one duplicated',
        utf8(
          `${lines.map((l, i) => (i === 9 || i === 20 ? tamper(i) : i === 15 ? lines[13] : l)).join('\n')}\n`,
        ),
      ],
      ['invalid UTF-8 on a receipt line', utf8(`${lines.slice(0, 18).join('\n')}\n\udc00\n`)],
      ['cut inside a receipt line', utf8(`${lines.join('\n')}`.slice(0, -5_000))],
    ];
    variants[2]![1].set([0xff], variants[2]![1].length - 4);
    for (const [what, bytes] of variants) {
      const plain = await verifyBundle(bundleLines(chunksOf(bytes, 1 << 20)), { trusted });
      assert.deepEqual(await onWorkers(bytes, 1), plain, `${what}: 1 worker`);
      assert.deepEqual(await onWorkers(bytes, 2), plain, `${what}: 2 workers`);
      if (what === 'clean') assert.equal(plain.outcome, 'valid');
      else assert.equal(plain.valid, false, what);
    }
  });
});
