/**
 * Step 6, the last line (docs/bundle-format.md §7 step 6): v2's export statement — signed by a trusted
 * key that signed the checkpoint, and saying exactly what the bundle holds (origin, checkpoint,
 * filters, creation time, counts, digest of every line before it) — or v1's unsigned manifest.
 */
import { equalBytes, toHex, utf8 } from '../../encoding.js';
import { canonicalJson } from '../../json.js';
import type { Failure } from '../findings.js';
import type { ManifestLine, StatementLine } from '../format.js';
import type { MlDsaBackend } from '../../crypto/mldsa.js';
import { openStatement } from '../statement.js';
import type { ProvenCheckpoint } from './checkpoint.js';
import type { BundleHeader } from './header.js';

/** What the verifier itself counted and hashed, to compare with the last line. */
export interface BundleTally {
  readonly keys: number;
  readonly receipts: number;
  /** SHA-256 of every line before the last one, LF included. */
  readonly digest: Uint8Array;
}

const sameDigest = (claimed: string, digest: Uint8Array) =>
  equalBytes(utf8(claimed), utf8(`sha256:${toHex(digest)}`));

/** Verifies a statement line; returns its signers and the failures of its comparison with the bundle. */
export function checkStatement(
  line: StatementLine,
  n: number,
  header: BundleHeader,
  checkpoint: ProvenCheckpoint,
  tally: BundleTally,
  mlDsa: MlDsaBackend,
): { signedBy: readonly string[]; failures: Failure[] } {
  const { statement: s, signedBy } = openStatement(line.note, checkpoint.signers, mlDsa);
  const failures: Failure[] = [];
  const mismatch = (what: string, claimed: string, actual: string) =>
    failures.push({
      line: n,
      code: 'E_BUNDLE_STATEMENT_MISMATCH',
      message: `the signed statement says ${what} ${claimed}, the bundle has ${actual}`,
    });
  if (!sameDigest(s.digest, tally.digest)) {
    failures.push({
      line: n,
      code: 'E_BUNDLE_DIGEST_MISMATCH',
      message: `lines 1–${n - 1} are not the lines the exporter signed (digest ${s.digest}, the bundle hashes to sha256:${toHex(tally.digest)})`,
    });
  }
  if (s.origin !== header.origin) mismatch('origin', `"${s.origin}"`, `"${header.origin}"`);
  if (s.checkpoint.size !== checkpoint.size)
    mismatch('checkpoint size', `${s.checkpoint.size}`, `${checkpoint.size}`);
  else if (!equalBytes(s.checkpoint.rootHash, checkpoint.rootHash))
    mismatch('checkpoint root', toHex(s.checkpoint.rootHash), toHex(checkpoint.rootHash));
  const filters = canonicalJson(header.filters);
  if (canonicalJson(s.filters) !== filters) mismatch('filters', canonicalJson(s.filters), filters);
  if (s.createdAt !== header.createdAt) mismatch('createdAt', s.createdAt, header.createdAt);
  if (s.counts.keys !== tally.keys) mismatch('key lines:', `${s.counts.keys}`, `${tally.keys}`);
  if (s.counts.receipts !== tally.receipts)
    mismatch('receipt lines:', `${s.counts.receipts}`, `${tally.receipts}`);
  return { signedBy, failures };
}

/** Checks a v1 manifest: anyone can recompute it, so it only shows accidental damage. */
export function checkManifest(line: ManifestLine, n: number, tally: BundleTally): Failure[] {
  const ok =
    sameDigest(line.digest, tally.digest) &&
    line.counts.keys === tally.keys &&
    line.counts.receipts === tally.receipts;
  return ok
    ? []
    : [
        {
          line: n,
          code: 'E_BUNDLE_DIGEST_MISMATCH',
          message: 'the manifest digest or counts do not match the bundle',
        },
      ];
}
