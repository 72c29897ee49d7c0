/**
 * Step 5, completeness (docs/bundle-format.md §6, §7 step 5): the streaming CompletenessChecker
 * (../completeness.ts) as a built-in `BundleCheck`, and the inclusion proof of each link line.
 * Completeness failures are failures of the bundle as a whole, not of the receipt they were found
 * at (that receipt's own checks still decide whether it is valid), so they are collected and
 * returned by `finish`.
 */
import { verifyInclusion } from '../../log/proof.js';
import { CompletenessChecker, type CompletenessSummary } from '../completeness.js';
import { entryLeafHash } from '../entries.js';
import type { Failure } from '../findings.js';
import { decodeProof, type LinkLine } from '../format.js';
import type { BundleCheck } from './binding.js';
import type { ProvenCheckpoint } from './checkpoint.js';

/** A link line's inclusion proof in the checkpoint's tree; throws its coded failure. */
export function checkLink(line: LinkLine, n: number, checkpoint: ProvenCheckpoint): void {
  verifyInclusion(
    line.leafIndex,
    checkpoint.size,
    entryLeafHash(line.entry),
    decodeProof(line.proof, n),
    checkpoint.rootHash,
  );
}

/** What the completeness check showed, and what it rests on (docs/bundle-format.md §6.4). */
export function completenessText(c: CompletenessSummary): string {
  const keys =
    c.keyChains === 0
      ? 'no key history to show'
      : c.keyHeads === 'proven'
        ? `${c.keyChains} key histories up to the heads the checkpoint commits to`
        : `${c.keyChains} key histories up to the heads the exporter states (asserted, not proven)`;
  switch (c.status) {
    case 'not-claimed':
      return 'not claimed (no completeness line): entries may have been left out';
    case 'keys-only':
      return `receipts not proven complete (${c.uncovered ?? 'no chain'}); ${keys}`;
    case 'failed':
      return 'FAILED (see the failures below)';
    case 'proven': {
      const chain = `the ${c.chain!.by} chain "${c.chain!.value}"`;
      if (c.chainEntries === 0)
        return `${chain}: no entry at all, as the exporter states its head (asserted, not proven)`;
      const start = c.start === 'before-window' ? 'an entry before the window' : 'the chain start';
      const end =
        c.end === 'after-window'
          ? 'an entry after the window'
          : 'the chain head the exporter states at the checkpoint (asserted, not proven)';
      const empty = c.receipts === 0 ? ', none in it: the window is proven empty' : '';
      const skew =
        c.backwardStepMs !== undefined
          ? ` (commit times step back by up to ${c.backwardStepMs} ms along it: the window's edges hold to within about that, §6.4)`
          : '';
      return `${chain}: ${c.chainEntries} contiguous entries from ${start} to ${end}${empty}${skew}; ${keys}`;
    }
  }
}

/**
 * Whether a summary proves completeness outright (§6.4): a contiguous chain segment whose end is
 * shown by an entry after the window, and key heads proven against the checkpoint's commitment.
 * A segment ending at the exporter's stated head, or stated key heads, rest on the exporter's word.
 */
export function provesCompleteness(c: CompletenessSummary): boolean {
  return (
    c.status === 'proven' &&
    c.chainEntries > 0 &&
    c.end === 'after-window' &&
    (c.keyChains === 0 || c.keyHeads === 'proven')
  );
}

export interface CompletenessCheck extends BundleCheck {
  /** The summary, once the bundle was read to its last line (undefined if the walk stopped). */
  result(): CompletenessSummary | undefined;
}

export function completeness(): CompletenessCheck {
  const failures: Failure[] = [];
  let checker: CompletenessChecker | undefined;
  let summary: CompletenessSummary | undefined;
  let receipts = 0;
  let lastLine = 0;
  const seen = (n: number) => {
    if (n > lastLine) lastLine = n;
  };
  return {
    name: 'completeness',
    get proves() {
      return summary && provesCompleteness(summary) ? (['completeness'] as const) : [];
    },
    start(header, checkpoint) {
      checker = new CompletenessChecker(header.filters, (f) => failures.push(f));
      checker.checkpoint(checkpoint.parsed, 2);
      lastLine = 2;
    },
    key(line, n) {
      seen(n);
      checker?.key(line, n);
    },
    completeness(line, n) {
      seen(n);
      checker?.statement(line, n);
    },
    receipt(line, n) {
      seen(n);
      receipts++;
      checker?.entry(line, n);
    },
    link(line, n) {
      seen(n);
      checker?.entry(line, n);
    },
    finish() {
      if (!checker) return [];
      // Tail and key-head failures are about the bundle's end: its last line, the statement.
      summary = { ...checker.finish(lastLine + 1), receipts };
      return failures;
    },
    summary() {
      return summary && completenessText(summary);
    },
    result() {
      return summary;
    },
  };
}
