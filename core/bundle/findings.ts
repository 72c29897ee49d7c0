/**
 * What bundle verification finds and reports (docs/bundle-format.md §7): failures with their code
 * and the 1-based physical line of the bundle they are about, flags (valid but worth a look), and
 * the report as data — the one `torgo verify --json` prints and the offline page offers.
 */
import { isCoreError } from '../errors.js';
import type { CompletenessSummary } from './completeness.js';

export interface Failure {
  /** 1-based physical line number of the bundle file. */
  readonly line: number;
  readonly id?: string;
  readonly code: string;
  readonly message: string;
}

export interface Flag {
  readonly id: string;
  readonly keyId: string;
  readonly note: string;
}

/**
 * - `valid`: a signed export (v2), every check passed;
 * - `valid-unsigned`: a v1 bundle whose contents all check, but nothing proves who exported it;
 * - `nothing-to-verify`: every check passed but there is no receipt (valid only with allowEmpty),
 *   unless completeness proves the window empty (§6.4): that bundle is `valid`;
 * - `invalid`: a check failed; `unusable`: not a bundle at all (no readable header).
 */
export type BundleOutcome = 'valid' | 'valid-unsigned' | 'nothing-to-verify' | 'invalid' | 'unusable';

/**
 * What a bundle cannot prove by itself (docs/bundle-format.md §9), each stated in every report
 * unless a check (VerifyBundleOptions.checks) declares it proves it (`BundleCheck.proves`).
 */
export const BUNDLE_LIMITS = {
  completeness:
    'that nothing matching the filters was left out: no receipt, no later key entry (docs/bundle-format.md §9)',
} as const;
export type BundleLimit = keyof typeof BUNDLE_LIMITS;

/** The last line: v2's signed statement, v1's manifest. */
export type StatementStatus =
  /** v2: signed by a trusted key that signed the checkpoint, and it matches the bundle. */
  | 'verified'
  /** v1: the manifest matches, but anyone could have recomputed it. */
  | 'unsigned'
  /** read, and it failed (signature, digest, counts, checkpoint or filters). */
  | 'failed'
  /** the walk stopped before it (see `stopped`). */
  | 'not-checked';

export interface BundleReport {
  readonly outcome: BundleOutcome;
  /** The verdict a CLI turns into exit 0. */
  readonly valid: boolean;
  /** Not a bundle at all (no readable header): exit status 2 rather than 1. */
  readonly unusable: boolean;
  readonly format?: string;
  readonly origin?: string;
  readonly filters?: Readonly<Record<string, string>>;
  readonly createdAt?: string;
  readonly checkpoint?: {
    readonly size: number;
    readonly rootHash: string;
    readonly signedBy: readonly string[];
  };
  readonly statement: { readonly status: StatementStatus; readonly signedBy?: readonly string[] };
  readonly counts: {
    /** Lines read (the last one may be the line the walk stopped at). */
    lines: number;
    keys: number;
    validKeys: number;
    /** Link lines read (§6): chain entries without a receipt; not in the statement's counts. */
    links: number;
    /** Receipt lines read; every one was checked: receipts = validReceipts + invalidReceipts. */
    receipts: number;
    validReceipts: number;
    invalidReceipts: number;
    signatures: number;
    proofs: number;
  };
  /** What each further whole-bundle check (VerifyBundleOptions.checks) says it proved. */
  readonly checks: readonly { readonly name: string; readonly summary: string }[];
  /** A structural failure that ended the walk: nothing after `line` was read. */
  readonly stopped?: { readonly line: number; readonly code: string; readonly message: string };
  /** What could not be checked, in words (empty when everything was). */
  readonly notChecked: readonly string[];
  /** What even a valid bundle does not prove (BUNDLE_LIMITS not lifted by a check). */
  readonly notProven: readonly string[];
  /** Not failures, but a reader must see them (an unsigned export). */
  readonly warnings: readonly string[];
  readonly failures: readonly Failure[];
  /** Failures beyond the first `MAX_REPORTED` are counted, not listed. */
  readonly failureCount: number;
  readonly flags: readonly Flag[];
  /** What the completeness check (§6) showed, once the bundle was read to its last line. */
  readonly completeness?: CompletenessSummary;
}

/** Failures and flags listed in a report; more are counted. */
export const MAX_REPORTED = 1000;

/** An error as a failure at `line` (a line of the bundle, never a line inside a note or receipt). */
export function asFailure(e: unknown, line: number, id?: string): Failure {
  if (isCoreError(e)) return { line, ...(id ? { id } : {}), code: e.code, message: e.message };
  return {
    line,
    ...(id ? { id } : {}),
    code: 'E_BUNDLE_SYNTAX',
    message: String((e as Error)?.message ?? e),
  };
}

/** Collects failures and flags, listing the first MAX_REPORTED of each. */
export class Findings {
  readonly failures: Failure[] = [];
  readonly flags: Flag[] = [];
  failureCount = 0;

  fail(f: Failure): void {
    this.failureCount++;
    if (this.failures.length < MAX_REPORTED) this.failures.push(f);
  }

  flag(f: Flag): void {
    if (this.flags.length < MAX_REPORTED) this.flags.push(f);
  }
}
