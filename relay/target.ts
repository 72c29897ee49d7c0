/**
 * Where the forwarder sends receipts: one gateway. The forwarder sees only this narrow interface;
 * `gatewayTarget` implements it over the gateway's HTTP API (POST /v1/receipts/batch).
 */

/** One item's outcome, in the order sent. */
export type ItemOutcome =
  | { readonly ok: true; readonly created: boolean }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

export interface ForwardTarget {
  /** For logs, metrics and status (a URL without credentials). */
  readonly name: string;
  /**
   * Appends receipts (idempotent by receipt id: a resend of identical bytes answers "existing").
   * Resolves with one outcome per receipt; rejects with a ForwardError when the request as a whole
   * failed (unreachable, 503, timeout, refused credentials…).
   */
  appendBatch(receipts: readonly string[], options: { signal: AbortSignal }): Promise<readonly ItemOutcome[]>;
}

export class ForwardError extends Error {
  override readonly name = 'ForwardError';
  constructor(
    /** A stable reason: the gateway's code (`E_UNAVAILABLE`…), or `E_UNREACHABLE`, `E_TIMEOUT`. */
    readonly code: string,
    message: string,
    /** HTTP status when the gateway answered. */
    readonly status?: number,
    /** The gateway's Retry-After, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** True for an item outcome worth sending again later (the gateway or ledger was busy or failing). */
export function isTransient(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
