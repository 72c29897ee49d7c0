/**
 * Whether appends can commit right now, as the last submits found out. Readiness probes can show
 * that a peer answers, not that the contract server, enough endorsers and the orderer are there too:
 * those show only when a transaction goes through them. So the outcome of real submits is kept here
 * and `/readyz` reports "appends cannot commit: CHAINCODE_UNAVAILABLE" while the latest submit
 * failed for a transient reason and nothing has committed since. The state clears on the next
 * commit, or `clearAfterMs` after the last failure when no submit tried again (nobody is appending).
 */
import { readConflict } from './driver.js';

export interface CommitStatus {
  readonly ok: boolean;
  /** The failing stage and reason (`endorse` / `CHAINCODE_UNAVAILABLE`, `submit` / `ORDERER_UNAVAILABLE`…). */
  readonly stage?: string;
  readonly reason?: string;
  /** Since when submits have been failing. */
  readonly since?: string;
  readonly failures?: number;
}

export class CommitHealth {
  private failing: { stage: string; reason: string; since: number; last: number; count: number } | undefined;

  constructor(
    private readonly clearAfterMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  committed(): void {
    this.failing = undefined;
  }

  /**
   * A submit failed; only transient failures say anything about the ledger's availability, and a read
   * conflict says it is available: the transaction was endorsed, ordered and committed in a block,
   * where validation found that another one had changed what it read. It lost a race, is retried, and
   * appends do commit.
   */
  failed(stage: string, reason: string, retryable: boolean): void {
    if (readConflict(stage, reason)) {
      this.committed();
      return;
    }
    if (!retryable) return;
    const t = this.now();
    const f = this.failing;
    this.failing = { stage, reason, since: f?.since ?? t, last: t, count: (f?.count ?? 0) + 1 };
  }

  status(): CommitStatus {
    const f = this.failing;
    if (!f || this.now() - f.last > this.clearAfterMs) return { ok: true };
    return {
      ok: false,
      stage: f.stage,
      reason: f.reason,
      since: new Date(f.since).toISOString(),
      failures: f.count,
    };
  }
}
