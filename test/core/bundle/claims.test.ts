/**
 * What a bundle claims as a whole (issue 12, docs/bundle-format.md §3–§7): the tampered bundles
 * of the issue's table, each refused with its precise code, read through the real line reader
 * (`bundleLines` over bytes, as `torgo verify` and the browser page read a file) so the line
 * numbers in the report are the file's. An attacker holds real exports but not the operator key:
 * either the signed statement stays and no longer matches, or the bundle is downgraded to an
 * unsigned v1 with a recomputed manifest, where the content checks alone must still catch it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BUNDLE_LIMITS,
  type BundleCheck,
  type BundleReport,
  bundleLines,
  CoreError,
  formatReport,
  canonicalJson,
  type ExportStatement,
  formatStatement,
  openStatement,
  outsideFilters,
  parseFilters,
  parseReceipt,
  parseStatementBody,
  privateKeyFromSeed,
  publicKey,
  signStatement,
  toHex,
  utf8,
  verifyBundle,
  verifyBundleBytes,
  type VerifyBundleOptions,
} from '../../../core/index.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { linesDigest as newLinesDigest } from '../../../core/bundle/lines.js';
import {
  bundleText,
  buildLog,
  type LogFixture,
  ORIGIN,
  operatorKey,
  receiptEntry,
  signedReceipt,
} from '../../gateway/logbuilder/fixture.js';

const operator = publicKey(operatorKey.alg, operatorKey.publicKey);
const trusted = [{ name: ORIGIN, key: operator }];

/** Verifies bytes exactly as a file is read: chunks through the strict line reader. */
async function verifyBytes(text: string, options: Partial<VerifyBundleOptions> = {}): Promise<BundleReport> {
  const bytes = utf8(text);
  async function* chunks() {
    // Small uneven chunks: a line split across chunks must read the same.
    for (let i = 0; i < bytes.length; i += 777) yield bytes.subarray(i, i + 777);
  }
  // As `torgo verify` reads: the reader hashes the bytes it splits (linesDigest). The verifier
  // hashing each line's text itself must give the very same report, for every bundle here (but
  // those whose options hold state of their own: further checks, progress).
  const linesDigest = newLinesDigest();
  const report = await verifyBundle(bundleLines(chunks(), undefined, linesDigest), {
    trusted,
    linesDigest,
    ...options,
  });
  if (!options.checks && !options.onProgress) {
    assert.deepEqual(await verifyBundle(bundleLines(chunks()), { trusted, ...options }), report);
    // As `torgo verify` reads now: lines framed as bytes, receipt lines decoded, parsed and checked
    // from batches of bytes — a batch per line, batches split at arbitrary lines, one batch.
    for (const batchBytes of [1, 7_000, 1 << 20]) {
      const { linesDigest: _, ...rest } = options;
      assert.deepEqual(
        await verifyBundleBytes(chunks(), { trusted, ...rest, batchBytes }),
        report,
        `verifyBundleBytes, batches of ${batchBytes} bytes`,
      );
    }
  }
  return report;
}

const linesOf = (text: string): string[] => text.trimEnd().split('\n');
const join = (lines: readonly string[]): string => `${lines.join('\n')}\n`;
const typeOf = (line: string): string => (JSON.parse(line) as { type: string }).type;

/** The attacker's downgrade: header says v1, the statement is replaced by a recomputed manifest. */
function asV1(lines: readonly string[]): string[] {
  const body = lines
    .filter((l) => typeOf(l) !== 'statement' && typeOf(l) !== 'manifest')
    .map((l, i) => (i === 0 ? l.replace('"format":"torgo.bundle/2"', '"format":"torgo.bundle/1"') : l));
  const digest = toHex(sha256(utf8(join(body))));
  const counts = {
    keys: body.filter((l) => typeOf(l) === 'key').length,
    receipts: body.filter((l) => typeOf(l) === 'receipt').length,
  };
  return [...body, JSON.stringify({ type: 'manifest', counts, digest: `sha256:${digest}` })];
}

const codes = (r: BundleReport): string[] => [...new Set(r.failures.map((f) => f.code))].sort();

describe('a bundle says exactly what it proves', () => {
  let f: LogFixture;
  /** Four receipts of icu-relay-3 (the fixture) and two of adv-b, one export each at the same size. */
  let a: string[];
  let b: string[];
  before(async () => {
    f = await buildLog();
    const extra = [signedReceipt(21, [f.witness], 'adv-b'), signedReceipt(22, [f.witness], 'adv-b')];
    const adv = extra.map((mu) => ({ id: parseReceipt(mu).document.fields.id, mu }));
    await f.store.appendBlock(
      4,
      extra.map((mu, i) => ({ ...receiptEntry(mu, `2026-04-0${i + 2}T00:00:00.000Z`, 21 + i), block: 4 })),
    );
    a = linesOf(await bundleText(f));
    b = linesOf(await bundleText(f, { source: 'adv-b' }, adv));
  });
  after(async () => {
    await f.close();
  });

  it('a signed export verifies, and its report says what was proven', async () => {
    const r = await verifyBytes(join(a));
    assert.deepEqual(r.failures, []);
    assert.equal(r.outcome, 'valid');
    assert.equal(r.statement.status, 'verified');
    assert.equal(r.statement.signedBy?.length, 1);
    assert.deepEqual(r.filters, { source: 'icu-relay-3' });
    assert.deepEqual(r.notProven, [BUNDLE_LIMITS.completeness], 'and what it did not');
    assert.match(formatReport(r), /\n {2}not proven: {2}that nothing matching the filters was left out/);
    const progress: number[] = [];
    await verifyBytes(join(a), { batchSize: 3, onProgress: (n) => progress.push(n) });
    assert.deepEqual(progress, [3, 4], 'progress once per batch of receipts checked');
    const byText: number[] = [];
    const r1 = await verifyBytes(join(a), {
      batchText: 1,
      parallelism: 2,
      onProgress: (n) => byText.push(n),
    });
    assert.equal(r1.outcome, 'valid');
    assert.deepEqual(byText, [1, 2, 3, 4], 'a batch is cut at its text bound, whatever its count');
    const rb = await verifyBytes(join(b));
    assert.equal(rb.outcome, 'valid', JSON.stringify(rb.failures));
    assert.equal(rb.counts.keys, 1, 'only the key the adv-b receipts were signed with');
  });

  describe('the issue 12 table', () => {
    it('a receipt line duplicated: E_BUNDLE_DUPLICATE_ENTRY (and the signed statement no longer matches)', async () => {
      const i = a.findIndex((l) => typeOf(l) === 'receipt');
      const dup = [...a.slice(0, i + 1), a[i]!, ...a.slice(i + 1)];
      const r = await verifyBytes(join(dup));
      assert.equal(r.valid, false);
      assert.deepEqual(codes(r), [
        'E_BUNDLE_DIGEST_MISMATCH',
        'E_BUNDLE_DUPLICATE_ENTRY',
        'E_BUNDLE_STATEMENT_MISMATCH',
      ]);
      const d = r.failures.find((x) => x.code === 'E_BUNDLE_DUPLICATE_ENTRY')!;
      assert.equal(d.line, i + 2, 'the second copy, by its physical line');
      assert.deepEqual(
        [r.counts.receipts, r.counts.validReceipts, r.counts.invalidReceipts],
        [5, 4, 1],
        'the counts add up: 4 distinct receipts valid, the copy invalid',
      );
      // Manifest recomputed (v1): the duplicate alone still fails it.
      const v1 = await verifyBytes(join(asV1(dup)));
      assert.deepEqual(codes(v1), ['E_BUNDLE_DUPLICATE_ENTRY']);
      assert.equal(v1.outcome, 'invalid');
    });

    it('lines of two exports spliced under one header: E_BUNDLE_OUTSIDE_FILTER for each foreign receipt', async () => {
      const keys = (l: string[]) => l.filter((x) => typeOf(x) === 'key');
      const receipts = (l: string[]) => l.filter((x) => typeOf(x) === 'receipt');
      const spliced = [a[0]!, a[1]!, ...keys(a), ...receipts(a), ...receipts(b), a.at(-1)!];
      const r = await verifyBytes(join(spliced));
      assert.ok(codes(r).includes('E_BUNDLE_OUTSIDE_FILTER'), JSON.stringify(r.failures));
      assert.ok(codes(r).includes('E_BUNDLE_DIGEST_MISMATCH'));
      const v1 = await verifyBytes(join(asV1(spliced)));
      assert.deepEqual(codes(v1), ['E_BUNDLE_OUTSIDE_FILTER']);
      assert.equal(v1.failures.length, 2);
      assert.deepEqual(
        v1.failures.map((x) => x.line),
        [spliced.length - 2, spliced.length - 1],
        'the two adv-b receipts, by line',
      );
      assert.match(v1.failures[0]!.message, /its source is "adv-b", the bundle's filter is "icu-relay-3"/);
    });

    it('only adv-b receipts under a header whose filters say icu-relay-3: E_BUNDLE_OUTSIDE_FILTER', async () => {
      const refiltered = [b[0]!.replace('"source":"adv-b"', '"source":"icu-relay-3"'), ...b.slice(1)];
      const r = await verifyBytes(join(refiltered));
      assert.deepEqual(codes(r), [
        'E_BUNDLE_DIGEST_MISMATCH',
        'E_BUNDLE_OUTSIDE_FILTER',
        'E_BUNDLE_STATEMENT_MISMATCH',
      ]);
      assert.ok(
        r.failures.some((x) => /filters/.test(x.message) && x.code === 'E_BUNDLE_STATEMENT_MISMATCH'),
      );
      assert.deepEqual(codes(await verifyBytes(join(asV1(refiltered)))), ['E_BUNDLE_OUTSIDE_FILTER']);
    });

    it('every receipt and key removed: never "every check passed" — nothing to verify, E_BUNDLE_EMPTY', async () => {
      const emptied = [a[0]!, a[1]!, a.at(-1)!];
      const r = await verifyBytes(join(emptied));
      assert.equal(r.valid, false);
      assert.ok(codes(r).includes('E_BUNDLE_DIGEST_MISMATCH'));
      assert.ok(codes(r).includes('E_BUNDLE_STATEMENT_MISMATCH'));
      const v1 = await verifyBytes(join(asV1(emptied)));
      assert.equal(v1.outcome, 'nothing-to-verify');
      assert.equal(v1.valid, false);
      assert.deepEqual(codes(v1), ['E_BUNDLE_EMPTY']);
    });

    it('the last line truncated: E_BUNDLE_TRUNCATED at that line; everything before it checked, the rest said not checked', async () => {
      const text = join(a);
      const cut = text.slice(0, text.length - 200);
      const r = await verifyBytes(cut);
      assert.equal(r.valid, false);
      assert.deepEqual(codes(r), ['E_BUNDLE_TRUNCATED']);
      assert.equal(r.stopped?.line, a.length);
      assert.equal(r.failures[0]!.line, a.length, 'the failure and the stop name the same line');
      assert.match(r.failures[0]!.message, new RegExp(`^line ${a.length}: `), 'and so does the message');
      assert.deepEqual([r.counts.receipts, r.counts.validReceipts], [4, 4]);
      assert.equal(r.statement.status, 'not-checked');
      assert.ok(
        r.notChecked.some((n) => /export statement/.test(n)),
        JSON.stringify(r.notChecked),
      );
      // Cut inside a receipt line: the receipts before it are checked, the cut one is named.
      const i = a.findIndex((l) => typeOf(l) === 'receipt') + 1;
      const mid = join(a.slice(0, i + 1)).slice(0, -50);
      const m = await verifyBytes(mid);
      assert.deepEqual(codes(m), ['E_BUNDLE_TRUNCATED']);
      assert.equal(m.stopped?.line, i + 1);
      assert.deepEqual([m.counts.receipts, m.counts.validReceipts], [1, 1]);
    });
  });

  describe('more of the same kind', () => {
    it('a line after the export statement: E_BUNDLE_SYNTAX at that line, the statement itself verified', async () => {
      // verifyBytes reads it both ways: the reader's digest was taken at the statement, and the line
      // after it must fail as data after the statement, not as a hash used twice.
      const r = await verifyBytes(join([...a, a[2]!]));
      assert.equal(r.valid, false);
      assert.deepEqual(codes(r), ['E_BUNDLE_SYNTAX']);
      assert.equal(r.stopped?.line, a.length + 1);
      assert.match(r.failures[0]!.message, /data after the export statement/);
      assert.equal(r.statement.status, 'verified');
    });

    it('a key line no receipt depends on: E_BUNDLE_KEY_UNUSED at that line', async () => {
      const extraKey = a.filter((l) => typeOf(l) === 'key').find((l) => !b.includes(l))!;
      const padded = [b[0]!, b[1]!, extraKey, ...b.slice(2)];
      const v1 = await verifyBytes(join(asV1(padded)));
      // The completeness line states no head for that key either (§6): its history is not shown.
      assert.deepEqual(codes(v1), ['E_BUNDLE_KEY_UNUSED', 'E_KEY_CHAIN_END']);
      assert.equal(v1.failures[0]!.line, 3);
      assert.match(v1.failures[1]!.message, /the completeness line states no head for it/);
    });

    it('a key line twice: E_BUNDLE_DUPLICATE_ENTRY', async () => {
      const k = a.findIndex((l) => typeOf(l) === 'key');
      const v1 = await verifyBytes(join(asV1([...a.slice(0, k + 1), a[k]!, ...a.slice(k + 1)])));
      assert.deepEqual(codes(v1), ['E_BUNDLE_DUPLICATE_ENTRY']);
      assert.equal(v1.failures[0]!.line, k + 2);
    });

    it('a time window: receipts committed outside [from, to) are refused', async () => {
      const windowed = [
        a[0]!.replace('"source":"icu-relay-3"', '"source":"icu-relay-3","to":"2026-02-03T00:00:00Z"'),
        ...a.slice(1),
      ];
      const v1 = await verifyBytes(join(asV1(windowed)));
      assert.deepEqual(codes(v1), ['E_BUNDLE_OUTSIDE_FILTER']);
      assert.deepEqual(
        v1.failures.map((x) => x.id),
        ['01JDQ3J7E5V2W8X9Y0Z1A2B003', '01JDQ3J7E5V2W8X9Y0Z1A2B004'],
        'receipts 3 and 4 were committed on 2026-02-03 and 2026-04-01',
      );
    });

    it('a statement signed by a key the verifier does not trust: E_BUNDLE_STATEMENT_SIGNATURE', async () => {
      const mallory = privateKeyFromSeed('ML-DSA-65', new Uint8Array(32).fill(66));
      const note = (JSON.parse(a.at(-1)!) as { note: string }).note;
      const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
      const forged = signStatement(parseStatementBody(text), mallory);
      const r = await verifyBytes(
        join([...a.slice(0, -1), JSON.stringify({ type: 'statement', note: forged })]),
      );
      assert.deepEqual(codes(r), ['E_BUNDLE_STATEMENT_SIGNATURE']);
      assert.equal(r.statement.status, 'failed');
    });

    it("another export's genuine statement under these lines: every difference named", async () => {
      const r = await verifyBytes(join([...a.slice(0, -1), b.at(-1)!]));
      assert.deepEqual(codes(r), ['E_BUNDLE_DIGEST_MISMATCH', 'E_BUNDLE_STATEMENT_MISMATCH']);
      const said = r.failures.filter((x) => x.code === 'E_BUNDLE_STATEMENT_MISMATCH').map((x) => x.message);
      assert.ok(
        said.some((m) => /says filters \{"source":"adv-b"\}/.test(m)),
        JSON.stringify(said),
      );
      assert.ok(
        said.some((m) => /says receipt lines: 2, the bundle has 4/.test(m)),
        JSON.stringify(said),
      );
      assert.ok(r.failures.every((x) => x.line === a.length));
    });

    it('a statement signed by the operator for another checkpoint: E_BUNDLE_STATEMENT_MISMATCH', async () => {
      const note = (JSON.parse(a.at(-1)!) as { note: string }).note;
      const s = parseStatementBody(note.slice(0, note.lastIndexOf('\n\n') + 1));
      const other = signStatement(
        { ...s, checkpoint: { ...s.checkpoint, size: s.checkpoint.size - 1 } },
        operatorKey,
      );
      const r = await verifyBytes(
        join([...a.slice(0, -1), JSON.stringify({ type: 'statement', note: other })]),
      );
      assert.deepEqual(codes(r), ['E_BUNDLE_STATEMENT_MISMATCH']);
      assert.match(r.failures[0]!.message, /says checkpoint size 8, the bundle has 9/);
    });

    it('an unsigned (v1) export is read with a warning and a distinct outcome; --require-signed refuses it', async () => {
      const v1 = await verifyBytes(join(asV1(a)));
      assert.equal(v1.outcome, 'valid-unsigned');
      assert.equal(v1.valid, true);
      assert.equal(v1.statement.status, 'unsigned');
      assert.match(v1.warnings[0]!, /^unsigned export \(torgo\.bundle\/1\)/);
      const strict = await verifyBytes(join(asV1(a)), { requireSigned: true });
      assert.deepEqual(codes(strict), ['E_BUNDLE_UNSIGNED']);
      assert.equal(strict.valid, false);
    });

    it('an honest export that selected nothing is "nothing to verify": invalid unless allowEmpty', async () => {
      const empty = await bundleText(f, { source: 'nobody' }, []);
      const r = await verifyBytes(empty);
      assert.equal(r.outcome, 'nothing-to-verify');
      assert.deepEqual(codes(r), ['E_BUNDLE_EMPTY']);
      const allowed = await verifyBytes(empty, { allowEmpty: true });
      assert.equal(allowed.outcome, 'nothing-to-verify');
      assert.equal(allowed.valid, true);
      assert.equal(allowed.statement.status, 'verified');
    });

    it('a further whole-bundle check plugs in: its hooks see every line, its failures and summary reach the report', async () => {
      const seen: string[] = [];
      const check: BundleCheck = {
        name: 'subjects',
        proves: ['completeness'],
        start: (header, checkpoint) => seen.push(`start ${header.origin} ${checkpoint.size}`),
        key: (_line, n) => seen.push(`key ${n}`),
        completeness: (_line, n) => seen.push(`completeness ${n}`),
        receipt: (line, n) => {
          seen.push(`receipt ${n}`);
          if (line.entry.id.endsWith('003')) throw new CoreError('E_BUNDLE_SYNTAX', 'refused by the check');
        },
        finish: () => [{ line: 1, code: 'E_BUNDLE_SYNTAX', message: 'the whole fails' }],
        summary: () => `${seen.filter((s) => s.startsWith('receipt')).length} receipts seen`,
      };
      const r = await verifyBytes(join(a), { checks: [check] });
      assert.deepEqual(seen, [
        'start torgo.test/log 9',
        'key 3',
        'key 4',
        'key 5',
        'completeness 6',
        'receipt 7',
        'receipt 8',
        'receipt 9',
        'receipt 10',
      ]);
      assert.deepEqual(
        r.failures.map((x) => [x.line, x.message]),
        [
          [9, 'refused by the check'],
          [1, 'the whole fails'],
        ],
      );
      assert.deepEqual([r.counts.validReceipts, r.counts.invalidReceipts], [3, 1]);
      assert.deepEqual(r.checks.at(-1), { name: 'subjects', summary: '4 receipts seen' });
      assert.deepEqual(
        r.checks.map((c) => c.name),
        ['completeness', 'subjects'],
        'after the built-in completeness check',
      );
      assert.deepEqual(r.notProven, [], 'a check that proves completeness lifts that limit');
      assert.match(formatReport(r), /\n {2}subjects: {4}4 receipts seen\n/);
    });

    it('a byte-order mark added to a line is refused, not silently dropped from the hashed bytes', async () => {
      const r = await verifyBytes(join([a[0]!, `\uFEFF${a[1]!}`, ...a.slice(2)]));
      assert.equal(r.stopped?.code, 'E_BUNDLE_SYNTAX');
      assert.equal(r.stopped?.line, 2);
    });
  });
});

describe('export statement format', () => {
  const statement: ExportStatement = {
    origin: ORIGIN,
    checkpoint: { size: 7, rootHash: new Uint8Array(32).fill(9) },
    filters: { subject: 'urn:x', source: 'icu-relay-3' },
    createdAt: '2026-12-01T00:00:00.000Z',
    counts: { keys: 2, receipts: 5 },
    digest: `sha256:${'ab'.repeat(32)}`,
  };

  it('formats, signs, opens and parses back to the same statement; filters are canonical JSON', () => {
    const text = formatStatement(statement);
    assert.equal(
      text,
      `${ORIGIN}\ntorgo.bundle/2 export\ncheckpoint 7 ${Buffer.from(statement.checkpoint.rootHash).toString('base64')}\n` +
        `filters ${canonicalJson(statement.filters)}\ncreated 2026-12-01T00:00:00.000Z\nkeys 2\nreceipts 5\ndigest ${statement.digest}\n`,
    );
    assert.match(text, /filters \{"source":"icu-relay-3","subject":"urn:x"\}/);
    const opened = openStatement(signStatement(statement, operatorKey), trusted);
    assert.deepEqual(opened.statement, {
      ...statement,
      filters: { source: 'icu-relay-3', subject: 'urn:x' },
    });
  });

  it('a checkpoint signature is never a statement signature (another signing context)', async () => {
    const f = await buildLog();
    try {
      const { note } = await f.checkpointer.issue();
      assert.throws(() => openStatement(note, trusted), { code: 'E_BUNDLE_STATEMENT_SIGNATURE' });
    } finally {
      await f.close();
    }
  });

  it('parsing is strict: every line in its place', () => {
    const text = formatStatement(statement);
    for (const bad of [
      text.replace('torgo.bundle/2 export', 'torgo.bundle/1 export'),
      text.replace('keys 2', 'keys 02'),
      text.replace('receipts 5\n', ''),
      text.replace('digest sha256:', 'digest sha512:'),
      `${text}extra\n`,
    ]) {
      assert.throws(() => parseStatementBody(bad), { code: 'E_BUNDLE_SYNTAX' }, bad);
    }
  });
});

describe('bundle filters', () => {
  it('only known filters with well-formed values, from before to', () => {
    assert.deepEqual(parseFilters({ source: 'a', from: '2026-01-01T00:00:00Z' }, 1), {
      source: 'a',
      from: '2026-01-01T00:00:00Z',
    });
    const cases: Record<string, string>[] = [
      { color: 'red' },
      { source: ' a' },
      { from: '2026-13-01T00:00:00Z' },
      { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
      { from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:00.000Z' },
    ];
    for (const bad of cases) {
      assert.throws(() => parseFilters(bad, 1), { code: 'E_BUNDLE_SYNTAX' }, JSON.stringify(bad));
    }
  });

  it('the window is [from, to) on committedAt, at nanosecond precision', () => {
    const fields = { source: 's', subject: 'x', operation: 'op' };
    const w = { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00.5Z' };
    assert.equal(outsideFilters(fields, '2026-01-01T00:00:00.000000000Z', w), undefined);
    assert.equal(outsideFilters(fields, '2026-01-02T00:00:00.499999999Z', w), undefined);
    assert.match(
      outsideFilters(fields, '2026-01-02T00:00:00.500000000Z', w) ?? '',
      /not before the filter's to/,
    );
    assert.match(
      outsideFilters(fields, '2025-12-31T23:59:59.999999999Z', w) ?? '',
      /before the filter's from/,
    );
    assert.match(
      outsideFilters(fields, '2026-01-01T12:00:00Z', { operation: 'other' }) ?? '',
      /its operation is "op"/,
    );
  });
});
