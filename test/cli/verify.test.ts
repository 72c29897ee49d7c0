import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publicKey, publicKeyToPem } from '../../core/index.js';
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
});
