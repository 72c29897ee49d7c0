/** The signature block of a `.mu` receipt (docs/receipt-format.md §6). */
import { CoreError } from '../errors.js';
import { fromBase64, toBase64 } from '../encoding.js';
import { decodeBase64Canonical } from '../crypto/base64.js';
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
    const signature =
      decodeBase64Canonical(parts[1]!) ??
      fromBase64(parts[1]!, 'E_SIGNATURE_SYNTAX', `line ${lineNo}: signature`);
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

/**
 * The signatures of well-formed signature lines, given without their "— " prefix (`rests`): exactly
 * what `parseSignatureLines` returns for those lines when each is "<64 hex key id> <canonical base64 of
 * an ML-DSA signature>", at most MAX_SIGNATURES of them, sorted by distinct key ids; undefined for
 * anything else, leaving the verdict and its error to `parseSignatureLines`. (One space, at 64: the key
 * id and the base64 alphabet hold none, so `split(' ')` there gives the same two parts.)
 */
export function readWellFormedSignatures(rests: readonly string[]): ReceiptSignature[] | undefined {
  if (rests.length > MAX_SIGNATURES) return undefined;
  const out: ReceiptSignature[] = [];
  for (const rest of rests) {
    if (rest.charCodeAt(KEY_ID_LENGTH) !== 0x20) return undefined;
    const keyId = rest.slice(0, KEY_ID_LENGTH);
    if (!KEY_ID_PATTERN.test(keyId)) return undefined;
    const signature = decodeBase64Canonical(rest.slice(KEY_ID_LENGTH + 1));
    if (!signature || !algorithmForSignatureLength(signature.length)) return undefined;
    const prev = out.at(-1);
    if (prev && prev.keyId >= keyId) return undefined;
    out.push({ keyId, signature });
  }
  return out;
}

const KEY_ID_LENGTH = 64;
