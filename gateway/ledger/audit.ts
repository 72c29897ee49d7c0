/**
 * AuditContract's transactions with types, over either driver, and the translation of every ledger
 * failure into a GatewayError: contract codes by the table in errors.ts, driver stages by theirs.
 */
import type { AppendResult } from '../../chaincode/receipts.js';
import type { KeyRecord } from '../../chaincode/keys.js';
import type { ReceiptView } from '../../chaincode/queries.js';
import { fromContractMessage, GatewayError } from '../errors.js';
import { type Committed, type LedgerDriver, LedgerError } from './driver.js';
import { ReceiptJson, receiptPage, receiptPageOfParts } from './page.js';
import type { WalletIdentity } from './wallet.js';

export type { AppendResult, KeyRecord, ReceiptView };

export interface HistoryEntry {
  readonly txId: string;
  readonly timestamp: string;
  readonly isDelete: boolean;
  readonly value: unknown;
}

export interface ReceiptQuery {
  readonly by: 'source' | 'subject' | 'operation';
  readonly value: string;
  readonly from?: string;
  readonly to?: string;
  readonly order: 'asc' | 'desc';
  readonly pageSize: number;
  readonly bookmark: string;
}

/** Why a ledger call failed, as the gateway answers it. */
export function ledgerFailure(e: unknown): GatewayError {
  if (e instanceof GatewayError) return e;
  if (e instanceof LedgerError) {
    const details = {
      stage: e.stage,
      ...(e.txId ? { txId: e.txId } : {}),
      ...(e.reason ? { reason: e.reason } : {}),
    };
    if (e.stage === 'endorse') {
      const mapped = fromContractMessage(e.message);
      if (mapped)
        return new GatewayError(mapped.code, mapped.message, { ...mapped.details, ...details }, { cause: e });
      // No contract code: the network could not run it now (no endorsers, chaincode server down…).
      if (e.retryable) return unavailable(e, details);
      return new GatewayError('E_INTERNAL', 'the ledger refused the transaction', details, { cause: e });
    }
    if (e.stage === 'commit') {
      return new GatewayError(
        'E_COMMIT_CONFLICT',
        'the transaction was ordered but invalidated; retry',
        details,
        { cause: e },
      );
    }
    // 504, not 503: the transaction may well have committed, so the client must not take this for a
    // refusal; it may retry (an append is idempotent: a repeat answers 200 with the original ack).
    if (e.stage === 'commit-status') {
      return new GatewayError(
        'E_COMMIT_UNKNOWN',
        'whether the transaction committed is unknown; retry (appends are idempotent)',
        details,
        {
          cause: e,
        },
      );
    }
    if (e.reason === 'QUEUE_FULL')
      return new GatewayError('E_QUEUE_FULL', 'the ledger is busy; retry later', details, { cause: e });
    return unavailable(e, details);
  }
  return new GatewayError('E_INTERNAL', 'internal error', undefined, { cause: e });
}

const UNAVAILABLE_MESSAGES: Readonly<Record<string, string>> = {
  NO_ENDORSERS: 'not enough endorsing peers are reachable to satisfy the endorsement policy',
  ENDORSER_UNAVAILABLE: 'an endorsing peer is not reachable',
  PEER_UNAVAILABLE: 'the ledger peer is not reachable',
  PEER_BUSY: 'the ledger peer is overloaded',
  CHAINCODE_UNAVAILABLE: 'the contract server is not reachable',
  ORDERER_UNAVAILABLE: 'the ordering service is not reachable',
  ORDERER_QUORUM_LOST: 'too few ordering nodes are reachable to order transactions (BFT quorum)',
  TIMEOUT: 'the ledger did not answer in time',
};

function unavailable(e: LedgerError, details: Record<string, unknown>): GatewayError {
  const what = (e.reason && UNAVAILABLE_MESSAGES[e.reason]) ?? 'the ledger is not available';
  return new GatewayError('E_UNAVAILABLE', `${what}; retry later`, details, { cause: e });
}

/** What AuditLedger reports about its transactions (metrics.ts). */
export interface LedgerObserver {
  /** A transaction committed VALID, `seconds` after it was submitted. */
  committed(fcn: string, seconds: number): void;
  /**
   * A ledger failure that is not the contract's refusal (unreachable, no endorsers, invalidated…),
   * during a submit or an evaluate, and whether it is transient (worth a retry).
   */
  failed(stage: string, reason: string, during: 'submit' | 'evaluate', retryable: boolean): void;
}

/** The contract's own refusals are answers, not ledger failures. */
function isContractRefusal(e: LedgerError): boolean {
  return e.stage === 'endorse' && fromContractMessage(e.message) !== undefined;
}

const utf8 = new TextDecoder();
function parse<T>(text: string | Uint8Array): T {
  return JSON.parse(typeof text === 'string' ? text : utf8.decode(text)) as T;
}

export class AuditLedger {
  constructor(
    readonly driver: LedgerDriver,
    private readonly observer?: LedgerObserver,
  ) {}

  private observeFailure(e: unknown, during: 'submit' | 'evaluate'): void {
    if (e instanceof LedgerError && !isContractRefusal(e)) {
      this.observer?.failed(e.stage, e.reason ?? 'UNKNOWN', during, e.retryable);
    }
  }

  private async evaluate<T>(who: WalletIdentity, fcn: string, args: readonly string[]): Promise<T> {
    const bytes = await this.evaluateBytes(who, fcn, args);
    try {
      return parse<T>(bytes);
    } catch (e) {
      throw ledgerFailure(e);
    }
  }

  /** driver.evaluate, observed, its failures translated. */
  private async evaluateBytes(who: WalletIdentity, fcn: string, args: readonly string[]): Promise<Buffer> {
    const bytes = await this.observedEvaluate(() => this.driver.evaluate(who, fcn, args));
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** An evaluation by the driver, observed, its failures translated. */
  private async observedEvaluate<T>(evaluation: () => Promise<T>): Promise<T> {
    try {
      return await evaluation();
    } catch (e) {
      this.observeFailure(e, 'evaluate');
      throw ledgerFailure(e);
    }
  }

  /** driver.submit, timed and observed; raw driver errors propagate. */
  async submitRaw(who: WalletIdentity, fcn: string, args: readonly string[]): Promise<Committed> {
    const start = performance.now();
    try {
      const c = await this.driver.submit(who, fcn, args);
      this.observer?.committed(fcn, (performance.now() - start) / 1000);
      return c;
    } catch (e) {
      this.observeFailure(e, 'submit');
      throw e;
    }
  }

  private async submit<T>(
    who: WalletIdentity,
    fcn: string,
    args: readonly string[],
  ): Promise<{ value: T; txId: string; block: number }> {
    try {
      const c = await this.submitRaw(who, fcn, args);
      return { value: parse<T>(c.result), txId: c.txId, block: c.block };
    } catch (e) {
      throw ledgerFailure(e);
    }
  }

  /**
   * Appends receipts in one transaction (all or nothing, as the contract does). Raw driver errors
   * propagate so the caller can tell which failures concern the items.
   */
  async appendRaw(
    who: WalletIdentity,
    mus: readonly string[],
  ): Promise<{ results: AppendResult[]; txId: string; block: number }> {
    if (mus.length === 1) {
      const c = await this.submitRaw(who, 'appendReceipt', [mus[0]!]);
      return { results: [parse<AppendResult>(c.result)], txId: c.txId, block: c.block };
    }
    const c = await this.submitRaw(who, 'appendReceipts', [JSON.stringify(mus)]);
    return { results: parse<{ receipts: AppendResult[] }>(c.result).receipts, txId: c.txId, block: c.block };
  }

  /** Records a signed checkpoint note on the ledger (contract recordCheckpoint). */
  async recordCheckpoint(who: WalletIdentity, note: string): Promise<void> {
    await this.submitRaw(who, 'recordCheckpoint', [note]);
  }

  /** Records cosignature lines on a checkpoint (contract recordCosignatures, witnessing). */
  async recordCosignatures(who: WalletIdentity, note: string): Promise<void> {
    await this.submitRaw(who, 'recordCosignatures', [note]);
  }

  async blockOf(who: WalletIdentity, txId: string): Promise<number | undefined> {
    try {
      return await this.driver.blockOf(who, txId);
    } catch (e) {
      throw ledgerFailure(e);
    }
  }

  getReceipt(who: WalletIdentity, id: string): Promise<ReceiptView> {
    return this.evaluate(who, 'getReceipt', [id]);
  }

  /** One receipt as the contract answered it, ready for the API's JSON without parsing its `.mu`. */
  async getReceiptJson(who: WalletIdentity, id: string): Promise<ReceiptJson> {
    return ReceiptJson.of(await this.evaluateBytes(who, 'getReceipt', [id]));
  }

  /** A page as the contract answered it, ready for the API's JSON without parsing its `.mu` texts. */
  async queryReceiptJson(
    who: WalletIdentity,
    q: ReceiptQuery,
  ): Promise<{ receipts: ReceiptJson[]; bookmark: string }> {
    const args = [JSON.stringify(q)];
    // In parts where the driver has them (the embedded engine): no page-sized buffer is made.
    const evaluateParts = this.driver.evaluateParts?.bind(this.driver);
    if (evaluateParts) {
      return receiptPageOfParts(await this.observedEvaluate(() => evaluateParts(who, 'queryReceipts', args)));
    }
    return receiptPage(await this.evaluateBytes(who, 'queryReceipts', args));
  }

  registerKey(who: WalletIdentity, publicKey: string, label: string) {
    return this.submit<KeyRecord>(who, 'registerKey', [publicKey, label]);
  }

  rotateKey(who: WalletIdentity, keyId: string, publicKey: string) {
    return this.submit<{ retired: KeyRecord; registered: KeyRecord }>(who, 'rotateKey', [keyId, publicKey]);
  }

  revokeKey(who: WalletIdentity, keyId: string, reason: string) {
    return this.submit<KeyRecord>(who, 'revokeKey', [keyId, reason]);
  }

  getKey(who: WalletIdentity, keyId: string): Promise<KeyRecord> {
    return this.evaluate(who, 'getKey', [keyId]);
  }

  getKeyHistory(who: WalletIdentity, keyId: string): Promise<{ keyId: string; history: HistoryEntry[] }> {
    return this.evaluate(who, 'getKeyHistory', [keyId]);
  }
}
