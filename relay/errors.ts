/**
 * The relay's errors: a stable code, a human message and the HTTP status its intake answers.
 * Receipt syntax errors keep core's own code (`E_RECEIPT_SYNTAX`, `E_RECEIPT_FIELD_INVALID`…).
 */
export type RelayErrorCode =
  /** The outbox holds its configured maximum (receipts or bytes): nothing more until it drains. */
  | 'E_RELAY_FULL'
  /** The relay is stopping or not open: nothing is accepted. */
  | 'E_RELAY_CLOSED'
  /** Another relay (this or another process) has the outbox open. */
  | 'E_RELAY_LOCKED'
  /** The outbox could not be read or written. */
  | 'E_RELAY_STORAGE'
  /** The id is already queued with other bytes. */
  | 'E_RECEIPT_CONFLICT'
  /** The receipt carries no signature and the relay has no key to sign it. */
  | 'E_SIGNATURE_MISSING'
  | 'E_BAD_REQUEST'
  | 'E_BODY_TOO_LARGE'
  | 'E_UNSUPPORTED_MEDIA_TYPE'
  | 'E_CONFIG'
  | 'E_INTERNAL';

const STATUS: Readonly<Record<RelayErrorCode, number>> = {
  E_RELAY_FULL: 507,
  E_RELAY_CLOSED: 503,
  E_RELAY_LOCKED: 503,
  E_RELAY_STORAGE: 500,
  E_RECEIPT_CONFLICT: 409,
  E_SIGNATURE_MISSING: 400,
  E_BAD_REQUEST: 400,
  E_BODY_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_CONFIG: 400,
  E_INTERNAL: 500,
};

export class RelayError extends Error {
  override readonly name = 'RelayError';
  readonly status: number;
  constructor(
    readonly code: RelayErrorCode | `E_RECEIPT_${string}` | `E_SIGNATURE_${string}`,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = STATUS[code as RelayErrorCode] ?? 400;
  }

  toBody(): { code: string; message: string; details?: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}
