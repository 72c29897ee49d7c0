/**
 * The bundle verification report as people read it. One formatter for every verifier — `torgo
 * verify` and the offline browser page print exactly the same text for the same bundle.
 */
import { describeFilters } from './filters.js';
import type { BundleReport } from './findings.js';
import { BUNDLE_FORMAT_V1 } from './format.js';

/** Failures listed in the text; the rest are counted (the JSON report lists up to 1000). */
export const REPORT_FAILURES_LISTED = 50;
/** Flags listed in the text. */
export const REPORT_FLAGS_LISTED = 20;

const HEADLINES: Record<BundleReport['outcome'], string> = {
  valid: 'VALID: every check passed',
  'valid-unsigned':
    'VALID (UNSIGNED EXPORT): every receipt and key checks, but nothing proves who exported the bundle',
  'nothing-to-verify': 'NOTHING TO VERIFY: the bundle holds no receipt',
  invalid: 'INVALID: see the failures below',
  unusable: 'INVALID: not a readable bundle',
};

function statementLine(r: BundleReport): string {
  const s = r.statement;
  switch (s.status) {
    case 'verified':
      return `signed by ${s.signedBy?.join(', ')}: these exact lines, counts, checkpoint and filters`;
    case 'unsigned':
      return 'none (v1 manifest: digest and counts match, but anyone can recompute them)';
    case 'failed':
      return r.format === BUNDLE_FORMAT_V1 ? 'manifest does not match' : 'FAILED (see the failures)';
    case 'not-checked':
      return 'not checked';
  }
}

export function formatReport(r: BundleReport): string {
  const c = r.counts;
  const lines = [
    HEADLINES[r.outcome],
    ...r.warnings.map((w) => `  WARNING:     ${w}`),
    `  format:      ${r.format ?? '?'}`,
    `  log:         ${r.origin ?? '?'}`,
    `  filters:     ${r.filters ? describeFilters(r.filters) : '?'}`,
    r.checkpoint
      ? `  checkpoint:  size ${r.checkpoint.size}, root ${r.checkpoint.rootHash}, signed by ${r.checkpoint.signedBy.join(', ')}`
      : '  checkpoint:  not verified',
    `  statement:   ${statementLine(r)}`,
    `  key entries: ${c.validKeys} of ${c.keys} valid (inclusion proofs, key ids, each used by a receipt, none twice)`,
    `  receipts:    ${c.validReceipts} of ${c.receipts} valid (canonical form, mirror, ${c.signatures} signatures, key validity at commit, inclusion proofs, filters, none twice)`,
  ];
  if (c.invalidReceipts) lines.push(`               ${c.invalidReceipts} invalid, listed below`);
  for (const check of r.checks) lines.push(`  ${`${check.name}:`.padEnd(12)} ${check.summary}`);
  if (r.stopped) {
    lines.push(`  stopped:     line ${r.stopped.line}: ${r.stopped.code}: ${r.stopped.message}`);
  }
  if (r.notChecked.length) {
    lines.push('  not checked:');
    for (const n of r.notChecked) lines.push(`    ${n}`);
  }
  for (const [i, n] of r.notProven.entries())
    lines.push(`  ${i === 0 ? 'not proven:' : ''.padEnd(11)}  ${n}`);
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
