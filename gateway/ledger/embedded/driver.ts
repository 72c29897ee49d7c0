/**
 * The embedded driver: AuditContract running in this process on the embedded engine (LevelDB in
 * `<dataDir>/ledger`, its CA in `<dataDir>/msp`). Identities issued for tokens are real X.509
 * certificates from the engine's CA, with the token's roles in the `torgo.role` attribute, written
 * to the wallet like any Fabric identity.
 */
import {
  EmbeddedLedger,
  type EngineErrorCode,
  type EvaluateResult,
  type Identity,
  isEngineError,
  setChaincodeLogLevel,
} from '../../../engine/index.js';
import {
  type Committed,
  type IdentityRequest,
  LedgerError,
  type LedgerDriver,
  type LedgerStage,
} from '../driver.js';
import type { MlDsaBackend } from '../../../core/crypto/mldsa.js';
import type { ReceiptHandOff } from '../../../core/receipt/handoff.js';
import type { WalletIdentity } from '../wallet.js';
import type { LogBlock } from '../../logbuilder/builder.js';
import { logBlockOf } from '../../logbuilder/sources.js';

export interface EmbeddedDriverOptions {
  dataDir: string;
  mspId: string;
  maxBlockTxs: number;
  /** LevelDB's block cache, MiB (engine's `cacheBytes`). Default LevelDB's, 8. */
  cacheMiB?: number;
  /** Table files LevelDB keeps open (engine's `maxOpenFiles`). Default LevelDB's, 1000. */
  maxOpenFiles?: number;
  /** LevelDB's write buffer, MiB (engine's `writeBufferBytes`). Default the engine's, 32. */
  writeBufferMiB?: number;
  /** engine's `openTablesAtStart`. Default true. */
  openTablesAtStart?: boolean;
  /** engine's `blockWindowMs`. Default 0. */
  blockWindowMs?: number;
  /** Submissions in flight before the engine refuses (the gateway's own queue is in front of it). */
  maxQueue?: number;
  /** The ML-DSA backend the contract verifies signatures with (the gateway's own, to share its memo). */
  mlDsa: MlDsaBackend;
  /** Parses the gateway hands to the contract (core/receipt/handoff.ts): each receipt parsed once. */
  handOff?: ReceiptHandOff;
}

const STAGES: Readonly<Record<EngineErrorCode, { stage: LedgerStage; retryable: boolean }>> = {
  E_ENDORSE: { stage: 'endorse', retryable: false },
  E_QUEUE_FULL: { stage: 'submit', retryable: true },
  E_CLOSED: { stage: 'submit', retryable: true },
  E_IDENTITY: { stage: 'endorse', retryable: false },
  E_ARGUMENT: { stage: 'endorse', retryable: false },
  E_MVCC_READ_CONFLICT: { stage: 'commit', retryable: true },
  E_PHANTOM_READ_CONFLICT: { stage: 'commit', retryable: true },
  E_DUPLICATE_TXID: { stage: 'commit', retryable: true },
  E_STORAGE: { stage: 'commit-status', retryable: false },
  E_LOCKED: { stage: 'connect', retryable: false },
  E_CHAIN_CORRUPT: { stage: 'connect', retryable: false },
  E_BLOCK_NOT_FOUND: { stage: 'connect', retryable: false },
  E_LEDGER_FORMAT: { stage: 'connect', retryable: false },
};

/** An engine error as the gateway's LedgerError (its stage and retryability); others unchanged. */
export function toLedgerError(e: unknown): unknown {
  if (!isEngineError(e)) return e;
  const { stage, retryable } = STAGES[e.code] ?? { stage: 'endorse', retryable: false };
  const txId = typeof e.details?.['txId'] === 'string' ? (e.details['txId'] as string) : undefined;
  return new LedgerError(stage, e.message, {
    retryable,
    reason: e.code.slice(2),
    cause: e,
    ...(txId ? { txId } : {}),
  });
}

/** What evaluates on the embedded engine: the ledger itself, or a reader of it on another thread. */
interface Evaluates {
  evaluate(identity: Identity, fcn: string, args: readonly string[]): Promise<EvaluateResult>;
}

/**
 * Evaluations on the embedded engine, by the ledger or by a reader of it (reader.ts): the answer as
 * bytes or in the contract's parts, engine errors as the gateway's LedgerErrors.
 */
export abstract class EmbeddedEvaluations {
  protected abstract readonly engine: Evaluates;

  async evaluate(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<Uint8Array> {
    return (await this.evaluated(identity, fcn, args)).payload;
  }

  async evaluateParts(
    identity: WalletIdentity,
    fcn: string,
    args: readonly string[],
  ): Promise<readonly Uint8Array[]> {
    return (await this.evaluated(identity, fcn, args)).parts;
  }

  private async evaluated(identity: WalletIdentity, fcn: string, args: readonly string[]) {
    try {
      return await this.engine.evaluate(
        { mspId: identity.mspId, certificate: identity.certificate },
        fcn,
        args,
      );
    } catch (e) {
      throw toLedgerError(e);
    }
  }
}

export class EmbeddedDriver extends EmbeddedEvaluations implements LedgerDriver {
  readonly kind = 'embedded' as const;

  private constructor(
    readonly ledger: EmbeddedLedger,
    private readonly mspId: string,
  ) {
    super();
  }

  protected get engine(): Evaluates {
    return this.ledger;
  }

  static async open(options: EmbeddedDriverOptions): Promise<EmbeddedDriver> {
    // The contract runs in this process: fabric-contract-api logs every decorator as the contract
    // module loads, and fabric-shim every rejected transaction, in their own console format. The
    // gateway maps and logs failures itself, so their loggers write nothing — set before the contract
    // is loaded, whatever loaded fabric-contract-api first (chaincode/fabric-internals.ts).
    setChaincodeLogLevel('CRITICAL');
    const { auditContracts } = await import('../../../chaincode/contract.js');
    try {
      const ledger = await EmbeddedLedger.open({
        dir: options.dataDir,
        contracts: auditContracts(options.mlDsa, options.handOff),
        maxBlockTxs: options.maxBlockTxs,
        blockWindowMs: options.blockWindowMs ?? 0,
        ...(options.maxQueue ? { maxQueue: options.maxQueue } : {}),
        ...(options.cacheMiB ? { cacheBytes: options.cacheMiB * 2 ** 20 } : {}),
        ...(options.maxOpenFiles ? { maxOpenFiles: options.maxOpenFiles } : {}),
        ...(options.writeBufferMiB ? { writeBufferBytes: options.writeBufferMiB * 2 ** 20 } : {}),
        ...(options.openTablesAtStart === undefined ? {} : { openTablesAtStart: options.openTablesAtStart }),
        chaincodeLogLevel: 'CRITICAL',
      });
      return new EmbeddedDriver(ledger, options.mspId);
    } catch (e) {
      throw toLedgerError(e);
    }
  }

  readonly issueIdentity = async (request: IdentityRequest): Promise<WalletIdentity> => {
    const issued = await this.ledger.createIdentity({
      mspId: this.mspId,
      name: request.name,
      attrs: { 'torgo.role': request.roles.join(',') },
    });
    return {
      label: request.name,
      mspId: issued.mspId,
      certificate: issued.certificate,
      privateKey: issued.privateKey,
    };
  };

  async submit(identity: WalletIdentity, fcn: string, args: readonly string[]): Promise<Committed> {
    try {
      const r = await this.ledger.submit(
        { mspId: identity.mspId, certificate: identity.certificate },
        fcn,
        args,
      );
      return { result: r.result, txId: r.txId, block: r.blockNumber };
    } catch (e) {
      throw toLedgerError(e);
    }
  }

  async blockOf(_identity: WalletIdentity, txId: string): Promise<number | undefined> {
    try {
      return (await this.ledger.getTransactionStatus(txId))?.blockNumber;
    } catch (e) {
      throw toLedgerError(e);
    }
  }

  height(): number {
    return this.ledger.height;
  }

  async *blocks(_identity: WalletIdentity, fromBlock: number, signal: AbortSignal): AsyncIterable<LogBlock> {
    for await (const block of this.ledger.blocks(fromBlock, { signal })) yield logBlockOf(block);
  }

  async checkReady(): Promise<void> {
    // The ledger is open or this driver would not exist; closing is reported by submit/evaluate.
  }

  async close(): Promise<void> {
    await this.ledger.close();
  }
}
