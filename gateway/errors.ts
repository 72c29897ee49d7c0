/**
 * The gateway's error family. Every failure that reaches a client is a GatewayError with a stable
 * `code` (what clients switch on), an HTTP status, a message for people and optional details. The
 * body is always `{ code, message, details? }`.
 *
 * Append failures say where they died, like fabric-gateway's EndorseError / SubmitError /
 * CommitError: `details.stage` is `verify` (the gateway's pre-verification), `endorse` (the contract
 * said no), `submit` (ordering refused it), `commit` (ordered but invalidated) or `commit-status`
 * (the outcome is unknown).
 */
import { type CoreErrorCode, isCoreError } from '../core/index.js';

export type GatewayErrorCode =
  // the HTTP request itself
  | 'E_BAD_REQUEST'
  | 'E_BODY_TOO_LARGE'
  | 'E_UNSUPPORTED_MEDIA_TYPE'
  | 'E_NOT_ACCEPTABLE'
  | 'E_ROUTE_NOT_FOUND'
  | 'E_METHOD_NOT_ALLOWED'
  | 'E_URI_TOO_LONG'
  | 'E_HEADERS_TOO_LARGE'
  | 'E_REQUEST_TIMEOUT'
  | 'E_CURSOR_INVALID'
  // who is asking
  | 'E_UNAUTHENTICATED'
  | 'E_FORBIDDEN'
  | 'E_RATE_LIMITED'
  // ledger answers (contract codes, docs/contract.md, mapped by CONTRACT_CODES)
  | 'E_NOT_FOUND'
  | 'E_RECEIPT_INVALID'
  | 'E_RECEIPT_CONFLICT'
  | 'E_BATCH_TOO_LARGE'
  | 'E_KEY_INVALID'
  | 'E_KEY_EXISTS'
  | 'E_KEY_UNKNOWN'
  | 'E_KEY_NOT_ACTIVE'
  | 'E_KEY_REVOKED'
  | 'E_CHECKPOINT_INVALID'
  | 'E_CHECKPOINT_CONFLICT'
  // tokens
  | 'E_TOKEN_UNKNOWN'
  | 'E_TOKEN_SUPERSEDED'
  | 'E_IDENTITY_UNKNOWN'
  | 'E_IDENTITY_BOUND'
  | 'E_IDENTITY_RESERVED'
  | 'E_ROLE_NOT_GRANTABLE'
  // load and availability
  | 'E_QUEUE_FULL'
  | 'E_UNAVAILABLE'
  | 'E_COMMIT_CONFLICT'
  | 'E_COMMIT_UNKNOWN'
  | 'E_INTERNAL'
  // receipt and key problems found by `core` during pre-verification keep core's own code
  | CoreErrorCode;

export type Stage = 'verify' | 'endorse' | 'submit' | 'commit' | 'commit-status';

const STATUS: Readonly<Partial<Record<GatewayErrorCode, number>>> = {
  E_BAD_REQUEST: 400,
  E_CURSOR_INVALID: 400,
  E_BATCH_TOO_LARGE: 413,
  E_BODY_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_NOT_ACCEPTABLE: 406,
  E_ROUTE_NOT_FOUND: 404,
  E_METHOD_NOT_ALLOWED: 405,
  E_URI_TOO_LONG: 414,
  E_HEADERS_TOO_LARGE: 431,
  E_REQUEST_TIMEOUT: 408,
  E_NOT_FOUND: 404,
  E_TOKEN_UNKNOWN: 404,
  E_TOKEN_SUPERSEDED: 409,
  E_IDENTITY_BOUND: 403,
  E_IDENTITY_RESERVED: 403,
  E_ROLE_NOT_GRANTABLE: 403,
  E_UNAUTHENTICATED: 401,
  E_FORBIDDEN: 403,
  E_RATE_LIMITED: 429,
  E_RECEIPT_CONFLICT: 409,
  E_KEY_EXISTS: 409,
  E_CHECKPOINT_CONFLICT: 409,
  E_COMMIT_CONFLICT: 503,
  E_QUEUE_FULL: 503,
  E_UNAVAILABLE: 503,
  E_COMMIT_UNKNOWN: 504,
  E_INTERNAL: 500,
};

/** HTTP status of a code: anything about a receipt or key that arrived intact but is not acceptable is 422. */
export function statusOf(code: GatewayErrorCode): number {
  return STATUS[code] ?? 422;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly status: number;

  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
    options?: { status?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status ?? statusOf(code);
  }

  toBody(): { code: string; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

/** The contract's codes (chaincode/errors.ts, docs/contract.md) → gateway codes. */
export const CONTRACT_CODES: Readonly<Record<string, GatewayErrorCode>> = {
  BAD_REQUEST: 'E_BAD_REQUEST',
  FORBIDDEN: 'E_FORBIDDEN',
  NOT_FOUND: 'E_NOT_FOUND',
  RECEIPT_INVALID: 'E_RECEIPT_INVALID',
  RECEIPT_CONFLICT: 'E_RECEIPT_CONFLICT',
  BATCH_TOO_LARGE: 'E_BATCH_TOO_LARGE',
  KEY_INVALID: 'E_KEY_INVALID',
  KEY_EXISTS: 'E_KEY_EXISTS',
  KEY_UNKNOWN: 'E_KEY_UNKNOWN',
  KEY_NOT_ACTIVE: 'E_KEY_NOT_ACTIVE',
  KEY_REVOKED: 'E_KEY_REVOKED',
  CHECKPOINT_INVALID: 'E_CHECKPOINT_INVALID',
  CHECKPOINT_REGRESSION: 'E_CHECKPOINT_CONFLICT',
  CHECKPOINT_CONFLICT: 'E_CHECKPOINT_CONFLICT',
  INTERNAL: 'E_INTERNAL',
};

/** Core codes the contract puts after RECEIPT_INVALID / KEY_INVALID (`RECEIPT_INVALID: E_SIGNATURE_INVALID: …`). */
const CORE_CODE = /^(E_[A-Z_]+): /;

/**
 * Reads `CODE: detail` off a contract message: the code by the table, and for RECEIPT_INVALID and
 * KEY_INVALID the more precise core code that follows it. Undefined if the message carries no known code.
 */
export function fromContractMessage(message: string): GatewayError | undefined {
  const m = /^([A-Z][A-Z_]+): ([\s\S]*)$/.exec(message);
  if (!m) return undefined;
  const contractCode = m[1]!;
  let code = CONTRACT_CODES[contractCode];
  if (!code) return undefined;
  let detail = m[2]!;
  const core = CORE_CODE.exec(detail);
  if (
    core &&
    (contractCode === 'RECEIPT_INVALID' || contractCode === 'KEY_INVALID' || contractCode === 'INTERNAL')
  ) {
    if (contractCode !== 'INTERNAL') code = core[1] as GatewayErrorCode;
    detail = detail.slice(core[0].length);
  }
  if (code === 'E_INTERNAL') {
    return new GatewayError('E_INTERNAL', 'the ledger failed', { stage: 'endorse', contractCode });
  }
  return new GatewayError(code, detail, { stage: 'endorse', contractCode });
}

/** A core error found by the gateway's own checks (receipt text, signatures, keys). */
export function fromCoreError(e: unknown, stage: Stage = 'verify'): GatewayError | undefined {
  if (!isCoreError(e)) return undefined;
  return new GatewayError(e.code, e.message, { stage, ...(e.details ?? {}) });
}
