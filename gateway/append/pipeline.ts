/**
 * What an append does before the ledger: pre-verify each receipt (verify.ts), then queue the valid
 * ones for the coalescer in one call, so that receipts checked together can share a transaction.
 */
import type { MlDsaBackend } from '../../core/crypto/mldsa.js';
import type { ReceiptChecker } from '../../core/crypto/verify-pool.js';
import type { ReceiptHandOff } from '../../core/index.js';
import { GatewayError } from '../errors.js';
import type { WalletIdentity } from '../ledger/wallet.js';
import type { GatewayMetrics } from '../metrics.js';
import type { AppendOutcome, Coalescer } from './coalescer.js';
import { type KeyDirectory, preVerify } from './verify.js';

export interface AppendParts {
  readonly keys: KeyDirectory;
  readonly mlDsa: MlDsaBackend;
  readonly receiptHandOff: ReceiptHandOff | undefined;
  /** Pre-checks on core's verification workers (parse included); undefined: on this thread. */
  readonly checkReceipt: ReceiptChecker | undefined;
  readonly metrics: GatewayMetrics;
  readonly coalescer: Coalescer;
}

/**
 * Verify then queue each text; one outcome per input, in order. The items are checked concurrently
 * (their signature checks run on core's worker pool). Throws only for E_QUEUE_FULL / E_UNAVAILABLE.
 */
export async function appendAll(
  parts: AppendParts,
  who: WalletIdentity,
  inputs: readonly (Uint8Array | string)[],
): Promise<AppendOutcome[]> {
  const outcomes: (AppendOutcome | undefined)[] = new Array(inputs.length);
  const checked = await Promise.all(
    inputs.map((input) =>
      preVerify(
        (keyId) => parts.keys.resolve(who, keyId),
        input,
        parts.mlDsa,
        parts.receiptHandOff,
        parts.checkReceipt,
      ).then(
        ({ mu }) => ({ mu }),
        (e: unknown) => ({ error: e }),
      ),
    ),
  );
  const valid: { index: number; mu: string }[] = [];
  for (const [index, c] of checked.entries()) {
    if ('mu' in c) {
      valid.push({ index, mu: c.mu });
      continue;
    }
    const e = c.error;
    if (!(e instanceof GatewayError)) throw e;
    if (e.details?.['stage'] === 'verify') {
      parts.metrics.verificationFailures.inc({ code: e.code, stage: 'verify' });
    }
    outcomes[index] = { ok: false, error: e };
  }
  if (valid.length > 0) {
    const pending = parts.coalescer.enqueue(
      who,
      valid.map((v) => v.mu),
    );
    const settled = await Promise.all(pending);
    settled.forEach((o, i) => {
      outcomes[valid[i]!.index] = o;
    });
  }
  return outcomes as AppendOutcome[];
}
