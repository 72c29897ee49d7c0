/**
 * `verifyBundleBytes` (core/bundle/frames.ts): lines framed as bytes and checked in batches must give
 * exactly the report of the plain reading (`verifyBundle` over `bundleLines` of the same bytes) —
 * whatever the batch and chunk boundaries, wherever a bad line falls in a batch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type BundleReport,
  bundleLines,
  inThreadChecker,
  MAX_BUNDLE_LINE_BYTES,
  type ReceiptChecker,
  utf8,
  verifyBundle,
  verifyBundleBytes,
  type VerifyBundleBytesOptions,
} from '../../../core/index.js';
import {
  buildLog,
  type LogFixture,
  longerBundle,
  operatorTrust as trusted,
} from '../../gateway/logbuilder/fixture.js';
const LF = Uint8Array.of(10);

function join(lines: readonly Uint8Array[], final = true): Uint8Array {
  const parts = final ? lines.flatMap((l) => [l, LF]) : lines.flatMap((l, i) => (i ? [LF, l] : [l]));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

/** The plain reading's report, after requiring the batched one to be the same for every `shapes`. */
async function sameReport(
  bytes: Uint8Array,
  shapes: readonly Partial<VerifyBundleBytesOptions & { chunk: number }>[],
): Promise<BundleReport> {
  const plain = await verifyBundle(bundleLines(chunksOf(bytes, 1 << 20)), { trusted });
  for (const { chunk = 1 << 20, ...o } of shapes) {
    const batched = await verifyBundleBytes(chunksOf(bytes, chunk), { trusted, ...o });
    assert.deepEqual(batched, plain, `chunks of ${chunk}, ${JSON.stringify(o)}`);
  }
  return plain;
}

/** Batches of 4 lines: the batched lines start after the first receipt line. */
const FOUR = { batchSize: 4 };

describe('a bundle read as bytes in batches: the plain report, whatever the boundaries', () => {
  let f: LogFixture;
  let lines: Uint8Array[];
  /** 1-based line numbers of the receipt lines. */
  let receiptLines: number[];
  before(async () => {
    f = await buildLog();
    const text = await longerBundle(f, 20);
    lines = text
      .trimEnd()
      .split('\n')
      .map((l) => utf8(l));
    receiptLines = text
      .trimEnd()
      .split('\n')
      .flatMap((l, i) => ((JSON.parse(l) as { type: string }).type === 'receipt' ? [i + 1] : []));
  });
  after(async () => {
    await f.close();
  });

  /** The bundle with line `n` (1-based) replaced. */
  const replaced = (n: number, line: Uint8Array): Uint8Array[] =>
    lines.map((l, i) => (i === n - 1 ? line : l));

  it('a clean bundle: valid, the same report for batches of 1, 4, 64 lines, of a few bytes, in 1-byte to 1 MiB chunks', async () => {
    assert.equal(receiptLines.length, 24);
    const r = await sameReport(join(lines), [
      { batchSize: 1 },
      FOUR,
      {},
      { batchBytes: 1 },
      { batchBytes: 9_000 },
      { chunk: 1, ...FOUR },
      { chunk: 777, batchBytes: 7_000 },
      { chunk: 4096, parallelism: 3, ...FOUR },
    ]);
    assert.equal(r.outcome, 'valid');
    assert.equal(r.counts.validReceipts, 24);
    // The batches did the work: every line after the first receipt went to the checker as bytes.
    const seen: number[] = [];
    const plain = inThreadChecker();
    const checker: ReceiptChecker = {
      check: plain.check,
      async checkFrames(batch, context) {
        const answer = await plain.checkFrames!(batch, context);
        answer.results.forEach((x, i) => {
          if (x) seen.push(batch.firstLine + i);
        });
        return answer;
      },
    };
    assert.deepEqual(await verifyBundleBytes(chunksOf(join(lines), 4096), { trusted, checker, ...FOUR }), r);
    assert.deepEqual(seen, receiptLines.slice(1));
  });

  it('a tampered receipt on the first, a middle and the last line of a batch, and on every other line: found at its line', async () => {
    for (const n of receiptLines) {
      const o = JSON.parse(new TextDecoder().decode(lines[n - 1])) as { mu: string };
      // The text is mirrored: "batch" reads "hctab".
      const tampered = utf8(JSON.stringify({ ...o, mu: o.mu.replace('hctab', 'hctaB') }));
      const r = await sameReport(join(replaced(n, tampered)), [FOUR, { batchSize: 3, parallelism: 2 }]);
      // and the statement no longer matches, at the last line.
      assert.deepEqual(
        r.failures.map((x) => [x.line, x.code]),
        [
          [n, 'E_BUNDLE_DIGEST_MISMATCH'],
          [lines.length, 'E_BUNDLE_DIGEST_MISMATCH'],
        ],
        `line ${n}`,
      );
    }
  });

  it('a bad line in a batch — not JSON, not UTF-8, not a receipt, a duplicate — stops or fails at its line, as plainly', async () => {
    const middle = receiptLines[10]!;
    const bad: [string, (n: number) => Uint8Array, string][] = [
      ['not JSON', () => utf8('{"type":"receipt",'), 'E_BUNDLE_SYNTAX'],
      ['not UTF-8', () => Uint8Array.of(0x7b, 0xff, 0x7d), 'E_BUNDLE_SYNTAX'],
      ['a second header', () => lines[0]!, 'E_BUNDLE_SYNTAX'],
      ['a receipt shape error', () => utf8('{"type":"receipt","leafIndex":-1}'), 'E_BUNDLE_SYNTAX'],
      ['a duplicate receipt', (n) => lines[n - 2]!, 'E_BUNDLE_DUPLICATE_ENTRY'],
    ];
    for (const [what, line, code] of bad) {
      for (const n of [receiptLines[1]!, middle, receiptLines.at(-1)!]) {
        const r = await sameReport(join(replaced(n, line(n))), [FOUR, { batchBytes: 1 }, { chunk: 500 }]);
        assert.ok(
          r.failures.some((x) => x.line === n && x.code === code),
          `${what} at line ${n}: ${JSON.stringify(r.failures)}`,
        );
      }
    }
  });

  it('an over-long line among receipts: E_BUNDLE_SYNTAX at its line, every line before it checked', async () => {
    const n = receiptLines[9]!;
    const long = new Uint8Array(MAX_BUNDLE_LINE_BYTES + 10).fill(0x20);
    const r = await sameReport(join(replaced(n, long)), [FOUR, { chunk: 65_536, batchSize: 64 }]);
    assert.equal(r.stopped?.line, n);
    assert.equal(r.counts.receipts, receiptLines.indexOf(n));
  });

  it('a bundle ending without its final line feed, or cut inside a receipt line: E_BUNDLE_TRUNCATED, as plainly', async () => {
    const noLf = await sameReport(join(lines, false), [FOUR, { chunk: 333 }]);
    assert.equal(noLf.stopped?.code, 'E_BUNDLE_TRUNCATED');
    assert.equal(noLf.stopped?.line, lines.length);
    const whole = join(lines);
    const cut = whole.subarray(0, whole.length - lines.at(-1)!.length - 1 - 100);
    const r = await sameReport(cut, [FOUR, { chunk: 333 }]);
    assert.equal(r.stopped?.code, 'E_BUNDLE_TRUNCATED');
    assert.equal(r.stopped?.line, lines.length - 1);
    assert.equal(r.counts.receipts, receiptLines.length - 1);
  });

  it('a walk that stops early ends its reader, so the file under it is closed, plainly and in batches', async () => {
    // Threshold 2 with one trusted key: the walk stops at the checkpoint, with most of the bundle unread.
    const bytes = join(lines);
    const read = async (verify: (source: AsyncGenerator<Uint8Array>) => Promise<BundleReport>) => {
      let closed = false;
      async function* source(): AsyncGenerator<Uint8Array> {
        try {
          yield* chunksOf(bytes, 512);
        } finally {
          closed = true;
        }
      }
      const report = await verify(source());
      return { report, closed };
    };
    const plain = await read((s) => verifyBundle(bundleLines(s), { trusted, threshold: 2 }));
    const batched = await read((s) => verifyBundleBytes(s, { trusted, threshold: 2, ...FOUR }));
    for (const { report, closed } of [plain, batched]) {
      assert.ok(report.stopped, 'the walk stopped early');
      assert.ok(report.stopped.line < lines.length / 2, `stopped at line ${report.stopped.line}`);
      assert.equal(closed, true, 'the reader was ended');
    }
  });

  it('a line after the statement, at the start of a batch: data after the statement, the statement itself verified', async () => {
    const r = await sameReport(join([...lines, lines[receiptLines[0]! - 1]!]), [FOUR, { batchSize: 1 }]);
    assert.equal(r.statement.status, 'verified');
    assert.equal(r.stopped?.line, lines.length + 1);
    assert.match(r.stopped!.message, /data after the export statement/);
  });
});
