import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { runBenchmarks } from '../bench/run.js';

it('the benchmark harness runs (smoke: tiny runs, figures not judged)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'torgo-bench-'));
  try {
    const md = await runBenchmarks({ smoke: true, resultsDir: dir });
    assert.match(md, /\| ml-dsa \| ML-DSA-65 verify \(native\) \|/);
    assert.match(md, /\| steady \| gateway CPU per receipt at a steady rate \| \d.*× the floor below/);
    assert.match(
      md,
      /\| steady \| the floor: CPU per receipt of a bare durable verified append server, same load \| \d/,
    );
    // The soak's receipts come from its signer process: every one it offered was appended.
    assert.match(
      md,
      /\| soak \| append p50, median of the 10 s intervals \| [\d.]+ \| ms \|.* [1-9][\d,]* receipts, 0 errors/,
    );
    const json = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as { rows: unknown[] };
    assert.ok(json.rows.length >= 12);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
