/** Size limits of receipt format v1 (docs/receipt-format.md §2). */
export const MAX_RECEIPT_TEXT_BYTES = 32_768;
export const MAX_LINE_BYTES = 4_096;
export const MAX_FILE_BYTES = 98_304;
export const MAX_SIGNATURES = 8;
export const MAX_PAYLOAD_DIGESTS = 16;
export const MAX_REFS = 64;
