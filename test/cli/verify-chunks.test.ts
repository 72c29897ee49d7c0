/**
 * `torgo verify` reads its bundle into two buffers in turn (cli/verify/chunks.ts): the chunks are the
 * file's bytes in order, the third chunk is read into the first one's memory, and a real bundle read
 * that way — chunks far smaller than its lines, so every line spans chunks whose memory is read into
 * again — verifies to the same report, line for line, as the bundle handed over whole. Before core's
 * framing copied a line's tail explicitly, this failed at line 2: a Buffer's `slice` is a view, not the
 * copy a Uint8Array's is, and a line spanning three chunks was read from memory already read into again.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { utf8, verifyBundleBytes } from '../../core/index.js';
import { fileChunks } from '../../cli/verify/chunks.js';
import { buildLog, longerBundle, operatorTrust } from '../gateway/logbuilder/fixture.js';
import { tempDir } from '../gateway/helpers.js';

async function all(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

describe('torgo verify reads its bundle into two buffers in turn', () => {
  it('gives the file in order, the third chunk in the first one’s memory; an empty file gives none', async (t) => {
    const dir = await tempDir(t);
    const bytes = Buffer.from(Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 251));
    const file = join(dir, 'bytes');
    await writeFile(file, bytes);
    for (const size of [1, 7, 100, 500, 999, 1000, 4096]) {
      const seen: Uint8Array[] = [];
      let at = 0;
      for await (const c of fileChunks(file, size)) {
        assert.deepEqual(c, bytes.subarray(at, at + c.length), `chunk at ${at} of ${size}-byte reads`);
        at += c.length;
        seen.push(c);
      }
      assert.equal(at, bytes.length, `${size}-byte reads`);
      if (seen.length >= 3) assert.equal(seen[2]!.buffer, seen[0]!.buffer, 'two buffers, in turn');
    }
    await writeFile(join(dir, 'empty'), '');
    assert.deepEqual(await all(fileChunks(join(dir, 'empty'), 16)), []);
  });

  it('a bundle read in small chunks verifies as the bundle handed over whole', async (t) => {
    const dir = await tempDir(t);
    const f = await buildLog();
    t.after(() => f.close());
    const text = await longerBundle(f, 40);
    const file = join(dir, 'bundle.jsonl');
    await writeFile(file, text);
    const whole = await verifyBundleBytes(
      (async function* () {
        yield utf8(text);
      })(),
      { trusted: operatorTrust, batchSize: 4 },
    );
    assert.equal(whole.counts.receipts, 44);
    for (const size of [97, 1024, 65536]) {
      const chunked = await verifyBundleBytes(fileChunks(file, size), {
        trusted: operatorTrust,
        batchSize: 4,
      });
      assert.deepEqual(chunked, whole, `${size}-byte reads`);
    }
  });
});
