/**
 * The contract's error family. Every failed transaction's message starts with one of these codes
 * and a colon (`RECEIPT_CONFLICT: …`), because the message is all that crosses the peer → gateway
 * boundary: the gateway maps codes to HTTP statuses with a table (docs/contract.md), never by
 * matching prose. Codes are stable; messages are for people.
 */
import { isCoreError } from '../core/index.js';

export const CONTRACT_ERROR_CODES = [
  'BAD_REQUEST',
  'FORBIDDEN',
  'NOT_FOUND',
  'RECEIPT_INVALID',
  'RECEIPT_CONFLICT',
  'BATCH_TOO_LARGE',
  'KEY_INVALID',
  'KEY_EXISTS',
  'KEY_UNKNOWN',
  'KEY_NOT_ACTIVE',
  'KEY_REVOKED',
  'CHECKPOINT_INVALID',
  'CHECKPOINT_REGRESSION',
  'CHECKPOINT_CONFLICT',
  'INTERNAL',
] as const;
export type ContractErrorCode = (typeof CONTRACT_ERROR_CODES)[number];

export class ContractError extends Error {
  override readonly name = 'ContractError';
  readonly code: ContractErrorCode;

  constructor(code: ContractErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.code = code;
  }
}

/**
 * Wraps a `core` failure under a contract code, keeping the core code in the message
 * (`RECEIPT_INVALID: E_SIGNATURE_INVALID: …`) so callers can tell the reasons apart.
 * Anything that is not a CoreError is a bug and is rethrown as it is.
 */
export function fromCoreError(code: ContractErrorCode, e: unknown, what?: string): ContractError {
  if (!isCoreError(e)) throw e;
  return new ContractError(code, `${e.code}: ${what ? `${what}: ` : ''}${e.message}`);
}

/** What a transaction throws to the shim: a ContractError as is, anything else as INTERNAL. */
export function toContractError(e: unknown): ContractError {
  if (e instanceof ContractError) return e;
  if (isCoreError(e)) return new ContractError('INTERNAL', `${e.code}: ${e.message}`);
  return new ContractError('INTERNAL', e instanceof Error ? e.message : String(e));
}
