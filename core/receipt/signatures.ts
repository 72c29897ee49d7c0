/** The signature block of a `.mu` receipt (docs/receipt-format.md §6). */
import { CoreError } from '../errors.js';
import { fromBase64, toBase64 } from '../encoding.js';
import { algorithmForSignatureLength } from '../crypto/mldsa.js';
import { KEY_ID_PATTERN } from '../crypto/keys.js';
import { MAX_SIGNATURES } from './limits.js';

export const SIGNATURE_PREFIX = '\u2014 ';

export interface ReceiptSignature {
  readonly keyId: string;
  readonly signature: Uint8Array;
}

export function formatSignatureLine(s: ReceiptSignature): string {
  return `${SIGNATURE_PREFIX}${s.keyId} ${toBase64(s.signature)}`;
}

/** Parses signature lines (without their LFs); attacker-controlled. */
export function parseSignatureLines(lines: readonly string[], firstLine: number): ReceiptSignature[] {
  if (lines.length > MAX_SIGNATURES) {
    throw new CoreError('E_RECEIPT_TOO_LARGE', `at most ${MAX_SIGNATURES} signatures per receipt`);
  }
  const out: ReceiptSignature[] = [];
  lines.forEach((line, i) => {
    const lineNo = firstLine + i;
    const parts = line.startsWith(SIGNATURE_PREFIX) ? line.slice(SIGNATURE_PREFIX.length).split(' ') : [];
    if (parts.length !== 2 || !KEY_ID_PATTERN.test(parts[0]!)) {
      throw new CoreError(
        'E_SIGNATURE_SYNTAX',
        `line ${lineNo}: expected "— <64 hex key id> <base64 signature>"`,
        {
          line: lineNo,
        },
      );
    }
    const signature = fromBase64(parts[1]!, 'E_SIGNATURE_SYNTAX', `line ${lineNo}: signature`);
    if (!algorithmForSignatureLength(signature.length)) {
      throw new CoreError(
        'E_SIGNATURE_SYNTAX',
        `line ${lineNo}: signature is ${signature.length} bytes; ML-DSA-44/65/87 signatures are 2420/3309/4627 bytes`,
        { line: lineNo },
      );
    }
    const prev = out.at(-1);
    if (prev && prev.keyId === parts[0]) {
      throw new CoreError('E_SIGNATURE_DUPLICATE', `line ${lineNo}: key ${parts[0]} signed twice`, {
        line: lineNo,
      });
    }
    if (prev && prev.keyId > parts[0]!) {
      throw new CoreError(
        'E_RECEIPT_NOT_CANONICAL',
        `line ${lineNo}: signature lines must be sorted by key id`,
        {
          line: lineNo,
        },
      );
    }
    out.push({ keyId: parts[0]!, signature });
  });
  return out;
}
