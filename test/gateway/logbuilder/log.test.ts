import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type BundleReport,
  publicKey,
  toBase64,
  utf8,
  verifyBundle,
  verifyBundleBytes,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  entryLeafHash,
  fromBase64,
  parseReceipt,
} from '../../../core/index.js';
import {
  bundleText,
  buildLog,
  type LogFixture,
  ORIGIN,
  operatorKey,
  receiptEntry,
  signedReceipt,
} from './fixture.js';

const trusted = [{ name: ORIGIN, key: publicKey(operatorKey.alg, operatorKey.publicKey) }];

async function verifyText(text: string, threshold = 1): Promise<BundleReport> {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const report = await verifyBundle(
    (async function* () {
      yield* lines;
    })(),
    { trusted, threshold },
  );
  // Read as bytes, receipt lines checked from batches of their bytes: the same report.
  const bytes = utf8(text);
  for (const batchSize of [1, 2, 64]) {
    const batched = await verifyBundleBytes(
      (async function* () {
        yield bytes;
      })(),
      { trusted, threshold, batchSize },
    );
    assert.deepEqual(batched, report, `batches of ${batchSize} lines`);
  }
  return report;
}

describe('transparency log store, checkpoints, export and offline verification', () => {
  let f: LogFixture;
  let bundle: string;
  before(async () => {
    f = await buildLog();
    bundle = await bundleText(f);
  });
  after(async () => {
    await f.close();
  });

  it('stores every entry as a leaf, serves proofs that verify, and resumes at the next block', async () => {
    assert.equal(f.store.size, 7);
    assert.equal(f.store.nextBlock, 4);
    const root = await f.store.root();
    for (let i = 0; i < f.store.size; i++) {
      const leaf = (await f.store.leaf(i))!;
      verifyInclusion(
        i,
        f.store.size,
        entryLeafHash(leaf.entry),
        await f.store.inclusionProof(i, f.store.size),
        root,
      );
    }
    for (let s = 1; s <= f.store.size; s++) {
      verifyConsistency(
        s,
        f.store.size,
        await f.store.consistencyProof(s, f.store.size),
        await f.store.root(s),
        root,
      );
    }
    await assert.rejects(f.store.appendBlock(9, []), /out of order/);
  });

  it('issues signed checkpoints that extend each other', async () => {
    const a = await f.checkpointer.issue();
    const v = verifyCheckpoint(a.note, { origin: ORIGIN, trusted, threshold: 1 });
    assert.equal(v.checkpoint.size, 7);
    assert.equal(await f.checkpointer.issue(), a, 'nothing appended: the same checkpoint');
  });

  it('a clean export verifies: every receipt, signature, key entry and proof; later revocation is flagged', async () => {
    const report = await verifyText(bundle);
    assert.deepEqual(report.failures, []);
    assert.equal(report.valid, true);
    assert.equal(report.outcome, 'valid');
    assert.equal(report.format, 'torgo.bundle/2');
    assert.equal(report.statement.status, 'verified');
    assert.deepEqual(report.notChecked, []);
    assert.deepEqual(report.warnings, []);
    assert.deepEqual(
      { ...report.counts },
      {
        lines: 11,
        keys: 3,
        validKeys: 3,
        links: 0,
        receipts: 4,
        validReceipts: 4,
        invalidReceipts: 0,
        signatures: 5,
        proofs: 7,
      },
    );
    assert.equal(report.flags.length, 3, 'receipts 1–3 were signed by the relay key, revoked later');
  });

  it('a receipt committed after its signer key was revoked is invalid, even with a valid proof', async () => {
    const g = await buildLog();
    try {
      const mu = signedReceipt(9, [g.relay]);
      g.receipts.push({ id: parseReceipt(mu).document.fields.id, mu });
      await g.store.appendBlock(4, [{ ...receiptEntry(mu, '2026-05-01T00:00:00.000Z', 9), block: 4 }]);
      const report = await verifyText(await bundleText(g));
      assert.equal(report.valid, false);
      assert.equal(report.counts.validReceipts, 4);
      assert.deepEqual(
        report.failures.map((x) => x.code),
        ['E_BUNDLE_KEY_NOT_VALID'],
      );
      assert.match(report.failures[0]!.message, /revoked at 2026-03-01/);
    } finally {
      await g.close();
    }
  });

  describe('tamper matrix: every change is detected, with its code', () => {
    const cases: [string, (lines: string[]) => string[], string][] = [
      [
        'receipt byte',
        (l) => mutate(l, 'receipt', (o) => ({ ...o, mu: (o['mu'] as string).replace('hctab', 'hctaB') })),
        'E_BUNDLE_DIGEST_MISMATCH',
      ],
      [
        'receipt signature',
        (l) => mutate(l, 'receipt', (o) => ({ ...o, mu: flipSig(o['mu'] as string) })),
        'E_BUNDLE_DIGEST_MISMATCH',
      ],
      [
        'receipt entry commit time',
        (l) =>
          mutate(l, 'receipt', (o) => ({
            ...o,
            entry: { ...(o['entry'] as object), committedAt: '2026-02-01T00:00:00.001Z' },
          })),
        'E_PROOF_INVALID',
      ],
      [
        'receipt entry submitter',
        (l) =>
          mutate(l, 'receipt', (o) => ({
            ...o,
            entry: { ...(o['entry'] as object), submitter: { mspId: 'Org2MSP', id: 'x' } },
          })),
        'E_PROOF_INVALID',
      ],
      [
        'key entry revocation hidden',
        (l) => mutate(l, 'key', (o) => ({ ...o, entry: { ...(o['entry'] as object), revokedAt: null } }), 1),
        'E_PROOF_INVALID',
      ],
      [
        'key entry public key',
        (l) =>
          mutate(l, 'key', (o) => ({
            ...o,
            entry: { ...(o['entry'] as object), publicKey: toBase64(new Uint8Array(1952)) },
          })),
        'E_PROOF_INVALID',
      ],
      [
        'proof node',
        (l) => mutate(l, 'receipt', (o) => ({ ...o, proof: flipProof(o['proof'] as string[]) })),
        'E_PROOF_INVALID',
      ],
      [
        'leaf index',
        (l) => mutate(l, 'receipt', (o) => ({ ...o, leafIndex: (o['leafIndex'] as number) + 1 })),
        'E_PROOF_INVALID',
      ],
      [
        'checkpoint size',
        (l) =>
          mutate(l, 'checkpoint', (o) => ({ ...o, note: (o['note'] as string).replace(/\n7\n/, '\n8\n') })),
        'E_CHECKPOINT_SIGNATURE',
      ],
      [
        'checkpoint root',
        (l) => mutate(l, 'checkpoint', (o) => ({ ...o, note: flipRoot(o['note'] as string) })),
        'E_CHECKPOINT_SIGNATURE',
      ],
      [
        'checkpoint origin',
        (l) =>
          mutate(l, 'checkpoint', (o) => ({
            ...o,
            note: (o['note'] as string).replace(ORIGIN, 'evil.example/log'),
          })),
        'E_CHECKPOINT_SIGNATURE',
      ],
      [
        'checkpoint signature',
        (l) => mutate(l, 'checkpoint', (o) => ({ ...o, note: flipNoteSig(o['note'] as string) })),
        'E_CHECKPOINT_SIGNATURE',
      ],
      [
        'statement count',
        (l) =>
          mutate(l, 'statement', (o) => ({
            ...o,
            note: (o['note'] as string).replace('\nreceipts 4\n', '\nreceipts 5\n'),
          })),
        'E_BUNDLE_STATEMENT_SIGNATURE',
      ],
      [
        'statement signature',
        (l) => mutate(l, 'statement', (o) => ({ ...o, note: flipNoteSig(o['note'] as string) })),
        'E_BUNDLE_STATEMENT_SIGNATURE',
      ],
      [
        'statement replaced by a v1 manifest',
        (l) => [
          ...l.slice(0, -1),
          JSON.stringify({
            type: 'manifest',
            counts: { keys: 3, receipts: 4 },
            digest: `sha256:${'0'.repeat(64)}`,
          }),
        ],
        'E_BUNDLE_SYNTAX',
      ],
      [
        'header filters',
        (l) => mutate(l, 'header', (o) => ({ ...o, filters: { source: 'other' } })),
        'E_BUNDLE_DIGEST_MISMATCH',
      ],
      [
        'receipt dropped',
        (l) => l.filter((x, i) => !(i === l.findIndex((y) => y.includes('"type":"receipt"')) && x)),
        'E_BUNDLE_DIGEST_MISMATCH',
      ],
      ['truncated (no statement)', (l) => l.slice(0, -1), 'E_BUNDLE_TRUNCATED'],
      ['receipt before keys', (l) => swapFirst(l, 'key', 'receipt'), 'E_BUNDLE_SYNTAX'],
      ['data after the statement', (l) => [...l, l[2]!], 'E_BUNDLE_SYNTAX'],
      ['not JSON', (l) => [l[0]!, '{not json', ...l.slice(1)], 'E_BUNDLE_SYNTAX'],
    ];
    for (const [name, change, code] of cases) {
      it(`${name} → ${code}`, async () => {
        const report = await verifyText(`${change(bundle.trimEnd().split('\n')).join('\n')}\n`);
        assert.equal(report.valid, false, name);
        assert.ok(
          report.failures.some((x) => x.code === code),
          `${name}: expected ${code}, got ${JSON.stringify(report.failures.map((x) => `${x.code}: ${x.message}`))}`,
        );
      });
    }

    it('an untrusted operator key or an unmet 2-of-1 policy fails the checkpoint', async () => {
      const other = publicKey('ML-DSA-65', fromBase64(toBase64(f.relay.publicKey), 'E_KEY_INVALID', 'k'));
      const report = await verifyBundle(
        (async function* () {
          yield* bundle.trimEnd().split('\n');
        })(),
        { trusted: [{ name: ORIGIN, key: other }], threshold: 1 },
      );
      assert.equal(report.valid, false);
      assert.equal(report.failures[0]!.code, 'E_CHECKPOINT_SIGNATURE');
    });
  });
});

function mutate(
  lines: string[],
  type: string,
  change: (o: Record<string, unknown>) => object,
  nth = 0,
): string[] {
  let seen = 0;
  return lines.map((l) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    if (o['type'] !== type || seen++ !== nth) return l;
    return JSON.stringify(change(o));
  });
}
function flipSig(mu: string): string {
  const i = mu.lastIndexOf(' ') + 10;
  return mu.slice(0, i) + (mu[i] === 'A' ? 'B' : 'A') + mu.slice(i + 1);
}
function flipProof(proof: string[]): string[] {
  const node = fromBase64(proof[0]!, 'E_PROOF_INVALID', 'p');
  node[0]! ^= 1;
  return [toBase64(node), ...proof.slice(1)];
}
function flipRoot(note: string): string {
  const lines = note.split('\n');
  const root = fromBase64(lines[2]!, 'E_PROOF_INVALID', 'r');
  root[5]! ^= 1;
  lines[2] = toBase64(root);
  return lines.join('\n');
}
function flipNoteSig(note: string): string {
  const i = note.lastIndexOf(' ') + 20;
  return note.slice(0, i) + (note[i] === 'A' ? 'B' : 'A') + note.slice(i + 1);
}
function swapFirst(lines: string[], a: string, b: string): string[] {
  const i = lines.findIndex((l) => l.includes(`"type":"${a}"`));
  const j = lines.findIndex((l) => l.includes(`"type":"${b}"`));
  const out = [...lines];
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}
