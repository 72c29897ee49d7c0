/**
 * The Fabric suites' failure reporter (failures-reporter.ts), run by a real `node --test` on a fixture:
 * each failed test is one JSON line with its assertion's message and its own diagnostics, a suite that
 * failed through a subtest is marked so, and passing tests leave nothing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FailedTest } from './failures-reporter.js';

const exec = promisify(execFile);
const reporter = fileURLToPath(new URL('./failures-reporter.js', import.meta.url));

const FIXTURE = `
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
describe('drills', () => {
  it('passes', (t) => { t.diagnostic('figures of the passing drill'); });
  it('fails', (t) => {
    t.diagnostic('figures of the failing drill');
    assert.equal(1, 2, 'appends resumed 75 s after quorum was back');
  });
  it('throws', () => { throw new Error('only 3 of 20 receipts acknowledged'); });
});
`;

test('each failed test is reported with its message and its own diagnostics; passes leave nothing', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'torgo-reporter-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fixture = path.join(dir, 'drills.test.mjs');
  const out = path.join(dir, 'failures.jsonl');
  await writeFile(fixture, FIXTURE);
  // Without the parent runner's NODE_TEST_CONTEXT, which would make the child report to it instead.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = exec(
    process.execPath,
    ['--test', `--test-reporter=${reporter}`, `--test-reporter-destination=${out}`, fixture],
    { env },
  );
  await assert.rejects(run, 'the fixture fails');
  const lines = (await readFile(out, 'utf8')).trim().split('\n');
  const failed = lines.map((l) => JSON.parse(l) as FailedTest);
  assert.deepEqual(
    failed.map((f) => [f.name, f.nesting, f.subtestsFailed]),
    [
      ['fails', 1, false],
      ['throws', 1, false],
      ['drills', 0, true],
    ],
  );
  assert.match(failed[0]!.message, /^appends resumed 75 s after quorum was back/);
  assert.deepEqual(failed[0]!.diagnostics, ['figures of the failing drill']);
  assert.match(failed[1]!.message, /^only 3 of 20 receipts acknowledged/);
  assert.deepEqual(failed[1]!.diagnostics, []);
  assert.equal(failed[0]!.file, fixture);
});
