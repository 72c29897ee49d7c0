/**
 * A read-only driver over the embedded ledger from another thread of the gateway's process
 * (engine/reader.ts): the contract evaluated with this thread's CPU and heap, on the database the
 * gateway's thread writes. What a bundle export on a thread of its own reads the ledger through
 * (gateway/logbuilder/export-worker.ts); it submits nothing and follows no blocks.
 */
import { platformMlDsa } from '../../../core/crypto/backend.js';
import { LedgerReader, setChaincodeLogLevel } from '../../../engine/index.js';
import { type Committed, LedgerError, type LedgerDriver } from '../driver.js';
import type { LogBlock } from '../../logbuilder/builder.js';
import { EmbeddedEvaluations, toLedgerError } from './driver.js';

function readOnly(what: string): LedgerError {
  return new LedgerError('submit', `the ledger reader does not ${what}`, { reason: 'READ_ONLY' });
}

export class EmbeddedReaderDriver extends EmbeddedEvaluations implements LedgerDriver {
  readonly kind = 'embedded' as const;

  private constructor(protected readonly engine: LedgerReader) {
    super();
  }

  /** A reader of the ledger in `dataDir`, which the gateway's EmbeddedDriver has open in this process. */
  static async open(dataDir: string): Promise<EmbeddedReaderDriver> {
    // As EmbeddedDriver.open: the contract's libraries log nothing of their own (set before it loads).
    setChaincodeLogLevel('CRITICAL');
    const { auditContracts } = await import('../../../chaincode/contract.js');
    try {
      // The contract only evaluates here: its ML-DSA backend never verifies (queries read state).
      const reader = await LedgerReader.open({ dir: dataDir, contracts: auditContracts(platformMlDsa) });
      return new EmbeddedReaderDriver(reader);
    } catch (e) {
      throw toLedgerError(e);
    }
  }

  submit(): Promise<Committed> {
    return Promise.reject(readOnly('submit'));
  }

  blockOf(): Promise<number | undefined> {
    return Promise.reject(readOnly('look up transactions'));
  }

  height(): undefined {
    return undefined;
  }

  async checkReady(): Promise<void> {}

  // biome-ignore lint/correctness/useYield: a reader follows no blocks; it refuses on the first step
  async *blocks(): AsyncIterable<LogBlock> {
    throw readOnly('follow blocks');
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
