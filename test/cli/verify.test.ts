import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { publicKey, publicKeyToPem, toHex, utf8 } from '../../core/index.js';
import { bundleText, buildLog, type LogFixture, ORIGIN, operatorKey } from '../gateway/logbuilder/fixture.js';
import { torgo } from './run.js';

describe('torgo verify (offline bundle verification)', () => {
  let dir: string;
  let f: LogFixture;
  const p = (n: string) => join(dir, n);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'torgo-verify-'));
    f = await buildLog();
    const text = await bundleText(f);
    await writeFile(p('bundle.jsonl'), text);
    await writeFile(p('tampered.jsonl'), text.replace('hctab', 'hctaB'));
    await writeFile(p('operator.pub.pem'), publicKeyToPem(publicKey(operatorKey.alg, operatorKey.publicKey)));
    await writeFile(p('other.pub.pem'), publicKeyToPem(f.relay));
    await writeFile(p('garbage'), 'hello\n');
    // The last line cut short, as a failed download leaves it.
    await writeFile(p('truncated.jsonl'), text.slice(0, -300));
    await writeFile(p('empty.jsonl'), await bundleText(f, { source: 'nobody' }, []));
    // The same export as an unsigned v1 bundle (header format, recomputed manifest).
    const body = text
      .trimEnd()
      .split('\n')
      .slice(0, -1)
      .map((l, i) => (i === 0 ? l.replace('torgo.bundle/2', 'torgo.bundle/1') : l));
    const bodyText = `${body.join('\n')}\n`;
    const manifest = {
      type: 'manifest',
      counts: { keys: 3, receipts: 4 },
      digest: `sha256:${toHex(sha256(utf8(bodyText)))}`,
    };
    await writeFile(p('v1.jsonl'), `${bodyText}${JSON.stringify(manifest)}\n`);
  });
  after(async () => {
    await f.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const workers of ['0', '2']) {
    it(`a clean bundle verifies with exit 0 (workers ${workers})`, async () => {
      const r = await torgo(
        'verify',
        p('bundle.jsonl'),
        '--trust',
        p('operator.pub.pem'),
        '--workers',
        workers,
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^VALID/);
      assert.match(r.stdout, /receipts: {4}4 of 4 valid/);
      assert.match(r.stdout, /flagged: {5}3/);
    });
  }

  it('a tampered bundle exits 1 with the reason; --json gives the same as data', async () => {
    const r = await torgo('verify', p('tampered.jsonl'), '--trust', p('operator.pub.pem'), '--json');
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as { valid: boolean; failures: { code: string }[] };
    assert.equal(report.valid, false);
    assert.ok(report.failures.some((x) => x.code === 'E_BUNDLE_DIGEST_MISMATCH'));
  });

  it('a clean bundle in --json: outcome valid, the statement verified, counts that add up', async () => {
    const r = await torgo(
      'verify',
      p('bundle.jsonl'),
      '--trust',
      p('operator.pub.pem'),
      '--json',
      '--workers',
      '0',
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.outcome, 'valid');
    assert.equal(report.statement.status, 'verified');
    assert.deepEqual(report.counts, {
      lines: 11,
      keys: 3,
      validKeys: 3,
      links: 0,
      receipts: 4,
      validReceipts: 4,
      invalidReceipts: 0,
      signatures: 5,
      proofs: 7,
    });
  });

  it('a truncated bundle: exit 1, E_BUNDLE_TRUNCATED, the same line number in the text, the stop and --json', async () => {
    const r = await torgo('verify', p('truncated.jsonl'), '--trust', p('operator.pub.pem'), '--workers', '0');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^INVALID/);
    assert.match(r.stdout, /receipts: {4}4 of 4 valid/);
    assert.match(
      r.stdout,
      /stopped: {5}line 11: E_BUNDLE_TRUNCATED: line 11: the bundle does not end with a line feed/,
    );
    assert.match(r.stdout, /not checked:\n {4}anything after line 11 \(not read\)\n {4}the export statement/);
    assert.match(r.stdout, /\n {4}line 11: E_BUNDLE_TRUNCATED: line 11: /);
    const j = JSON.parse(
      (
        await torgo(
          'verify',
          p('truncated.jsonl'),
          '--trust',
          p('operator.pub.pem'),
          '--json',
          '--workers',
          '2',
        )
      ).stdout,
    );
    assert.equal(j.stopped.line, 11);
    assert.deepEqual(
      j.failures.map((x: { line: number; code: string }) => [x.line, x.code]),
      [[11, 'E_BUNDLE_TRUNCATED']],
    );
    assert.equal(j.statement.status, 'not-checked');
  });

  it('an empty export is "nothing to verify": exit 1, or 0 with --allow-empty', async () => {
    const r = await torgo('verify', p('empty.jsonl'), '--trust', p('operator.pub.pem'));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^NOTHING TO VERIFY/);
    assert.match(r.stdout, /E_BUNDLE_EMPTY/);
    assert.doesNotMatch(r.stdout, /every check passed/);
    const allowed = await torgo(
      'verify',
      p('empty.jsonl'),
      '--trust',
      p('operator.pub.pem'),
      '--allow-empty',
      '--json',
    );
    assert.equal(allowed.code, 0);
    assert.equal(JSON.parse(allowed.stdout).outcome, 'nothing-to-verify');
  });

  it('a v1 bundle is read as an unsigned export: a warning and outcome valid-unsigned; --require-signed exits 1', async () => {
    const r = await torgo('verify', p('v1.jsonl'), '--trust', p('operator.pub.pem'));
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^VALID \(UNSIGNED EXPORT\)/);
    assert.match(r.stdout, /WARNING: {5}unsigned export/);
    const j = await torgo('verify', p('v1.jsonl'), '--trust', p('operator.pub.pem'), '--json');
    assert.equal(JSON.parse(j.stdout).outcome, 'valid-unsigned');
    const strict = await torgo('verify', p('v1.jsonl'), '--trust', p('operator.pub.pem'), '--require-signed');
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /E_BUNDLE_UNSIGNED/);
  });

  it('the wrong operator key exits 1; an unmeetable 2-of-1 policy exits 1; unusable input exits 2', async () => {
    assert.equal((await torgo('verify', p('bundle.jsonl'), '--trust', p('other.pub.pem'))).code, 1);
    const named = await torgo(
      'verify',
      p('bundle.jsonl'),
      '--trust',
      `${ORIGIN}=${p('operator.pub.pem')}`,
      '--threshold',
      '2',
    );
    assert.equal(named.code, 1);
    assert.equal((await torgo('verify', p('garbage'), '--trust', p('operator.pub.pem'))).code, 2);
    assert.equal((await torgo('verify', p('missing'), '--trust', p('operator.pub.pem'))).code, 2);
    assert.equal((await torgo('verify', p('bundle.jsonl'), '--trust', p('garbage'))).code, 2);
  });

  it('unusable input with workers: the process exits 2 on its own (the workers, started first, are stopped)', async () => {
    const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'torgo.js');
    for (const [bundle, trust] of [
      [p('garbage'), p('operator.pub.pem')],
      [p('bundle.jsonl'), p('garbage')],
    ] as const) {
      const run = promisify(execFile)(
        process.execPath,
        [bin, 'verify', bundle, '--trust', trust, '--workers', '2'],
        {
          timeout: 60_000,
        },
      );
      const e = (await run.then(
        () => assert.fail('exit 0'),
        (x: unknown) => x,
      )) as { code: unknown; killed: boolean };
      assert.equal(e.killed, false, 'still running after 60 s: a worker kept the process alive');
      assert.equal(e.code, 2);
    }
  });
});
