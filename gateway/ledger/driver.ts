/**
 * What the gateway needs from a ledger, whichever runs it: the embedded engine in this process, or a
 * Fabric network reached through `@hyperledger/fabric-gateway`. Transactions are named contract
 * functions with string arguments returning a string, as on a Fabric peer; `AuditLedger`
 * (audit.ts) gives them types.
 */
import type { LogBlock } from '../logbuilder/builder.js';
import type { WalletIdentity } from './wallet.js';

export interface Committed {
  /** The contract's return value (sorted-key JSON for AuditContract). */
  readonly result: string;
  readonly txId: string;
  /** Block holding the transaction. */
  readonly block: number;
}

/** The request for a new identity when a token is created (embedded mode only). */
export interface IdentityRequest {
  /** Certificate common name (enrolment id). */
  readonly name: string;
  /** Becomes the certificate's `torgo.role` attribute. */
  readonly roles: readonly string[];
}

export interface LedgerDriver {
  readonly kind: 'embedded' | 'fabric';
  /** Endorse, order and commit; resolves only once the transaction is committed VALID. */
  submit(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<Committed>;
  /**
   * Run a read-only transaction on committed state; nothing is ordered. Answers the contract's result as
   * the peer returned it: bytes (UTF-8 for AuditContract, whose results are strings), so a caller that
   * passes them on never decodes them (gateway/ledger/page.ts).
   */
  evaluate(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<Uint8Array>;
  /**
   * `evaluate`, the answer in the parts the contract built it in (their concatenation is what
   * `evaluate` answers), where the driver has them without concatenating: the embedded engine. A
   * Fabric peer sends one buffer, so the Fabric drivers leave it out.
   */
  evaluateParts?(
    identity: WalletIdentity,
    fcn: string,
    args: readonly string[],
  ): Promise<readonly Uint8Array[]>;
  /** The block a committed transaction is in (for answering repeats of an append); undefined if unknown. */
  blockOf(identity: WalletIdentity, txId: string): Promise<number | undefined>;
  /** Committed blocks, or undefined where the driver cannot tell cheaply. */
  height(): number | undefined;
  /** Throws (LedgerError stage `connect`) when the ledger cannot serve requests now. */
  checkReady(identity: WalletIdentity | undefined): Promise<void>;
  /**
   * Committed blocks from `fromBlock` on, then live, in commit order — what the transparency log
   * builder follows. `identity` reads them (Fabric delivers events only to members).
   */
  blocks(identity: WalletIdentity, fromBlock: number, signal: AbortSignal): AsyncIterable<LogBlock>;
  /** Issue a new identity (embedded CA). Fabric identities are enrolled out of band: undefined there. */
  readonly issueIdentity?: (request: IdentityRequest) => Promise<WalletIdentity>;
  close(): Promise<void>;
}

export type LedgerStage = 'endorse' | 'submit' | 'commit' | 'commit-status' | 'connect';

/**
 * A ledger failure, named after the stage that failed. For `endorse`, `message` is the contract's own
 * message (`RECEIPT_CONFLICT: …`) so its stable code survives. `retryable` marks failures that say
 * nothing about the transaction itself (queue full, MVCC conflict, unavailable).
 */
export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  constructor(
    readonly stage: LedgerStage,
    message: string,
    readonly options: { txId?: string; retryable?: boolean; reason?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
  get txId(): string | undefined {
    return this.options.txId;
  }
  get retryable(): boolean {
    return this.options.retryable ?? false;
  }
  /** A short machine-readable reason (`QUEUE_FULL`, `MVCC_READ_CONFLICT`, `CLOSED`…). */
  get reason(): string | undefined {
    return this.options.reason;
  }
}

/**
 * Validation codes of a transaction committed in a block as invalid because another transaction had
 * changed what it read: it was endorsed, ordered and committed, and lost a race. Retryable.
 */
export const READ_CONFLICTS: ReadonlySet<string> = new Set(['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT']);

/** A failure at `stage` for `reason` that is a read conflict (READ_CONFLICTS, at commit). */
export function readConflict(stage: string, reason: string | undefined): boolean {
  return stage === 'commit' && READ_CONFLICTS.has(reason ?? '');
}

/** A transaction invalidated for a read conflict (`readConflict`). */
export function isReadConflict(e: unknown): e is LedgerError {
  return e instanceof LedgerError && readConflict(e.stage, e.reason);
}
