/**
 * The bundle verification report as people read it. One formatter for every verifier — `torgo
 * verify` and the offline browser page print exactly the same text for the same bundle.
 */
import type { CompletenessSummary } from './completeness.js';
import type { BundleReport } from './verify.js';

/** What the completeness check showed, and what it rests on (docs/bundle-format.md §5.4). */
function completenessText(c: CompletenessSummary): string {
  const keys =
    c.keyHeads === 'proven'
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
      const start = c.start === 'before-window' ? 'an entry before the window' : 'the chain start';
      const end =
        c.end === 'after-window'
          ? 'an entry after the window'
          : 'the chain head the exporter states at the checkpoint (asserted, not proven)';
      return `the ${c.chain!.by} chain "${c.chain!.value}": ${c.chainEntries} contiguous entries from ${start} to ${end}; ${keys}`;
    }
  }
}

/** Failures listed in the text; the rest are counted (the JSON report lists up to 1000). */
export const REPORT_FAILURES_LISTED = 50;
/** Flags listed in the text. */
export const REPORT_FLAGS_LISTED = 20;

export function formatReport(r: BundleReport): string {
  const lines = [
    r.valid ? 'VALID: every check passed' : 'INVALID: see the failures below',
    `  log:         ${r.origin ?? '?'}`,
    r.checkpoint
      ? `  checkpoint:  size ${r.checkpoint.size}, root ${r.checkpoint.rootHash}, signed by ${r.checkpoint.signedBy.join(', ')}`
      : '  checkpoint:  not verified',
    `  key entries: ${r.counts.keys} (inclusion proofs checked)`,
    `  receipts:    ${r.counts.validReceipts} of ${r.counts.receipts} valid (canonical form, mirror, ${r.counts.signatures} signatures, key validity at commit, inclusion proofs)`,
    `  manifest:    ${r.manifest}`,
  ];
  if (r.completeness) lines.push(`  completeness: ${completenessText(r.completeness)}`);
  if (r.flags.length) {
    lines.push(`  flagged:     ${r.flags.length}`);
    for (const f of r.flags.slice(0, REPORT_FLAGS_LISTED)) lines.push(`    ${f.id}: ${f.note}`);
  }
  if (r.failureCount) {
    lines.push(`  failures:    ${r.failureCount}`);
    for (const f of r.failures.slice(0, REPORT_FAILURES_LISTED))
      lines.push(`    line ${f.line}${f.id ? ` (${f.id})` : ''}: ${f.code}: ${f.message}`);
    if (r.failureCount > REPORT_FAILURES_LISTED)
      lines.push(`    … ${r.failureCount - REPORT_FAILURES_LISTED} more (use --json)`);
  }
  return `${lines.join('\n')}\n`;
}
