/**
 * AuditContract: the ledger's rules (docs/contract.md). Each transaction is a thin shell: it reads
 * the caller and the transaction's id and time, calls the module that owns the rule, emits at
 * most one event (Fabric keeps only the last `setEvent` of a transaction) and returns sorted-key
 * JSON as a string, so every endorsing peer returns byte-identical payloads.
 */
import contractApi from 'fabric-contract-api';
import type { Context as ContractContext } from 'fabric-contract-api';
import { platformMlDsa } from '../core/crypto/backend.js';
import type { MlDsaBackend } from '../core/crypto/mldsa.js';
import type { ReceiptHandOff } from '../core/receipt/handoff.js';
import type { ByteParts } from './bytes.js';
import * as checkpoints from './checkpoints.js';
import { ContractError, toContractError } from './errors.js';
import { callerOf, requireRole } from './identity.js';
import { canonicalJson, type Json, jsonBytes } from './json.js';
import { keyLogEntry, LOG_ENTRY_FORMAT, receiptLogEntries } from './logentries.js';
import * as keys from './keys.js';
import * as queries from './queries.js';
import * as receipts from './receipts.js';
import { txTime } from './time.js';

// fabric-contract-api is CommonJS and assigns its decorators with Object.assign, which Node's ESM
// loader cannot see as named exports: take them from the default export. `Context` must be a
// value with that name so tsc's decorator metadata names it and the shim skips the ctx parameter.
// biome-ignore lint/correctness/noUnusedVariables: read by tsc's emitted design:paramtypes metadata.
const { Contract, Context, Info, Returns, Transaction } = contractApi;
type Context = ContractContext;

export const CONTRACT_NAME = 'AuditContract';

function txInfo(ctx: Context): keys.TxInfo {
  return { caller: callerOf(ctx), txId: ctx.stub.getTxID(), time: txTime(ctx) };
}

function emit(ctx: Context, name: string, payload: Json): void {
  ctx.stub.setEvent(name, jsonBytes(payload));
}

@Info({
  title: 'TORGO AuditContract',
  description: 'Key registry, signed .mu receipts, queries and checkpoints',
})
export class AuditContract extends Contract {
  /**
   * `mlDsa` checks every receipt signature. fabric-shim constructs contracts without arguments, so a
   * peer gets the platform's backend (`#crypto-backend`: OpenSSL where its Node has it, else noble);
   * a process that wants another (the embedded gateway's pooled, memoised one) uses `auditContracts`.
   */
  constructor(
    private readonly mlDsa: MlDsaBackend = platformMlDsa,
    /** The embedded gateway's parses of the receipts it pre-checked (core/receipt/handoff.ts); none on a peer. */
    private readonly handOff?: ReceiptHandOff,
  ) {
    super(CONTRACT_NAME);
  }

  /** Every failure leaves as a coded message (errors.ts); bugs become INTERNAL, never bare prose. */
  // biome-ignore lint/complexity/noBannedTypes: the base class declares `fn` as Function.
  override async aroundTransaction(ctx: Context, fn: Function, parameters: unknown): Promise<void> {
    try {
      return await super.aroundTransaction(ctx, fn, parameters);
    } catch (e) {
      throw toContractError(e);
    }
  }

  override async unknownTransaction(ctx: Context): Promise<void> {
    const { fcn } = ctx.stub.getFunctionAndParameters();
    throw new ContractError('BAD_REQUEST', `unknown transaction "${fcn}"`);
  }

  // ── key registry ──────────────────────────────────────────────────────────────────────────

  @Transaction()
  @Returns('string')
  async registerKey(ctx: Context, publicKey: string, label: string): Promise<string> {
    const tx = txInfo(ctx);
    const record = await keys.registerKey(ctx, tx, publicKey, label);
    emit(ctx, 'KeyRegistered', {
      keyId: record.keyId,
      owner: record.owner,
      txId: tx.txId,
      logFormat: LOG_ENTRY_FORMAT,
      entries: [keyLogEntry(record, 'registered', tx)],
    });
    return canonicalJson(record);
  }

  @Transaction()
  @Returns('string')
  async rotateKey(ctx: Context, oldKeyId: string, newPublicKey: string): Promise<string> {
    const tx = txInfo(ctx);
    const result = await keys.rotateKey(ctx, tx, oldKeyId, newPublicKey);
    emit(ctx, 'KeyRotated', {
      oldKeyId: result.retired.keyId,
      newKeyId: result.registered.keyId,
      owner: result.registered.owner,
      txId: tx.txId,
      logFormat: LOG_ENTRY_FORMAT,
      entries: [keyLogEntry(result.retired, 'retired', tx), keyLogEntry(result.registered, 'registered', tx)],
    });
    return canonicalJson(result);
  }

  @Transaction()
  @Returns('string')
  async revokeKey(ctx: Context, keyId: string, reason: string): Promise<string> {
    const tx = txInfo(ctx);
    const record = await keys.revokeKey(ctx, tx, keyId, reason);
    emit(ctx, 'KeyRevoked', {
      keyId,
      revokedAt: tx.time,
      reason,
      revokedBy: record.revokedBy ?? null,
      txId: tx.txId,
      logFormat: LOG_ENTRY_FORMAT,
      entries: [keyLogEntry(record, 'revoked', tx)],
    });
    return canonicalJson(record);
  }

  @Transaction(false)
  @Returns('string')
  async getKey(ctx: Context, keyId: string): Promise<string> {
    return canonicalJson(await keys.getKey(ctx, callerOf(ctx), keyId));
  }

  @Transaction(false)
  @Returns('string')
  async getKeyHistory(ctx: Context, keyId: string): Promise<string> {
    return canonicalJson(await keys.getKeyHistory(ctx, callerOf(ctx), keyId));
  }

  // ── receipts ──────────────────────────────────────────────────────────────────────────────

  @Transaction()
  @Returns('string')
  async appendReceipt(ctx: Context, muText: string): Promise<string> {
    const tx = txInfo(ctx);
    const [result] = await receipts.appendReceipts(ctx, tx, [muText], false, this.mlDsa, this.handOff);
    emitAppended(ctx, tx.txId, [result!]);
    return canonicalJson(result!);
  }

  @Transaction()
  @Returns('string')
  async appendReceipts(ctx: Context, muTextsJson: string): Promise<string> {
    const tx = txInfo(ctx);
    // Role first: a caller who may not append learns nothing from batch validation.
    requireRole(tx.caller, 'append receipts', 'appender');
    const results = await receipts.appendReceipts(
      ctx,
      tx,
      receipts.parseBatch(muTextsJson),
      true,
      this.mlDsa,
      this.handOff,
    );
    emitAppended(ctx, tx.txId, results);
    return canonicalJson({ receipts: results });
  }

  @Transaction(false)
  @Returns('string')
  async getReceipt(ctx: Context, id: string): Promise<Uint8Array> {
    return queries.getReceipt(ctx, callerOf(ctx), id);
  }

  @Transaction(false)
  @Returns('string')
  async queryReceipts(ctx: Context, queryJson: string): Promise<ByteParts> {
    return queries.queryReceipts(ctx, callerOf(ctx), queryJson);
  }

  // ── checkpoints ───────────────────────────────────────────────────────────────────────────

  @Transaction()
  @Returns('string')
  async recordCheckpoint(ctx: Context, noteText: string): Promise<string> {
    const tx = txInfo(ctx);
    const { checkpoint, recorded } = await checkpoints.recordCheckpoint(ctx, tx, noteText);
    if (recorded) {
      const { origin, size, rootHash, note } = checkpoint;
      // The note rides along so every organisation's witness, following the blocks, can cosign it.
      emit(ctx, 'CheckpointRecorded', { origin, size, rootHash, note, txId: tx.txId });
    }
    return canonicalJson({ checkpoint, recorded });
  }

  /** Adds another organisation's cosignature lines to the recorded checkpoint at that size (witnessing). */
  @Transaction()
  @Returns('string')
  async recordCosignatures(ctx: Context, noteText: string): Promise<string> {
    const tx = txInfo(ctx);
    const { checkpoint, added } = await checkpoints.recordCosignatures(ctx, tx, noteText);
    if (added.length > 0) {
      const { origin, size, rootHash, note } = checkpoint;
      emit(ctx, 'CheckpointCosigned', { origin, size, rootHash, note, added, txId: tx.txId });
    }
    return canonicalJson({ checkpoint, added });
  }

  @Transaction(false)
  @Returns('string')
  async getCosignedCheckpoint(ctx: Context, origin: string, size: string): Promise<string> {
    const n = /^(0|[1-9][0-9]{0,15})$/.test(size) ? Number(size) : Number.NaN;
    return canonicalJson(await checkpoints.getCosignedCheckpoint(ctx, callerOf(ctx), origin, n));
  }

  @Transaction(false)
  @Returns('string')
  async getCheckpoint(ctx: Context, origin: string): Promise<string> {
    return canonicalJson(await checkpoints.getCheckpoint(ctx, callerOf(ctx), origin));
  }

  @Transaction(false)
  @Returns('string')
  async getCheckpointHistory(ctx: Context, origin: string): Promise<string> {
    return canonicalJson(await checkpoints.getCheckpointHistory(ctx, callerOf(ctx), origin));
  }

  // ── about ─────────────────────────────────────────────────────────────────────────────────

  /** The contract's limits, for the gateway to size batches and pages. Needs no role. */
  @Transaction(false)
  @Returns('string')
  async getInfo(_ctx: Context): Promise<string> {
    return canonicalJson({
      contract: CONTRACT_NAME,
      receiptFormats: ['torgo.receipt/1'],
      limits: {
        maxBatchItems: receipts.MAX_BATCH_ITEMS,
        maxBatchBytes: receipts.MAX_BATCH_BYTES,
        maxPageSize: queries.MAX_PAGE_SIZE,
        maxPageBytes: queries.MAX_PAGE_BYTES,
        maxCheckpointNoteBytes: checkpoints.MAX_NOTE_BYTES,
      },
    });
  }
}

/** One event per transaction that wrote receipts: the new ones, in append order. */
function emitAppended(ctx: Context, txId: string, results: readonly receipts.AppendResult[]): void {
  const appended = results.filter((r) => r.status === 'appended');
  if (appended.length === 0) return;
  emit(ctx, 'ReceiptsAppended', {
    ids: appended.map((r) => r.id),
    receipts: appended.map((r) => ({ id: r.id, digest: r.digest })),
    txId,
    logFormat: LOG_ENTRY_FORMAT,
    entries: receiptLogEntries(appended),
  });
}

/** What a chaincode package's main module exports: the contract, on the platform's ML-DSA backend. */
export const contracts = [AuditContract];

/**
 * The contract class bound to `mlDsa`, as fabric-shim's dispatcher wants it: constructible without
 * arguments. Same name, transactions and info as AuditContract (the shim reads them by class name).
 */
export function auditContracts(mlDsa: MlDsaBackend, handOff?: ReceiptHandOff): [typeof AuditContract] {
  const bound = class extends AuditContract {
    constructor() {
      super(mlDsa, handOff);
    }
  };
  Object.defineProperty(bound, 'name', { value: AuditContract.name });
  return [bound];
}
