/** The embedded ledger engine: an in-process Fabric peer on LevelDB. */
export type {
  Block,
  BlockEvent,
  BlockTransaction,
  BlockWrite,
  TxTimestamp,
  ValidationCode,
} from './blockstore.js';
export { EngineError, type EngineErrorCode, isEngineError } from './errors.js';
export {
  EmbeddedCA,
  type EmbeddedIdentity,
  FABRIC_ATTRS_OID,
  type Identity,
  type IdentityRequest,
} from './identity.js';
export {
  EmbeddedLedger,
  type EvaluateResult,
  type LedgerOptions,
  type SubmitOptions,
  type SubmitResult,
  type Subscription,
  type TransactionStatus,
} from './ledger.js';
export { LedgerReader, type ReaderOptions } from './reader.js';
export { type ChaincodeLogLevel, type ContractClass, setChaincodeLogLevel } from './shim.js';
export type { ChaincodeEvent } from './simulation.js';
export { type MigrationReport, migrateLedger } from './migrate.js';
export type { TableOpening } from './tables.js';
export { type ChainReport, verifyLedgerAt } from './verify.js';
