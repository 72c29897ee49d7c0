/**
 * AuditContract's transactions with types, over either driver, and the translation of every ledger
 * failure into a GatewayError: contract codes by the table in errors.ts, driver stages by theirs.
 */
import type { AppendResult } from '../../chaincode/receipts.js';
import type { KeyRecord } from '../../chaincode/keys.js';
import type { ReceiptView } from '../../chaincode/queries.js';
import { fromContractMessage, GatewayError } from '../errors.js';
import { type LedgerDriver, LedgerError } from './driver.js';
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
    return new GatewayError('E_UNAVAILABLE', 'the ledger is not available', details, { cause: e });
  }
  return new GatewayError('E_INTERNAL', 'internal error', undefined, { cause: e });
}

function parse<T>(text: string): T {
  return JSON.parse(text) as T;
}

export class AuditLedger {
  constructor(readonly driver: LedgerDriver) {}

  private async evaluate<T>(who: WalletIdentity, fcn: string, args: readonly string[]): Promise<T> {
    try {
      return parse<T>(await this.driver.evaluate(who, fcn, args));
    } catch (e) {
      throw ledgerFailure(e);
    }
  }

  private async submit<T>(
    who: WalletIdentity,
    fcn: string,
    args: readonly string[],
  ): Promise<{ value: T; txId: string; block: number }> {
    try {
      const c = await this.driver.submit(who, fcn, args);
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
      const c = await this.driver.submit(who, 'appendReceipt', [mus[0]!]);
      return { results: [parse<AppendResult>(c.result)], txId: c.txId, block: c.block };
    }
    const c = await this.driver.submit(who, 'appendReceipts', [JSON.stringify(mus)]);
    return { results: parse<{ receipts: AppendResult[] }>(c.result).receipts, txId: c.txId, block: c.block };
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

  queryReceipts(
    who: WalletIdentity,
    q: ReceiptQuery,
  ): Promise<{ receipts: ReceiptView[]; bookmark: string }> {
    return this.evaluate(who, 'queryReceipts', [JSON.stringify(q)]);
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
