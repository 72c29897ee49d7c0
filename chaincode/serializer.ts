/**
 * The contract's transaction serializer: fabric-contract-api's `JSONSerializer`, plus one case. A
 * transaction declared `@Returns('string')` may hand over that string's UTF-8 bytes (a Uint8Array)
 * instead of the string, and those bytes go on the wire as they are — the same bytes the string would
 * have become (`Buffer.from(string)`), without the two copies in between. (The stock serializer would
 * send a Uint8Array result as `{"type":"Buffer","data":[…]}` JSON, which no transaction here means; the
 * dispatcher hands it no schema for `@Returns('string')`, so the result's type is what decides.)
 *
 * Why: a page of 50 receipts is ~280 KB of JSON assembled from the records' stored bytes
 * (chaincode/queries.ts). As a string it was decoded from those bytes, held by V8 as UTF-16 (a
 * receipt's signature line carries an em dash), then encoded back to UTF-8 for the wire — large-object
 * allocations and two full UTF-8 passes per page (docs/performance.md §11). Handed over as bytes, it
 * is one copy. A page comes in parts (bytes.ts), concatenated here; the embedded engine's dispatcher
 * keeps them (engine/shim.ts `PartsSerializer`).
 *
 * Registered where the dispatcher is built: chaincode/index.ts exports it as `serializers` (what
 * fabric-shim's bootstrap reads from the package's main module on a peer), engine/shim.ts builds the
 * embedded dispatcher with it. Everything else is the stock serializer's, unchanged.
 */
import { JSONSerializer } from 'fabric-contract-api';
import { ByteParts } from './bytes.js';

export class TransactionSerializer extends JSONSerializer {
  override toBuffer(result: unknown, schema: unknown, loggerPrefix?: string): Buffer {
    // An answer in parts (bytes.ts) is the bytes of its parts in order: a peer sends one buffer.
    if (result instanceof ByteParts) return result.concat();
    if (result instanceof Uint8Array) {
      return Buffer.isBuffer(result)
        ? result
        : Buffer.from(result.buffer, result.byteOffset, result.byteLength);
    }
    return super.toBuffer(result, schema, loggerPrefix);
  }
}

/** The `serializers` export fabric-shim's bootstrap reads (contract-spi/bootstrap.js). */
export const serializers = {
  transaction: 'transactionSerializer',
  serializers: { transactionSerializer: TransactionSerializer },
};
