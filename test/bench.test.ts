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
    // Rows 14.1–14.4 next to their floors, measured in the same runs (every floor answer checked by the client).
    assert.match(md, /\| embedded \| append batch of 50, c=4 \| \d.*× of the floor in the same runs \|/);
    assert.match(
      md,
      /\| embedded \| floor: parse \+ verify on the workers \+ synced write, batch of 50, c=4 \| \d/,
    );
    assert.match(
      md,
      /\| embedded \| floor: parse \+ verify on the workers \+ synced write, single, c=64 \| \d/,
    );
    assert.match(md, /\| http \| floor: the engine behind bare node:http, POST \/v1\/receipts, c=64 \| \d/);
    assert.match(
      md,
      /\| http \| floor: the engine behind bare node:http, POST \/v1\/receipts\/batch, \d+ per request/,
    );
    assert.match(md, /\| http \| POST \/v1\/receipts, c=64 \| \d.*× of the floor \|/);
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
