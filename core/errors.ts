/**
 * The error family of `core`: every failure carries a stable code that callers switch on
 * (the CLI maps codes to exit statuses, the gateway to HTTP statuses, the contract prefixes
 * its messages with them) and a message written for people.
 */
export type CoreErrorCode =
  // receipt text
  | 'E_RECEIPT_TOO_LARGE'
  | 'E_RECEIPT_ENCODING'
  | 'E_RECEIPT_NOT_CANONICAL'
  | 'E_RECEIPT_SYNTAX'
  | 'E_RECEIPT_FIELD_UNKNOWN'
  | 'E_RECEIPT_FIELD_DUPLICATE'
  | 'E_RECEIPT_FIELD_MISSING'
  | 'E_RECEIPT_FIELD_ORDER'
  | 'E_RECEIPT_FIELD_INVALID'
  | 'E_RECEIPT_SECTION'
  | 'E_RECEIPT_MIRROR_MISMATCH'
  | 'E_RECEIPT_DIGEST_MISMATCH'
  // signatures and keys
  | 'E_SIGNATURE_SYNTAX'
  | 'E_SIGNATURE_MISSING'
  | 'E_SIGNATURE_INVALID'
  | 'E_SIGNATURE_DUPLICATE'
  | 'E_KEY_UNKNOWN'
  | 'E_KEY_INVALID'
  | 'E_KEY_ALGORITHM'
  | 'E_CRYPTO_UNAVAILABLE'
  // transparency log, checkpoints, bundles
  | 'E_CHECKPOINT_SYNTAX'
  | 'E_CHECKPOINT_SIGNATURE'
  | 'E_CHECKPOINT_INCONSISTENT'
  | 'E_PROOF_INVALID'
  | 'E_BUNDLE_SYNTAX'
  | 'E_BUNDLE_TRUNCATED'
  | 'E_BUNDLE_DIGEST_MISMATCH'
  | 'E_BUNDLE_KEY_NOT_VALID'
  // what a bundle claims as a whole (docs/bundle-format.md §5, §8)
  | 'E_BUNDLE_STATEMENT_SIGNATURE'
  | 'E_BUNDLE_STATEMENT_MISMATCH'
  | 'E_BUNDLE_UNSIGNED'
  | 'E_BUNDLE_OUTSIDE_FILTER'
  | 'E_BUNDLE_DUPLICATE_ENTRY'
  | 'E_BUNDLE_KEY_UNUSED'
  | 'E_BUNDLE_EMPTY'

  // bundle completeness (docs/bundle-format.md §6, §8)
  | 'E_CHAIN_GAP'
  | 'E_CHAIN_START'
  | 'E_CHAIN_END'
  | 'E_CHAIN_WITHHELD'
  | 'E_CHAIN_INVALID'
  | 'E_KEY_CHAIN_GAP'
  | 'E_KEY_CHAIN_END';

export class CoreError extends Error {
  override readonly name = 'CoreError';
  readonly code: CoreErrorCode;
  /** Where in the input the problem is (1-based line, field name…), when that helps a person fix it. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: CoreErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export function isCoreError(e: unknown): e is CoreError {
  return e instanceof CoreError;
}
