/**
 * The completeness checker on chains whose commit times step back: committedAt is a proposal
 * timestamp, so transactions in flight together commit out of time order (seen on Fabric with eight
 * concurrent appenders). That is no fault of the bundle; the report states the largest step back.
 * A gap stays a failure whatever the times.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CompletenessFailure, CompletenessChecker } from '../../../core/bundle/completeness.js';
import type { ReceiptEntry } from '../../../core/bundle/entries.js';
import type { LinkLine, ReceiptLine } from '../../../core/bundle/format.js';

type ChainLine = LinkLine | ReceiptLine;

/** A chain entry; those the filters select come as receipts (the checker reads no `.mu`). */
function entry(
  type: 'link' | 'receipt',
  leafIndex: number,
  prevSource: number | null,
  committedAt: string,
): ChainLine {
  const entry: ReceiptEntry = {
    kind: 'receipt',
    id: `r${leafIndex}`,
    digest: `sha256:${'0'.repeat(64)}`,
    signers: [],
    submitter: { mspId: 'Org1MSP', id: 'x509::CN=a' },
    txId: `tx${leafIndex}`,
    block: leafIndex,
    committedAt,
    source: 'icu',
    subject: `p${leafIndex}`,
    prevSource,
    prevSubject: null,
  };
  return type === 'link'
    ? { type, leafIndex, proof: [], entry }
    : { type, leafIndex, proof: [], entry, mu: '' };
}

function check(
  filters: Record<string, string>,
  lines: readonly ChainLine[],
  head: number,
): { failures: CompletenessFailure[]; summary: ReturnType<CompletenessChecker['finish']> } {
  const failures: CompletenessFailure[] = [];
  const c = new CompletenessChecker(filters, (f) => failures.push(f));
  c.statement({ type: 'completeness', chain: { by: 'source', value: 'icu' }, head, keyHeads: {} }, 3);
  for (const [i, l] of lines.entries()) c.entry(l, 4 + i);
  return { failures, summary: c.finish(4 + lines.length) };
}

describe('completeness when commit times step back along a chain', () => {
  it('a step back is reported as the precision of the window edges, not as a failure', () => {
    const { failures, summary } = check(
      { source: 'icu', to: '2026-12-01T10:00:10.000Z' },
      [
        entry('receipt', 3, null, '2026-12-01T10:00:02.000Z'),
        entry('receipt', 5, 3, '2026-12-01T10:00:01.500Z'), // proposed earlier, committed later
        entry('link', 9, 5, '2026-12-01T10:00:11.000Z'), // after the window: the end is shown
      ],
      9,
    );
    assert.deepEqual(failures, []);
    assert.equal(summary.status, 'proven');
    assert.equal(summary.end, 'after-window');
    assert.equal(summary.backwardStepMs, 500);
  });

  it('in time order there is no step back to report', () => {
    const { failures, summary } = check(
      { source: 'icu' },
      [
        entry('receipt', 3, null, '2026-12-01T10:00:01.000Z'),
        entry('receipt', 5, 3, '2026-12-01T10:00:02.000Z'),
      ],
      5,
    );
    assert.deepEqual(failures, []);
    assert.equal(summary.backwardStepMs, undefined);
  });

  it('a missing entry is a gap whatever the times', () => {
    const { failures, summary } = check(
      { source: 'icu' },
      [
        entry('receipt', 3, null, '2026-12-01T10:00:02.000Z'),
        entry('receipt', 9, 5, '2026-12-01T10:00:01.000Z'),
      ],
      9,
    );
    assert.deepEqual(
      failures.map((f) => f.code),
      ['E_CHAIN_GAP'],
    );
    assert.equal(summary.status, 'failed');
  });
});
