/**
 * Intake: what the relay checks before it accepts a receipt. The receipt is parsed with core's parser
 * (size, canonical form, mirror, fields, signature syntax), so a bad receipt is refused at the door
 * with core's code instead of failing later at the gateway, where no one is waiting for the answer.
 */
import { type PrivateKey, parseReceipt, type Receipt, signReceipt } from '../core/index.js';
import { isCoreError } from '../core/errors.js';
import { RelayError } from './errors.js';
import type { Admission } from './outbox.js';

/** Parses (and, with `signer`, signs) one receipt; throws a RelayError carrying core's code. */
export function admissionOf(input: Uint8Array | string, signer: PrivateKey | undefined): Admission {
  let receipt = parse(input);
  if (signer) {
    // Deterministic signing: a service that sends the same receipt again (after a timeout, say) gets
    // the same bytes, which the gateway answers as an identical repeat instead of a conflict.
    receipt = parse(signReceipt(receipt, signer, { deterministic: true }));
  }
  if (receipt.signatures.length === 0) {
    throw new RelayError(
      'E_SIGNATURE_MISSING',
      'the receipt is not signed and this relay has no signing key',
    );
  }
  const { id, source } = receipt.document.fields;
  return { id, source, mu: new TextDecoder().decode(receipt.bytes), digest: receipt.digest };
}

function parse(input: Uint8Array | string): Receipt {
  try {
    return parseReceipt(input);
  } catch (e) {
    if (isCoreError(e))
      throw new RelayError(e.code as `E_RECEIPT_${string}`, e.message, e.details, { cause: e });
    throw e;
  }
}
