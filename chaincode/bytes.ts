/**
 * A transaction's answer in pieces: the bytes `concat()` gives, kept as the parts they were built from.
 *
 * Why: a page of 50 receipts is ~270 KB assembled from the records' stored bytes (chaincode/queries.ts).
 * Concatenated, every page is one fresh large ArrayBuffer outside V8's heap, and those are what set
 * off V8's mark-compacts in a query-heavy process (its external-memory limit, reached before a
 * scavenge frees them: docs/performance.md §11, "Queries, eighth pass"). A peer must send one buffer,
 * so the transaction serializer concatenates (chaincode/serializer.ts); the embedded engine, whose
 * gateway copies the page into its HTTP answer anyway, takes the parts as they are (engine/shim.ts).
 */
export class ByteParts {
  readonly byteLength: number;

  constructor(readonly parts: readonly Uint8Array[]) {
    let length = 0;
    for (const part of parts) length += part.byteLength;
    this.byteLength = length;
  }

  /** The answer as one buffer: the parts in order. */
  concat(): Buffer {
    return Buffer.concat(this.parts, this.byteLength);
  }
}
