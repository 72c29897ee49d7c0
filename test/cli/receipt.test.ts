import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseReceipt } from '../../core/index.js';
import { torgo } from './run.js';

describe('torgo key / receipt (offline)', () => {
  let dir: string;
  const p = (name: string) => join(dir, name);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'torgo-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('key generate writes a 0600 private key and a public key, and refuses to overwrite', async () => {
    const r = await torgo('key', 'generate', '--name', 'relay', '--out', dir, '--json');
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { keyId: string; alg: string };
    assert.equal(info.alg, 'ML-DSA-65');
    assert.equal((await stat(p('relay.key.pem'))).mode & 0o777, 0o600);
    assert.match(await readFile(p('relay.pub.pem'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    const again = await torgo('key', 'generate', '--name', 'relay', '--out', dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /E_EXISTS/);
    const k87 = await torgo('key', 'generate', '--name', 'witness', '--out', dir, '--alg', 'ml-dsa-87');
    assert.equal(k87.code, 0);
    const bad = await torgo('key', 'generate', '--name', 'x', '--out', dir, '--alg', 'rsa');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /E_KEY_ALGORITHM/);
  });

  it('new → sign → sign (witness) → verify, end to end; payload digest checked', async () => {
    await writeFile(p('payload.bin'), 'vitals batch 42');
    const made = await torgo(
      'receipt',
      'new',
      '--source',
      'icu-relay-3',
      '--operation',
      'vitals.forward',
      '--subject',
      'urn:torgo:s:1',
      '--payload',
      p('payload.bin'),
      '--intent',
      'Forward vitals batch 42.',
      '--context',
      'Firmware 3.1.4',
      '-o',
      p('r.mu'),
    );
    assert.equal(made.code, 0, made.stderr);
    assert.equal(
      (await torgo('receipt', 'sign', p('r.mu'), '--key', p('relay.key.pem'), '-o', p('r.mu'))).code,
      0,
    );
    assert.equal(
      (await torgo('receipt', 'sign', p('r.mu'), '--key', p('witness.key.pem'), '-o', p('r.mu'))).code,
      0,
    );
    assert.equal(parseReceipt(await readFile(p('r.mu'))).signatures.length, 2);
    const ok = await torgo(
      'receipt',
      'verify',
      p('r.mu'),
      '--pub',
      p('relay.pub.pem'),
      '--pub',
      p('witness.pub.pem'),
      '--payload',
      p('payload.bin'),
      '--json',
    );
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(JSON.parse(ok.stdout).valid, true);
    assert.equal(JSON.parse(ok.stdout).signers.length, 2);
  });

  it('verify exits 1 with the reason for invalid receipts, 2 for unusable input', async () => {
    const missingKey = await torgo('receipt', 'verify', p('r.mu'), '--pub', p('relay.pub.pem'));
    assert.equal(missingKey.code, 1);
    assert.match(missingKey.stdout, /E_KEY_UNKNOWN/);
    await writeFile(p('other.bin'), 'something else');
    const wrongPayload = await torgo(
      'receipt',
      'verify',
      p('r.mu'),
      '--pub',
      p('relay.pub.pem'),
      '--pub',
      p('witness.pub.pem'),
      '--payload',
      p('other.bin'),
    );
    assert.equal(wrongPayload.code, 1);
    assert.match(wrongPayload.stdout, /E_RECEIPT_DIGEST_MISMATCH/);
    const text = await readFile(p('r.mu'), 'utf8');
    await writeFile(p('tampered.mu'), text.replace('24 hctab', '25 hctab'));
    const tampered = await torgo(
      'receipt',
      'verify',
      p('tampered.mu'),
      '--pub',
      p('relay.pub.pem'),
      '--pub',
      p('witness.pub.pem'),
      '--json',
    );
    assert.equal(tampered.code, 1);
    assert.equal(JSON.parse(tampered.stdout).code, 'E_SIGNATURE_INVALID');
    await writeFile(p('crlf.mu'), text.replace(/\n/g, '\r\n'));
    assert.equal((await torgo('receipt', 'verify', p('crlf.mu'), '--pub', p('relay.pub.pem'))).code, 1);
    assert.equal((await torgo('receipt', 'verify', p('missing.mu'), '--pub', p('relay.pub.pem'))).code, 2);
    assert.equal((await torgo('receipt', 'verify', p('r.mu'), '--pub', p('payload.bin'))).code, 2);
    assert.equal((await torgo('receipt', 'verify', p('r.mu'))).code, 2);
  });

  it('mirror and unmirror are inverse on a source document', async () => {
    const source = await torgo('receipt', 'unmirror', p('r.mu'));
    assert.match(source.stdout, /^---\nformat: torgo\.receipt\/1\n/);
    await writeFile(p('doc.maml.md'), source.stdout);
    const mirrored = await torgo('receipt', 'mirror', p('doc.maml.md'));
    const text = await readFile(p('r.mu'), 'utf8');
    assert.ok(text.startsWith(mirrored.stdout));
    const fromDoc = await torgo('receipt', 'new', '--from', p('doc.maml.md'));
    assert.equal(fromDoc.stdout, mirrored.stdout);
  });

  it('receipt new refuses bad fields and unstable lines with coded errors', async () => {
    const bad = await torgo(
      'receipt',
      'new',
      '--source',
      'x',
      '--operation',
      'Bad Op',
      '--subject',
      's',
      '--digest',
      `sha256:${'0'.repeat(64)}`,
      '--intent',
      'x',
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /E_RECEIPT_FIELD_INVALID: operation/);
    const unstable = await torgo(
      'receipt',
      'new',
      '--source',
      'x',
      '--operation',
      'op',
      '--subject',
      's',
      '--digest',
      `sha256:${'0'.repeat(64)}`,
      '--intent',
      'ends with a dash -',
    );
    assert.equal(unstable.code, 1);
    assert.match(unstable.stderr, /E_RECEIPT_MIRROR_MISMATCH/);
    const missing = await torgo('receipt', 'new', '--source', 'x');
    assert.equal(missing.code, 2);
  });
});
