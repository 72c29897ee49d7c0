/**
 * @torgo/client: a typed client of the TORGO Ledger gateway (docs/client.md). Types of every body
 * come from @torgo/api, the schemas the gateway itself validates with.
 */
export type * from '@torgo/api';
export {
  type AppendBatchOptions,
  type AppendBatchResult,
  type AppendResult,
  type Answer,
  type CallOptions,
  type ClientOptions,
  type ReceiptFilter,
  type RequestSpec,
  TorgoClient,
} from './client.js';
export { type ClientErrorCode, TorgoApiError } from './errors.js';
export { KeysApi } from './keys.js';
export { TokensApi } from './tokens.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export type { FetchLike, TlsOptions } from './transport.js';
