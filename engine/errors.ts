/**
 * The error family of the embedded engine. Codes name the stage where a transaction died, like
 * fabric-gateway's EndorseError / SubmitError / CommitError, so the gateway maps them with a table:
 *
 * - endorsement (the contract ran and said no): `E_ENDORSE` — the message is the contract's own,
 *   byte for byte (`RECEIPT_CONFLICT: …`), so its stable prefix survives;
 * - ordering (the engine would not take the transaction): `E_QUEUE_FULL`, `E_CLOSED`, `E_IDENTITY`,
 *   `E_ARGUMENT`;
 * - commit (ordered into a block but not valid, Fabric's TxValidationCode): `E_MVCC_READ_CONFLICT`,
 *   `E_PHANTOM_READ_CONFLICT`, `E_DUPLICATE_TXID`;
 * - storage and integrity: `E_STORAGE`, `E_LOCKED`, `E_CHAIN_CORRUPT`, `E_BLOCK_NOT_FOUND`,
 *   `E_LEDGER_FORMAT` (a ledger in another storage format: the message says how to convert it).
 */
export type EngineErrorCode =
  | 'E_ENDORSE'
  | 'E_QUEUE_FULL'
  | 'E_CLOSED'
  | 'E_IDENTITY'
  | 'E_ARGUMENT'
  | 'E_MVCC_READ_CONFLICT'
  | 'E_PHANTOM_READ_CONFLICT'
  | 'E_DUPLICATE_TXID'
  | 'E_STORAGE'
  | 'E_LOCKED'
  | 'E_CHAIN_CORRUPT'
  | 'E_BLOCK_NOT_FOUND'
  | 'E_LEDGER_FORMAT';

export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly code: EngineErrorCode;
  /** Machine-readable context: tx id, block number, validation code, chaincode status… */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: EngineErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
}

export function isEngineError(e: unknown): e is EngineError {
  return e instanceof EngineError;
}
