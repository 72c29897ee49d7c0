/**
 * The key registry: signers' ML-DSA public keys, each bound to the Fabric identity that registered
 * it (its owner). A key id is derived from the key (core: SHA-256 of its SubjectPublicKeyInfo),
 * never chosen, so a registration cannot squat on someone else's id.
 *
 * Lifecycle: active → retired (rotated: a successor took over; retiredAt = the rotation's tx
 * time) and active|retired → revoked (compromise or withdrawal; revokedAt = the revocation's tx
 * time). Only active keys sign new receipts. Receipts appended earlier keep their status; queries
 * flag those whose signer was revoked since.
 */
import type { Context } from 'fabric-contract-api';
import { importPublicKey, KEY_ID_PATTERN, type PublicKey, publicKeyToPem } from '../core/index.js';
import { ContractError, fromCoreError } from './errors.js';
import { type Caller, forbidden, hasRole, type Party, party, requireRole, sameParty } from './identity.js';
import { getJson, type HistoryEntry, putJson, readHistory } from './state.js';
import { checkText } from './text.js';

export const KEY_PREFIX = 'key!';
export const MAX_LABEL_CHARS = 128;
export const MAX_REASON_CHARS = 256;

export type KeyStatus = 'active' | 'retired' | 'revoked';

export type KeyRecord = {
  readonly keyId: string;
  readonly alg: string;
  /** SubjectPublicKeyInfo PEM, whatever form it was registered in. */
  readonly publicKey: string;
  /** '' when none was given. */
  readonly label: string;
  readonly owner: Party;
  readonly status: KeyStatus;
  readonly registeredAt: string;
  readonly registeredTxId: string;
  /** The key this one replaced (rotateKey). */
  readonly predecessor?: string;
  readonly retiredAt?: string;
  /** The key that replaced this one (rotateKey). */
  readonly successor?: string;
  readonly revokedAt?: string;
  readonly revocationReason?: string;
  readonly revokedBy?: Party;
};

export const keyStateKey = (keyId: string): string => `${KEY_PREFIX}${keyId}`;

export function checkKeyId(keyId: string, what = 'key id'): string {
  if (!KEY_ID_PATTERN.test(keyId))
    throw new ContractError('BAD_REQUEST', `${what} must be 64 lower-case hex characters`);
  return keyId;
}

export async function findKey(ctx: Context, keyId: string): Promise<KeyRecord | undefined> {
  return getJson<KeyRecord>(ctx, keyStateKey(keyId));
}

async function existingKey(ctx: Context, keyId: string): Promise<KeyRecord> {
  const record = await findKey(ctx, checkKeyId(keyId));
  if (!record) throw new ContractError('NOT_FOUND', `key ${keyId} is not registered`);
  return record;
}

function parseKey(text: string): PublicKey {
  try {
    return importPublicKey(text);
  } catch (e) {
    throw fromCoreError('KEY_INVALID', e);
  }
}

async function checkUnregistered(ctx: Context, keyId: string): Promise<void> {
  if (await findKey(ctx, keyId)) throw new ContractError('KEY_EXISTS', `key ${keyId} is already registered`);
}

function newRecord(key: PublicKey, label: string, owner: Party, at: string, txId: string): KeyRecord {
  return {
    keyId: key.keyId,
    alg: key.alg,
    publicKey: publicKeyToPem(key),
    label,
    owner: party(owner),
    status: 'active',
    registeredAt: at,
    registeredTxId: txId,
  };
}

export interface TxInfo {
  readonly caller: Caller;
  readonly txId: string;
  readonly time: string;
}

export async function registerKey(
  ctx: Context,
  tx: TxInfo,
  publicKey: string,
  label: string,
): Promise<KeyRecord> {
  requireRole(tx.caller, 'register keys', 'appender');
  const key = parseKey(publicKey);
  checkText(label, 'label', MAX_LABEL_CHARS, { required: false });
  await checkUnregistered(ctx, key.keyId);
  const record = newRecord(key, label, tx.caller, tx.time, tx.txId);
  await putJson(ctx, keyStateKey(key.keyId), record);
  return record;
}

export async function rotateKey(
  ctx: Context,
  tx: TxInfo,
  oldKeyId: string,
  newPublicKey: string,
): Promise<{ retired: KeyRecord; registered: KeyRecord }> {
  requireRole(tx.caller, 'rotate keys', 'appender');
  const old = await existingKey(ctx, oldKeyId);
  if (!sameParty(old.owner, tx.caller))
    throw forbidden(tx.caller, `rotate key ${oldKeyId}, which it does not own`);
  checkUsable(old);
  const key = parseKey(newPublicKey);
  await checkUnregistered(ctx, key.keyId);
  const retired: KeyRecord = { ...old, status: 'retired', retiredAt: tx.time, successor: key.keyId };
  const registered: KeyRecord = {
    ...newRecord(key, old.label, tx.caller, tx.time, tx.txId),
    predecessor: old.keyId,
  };
  await putJson(ctx, keyStateKey(old.keyId), retired);
  await putJson(ctx, keyStateKey(key.keyId), registered);
  return { retired, registered };
}

export async function revokeKey(ctx: Context, tx: TxInfo, keyId: string, reason: string): Promise<KeyRecord> {
  requireRole(tx.caller, 'revoke keys', 'appender', 'admin');
  checkText(reason, 'reason', MAX_REASON_CHARS, { required: true });
  const record = await existingKey(ctx, keyId);
  if (!hasRole(tx.caller, 'admin') && !sameParty(record.owner, tx.caller)) {
    throw forbidden(tx.caller, `revoke key ${keyId}, which it does not own`);
  }
  if (record.status === 'revoked') {
    throw new ContractError('KEY_REVOKED', `key ${keyId} was already revoked at ${record.revokedAt}`);
  }
  const revoked: KeyRecord = {
    ...record,
    status: 'revoked',
    revokedAt: tx.time,
    revocationReason: reason,
    revokedBy: party(tx.caller),
  };
  await putJson(ctx, keyStateKey(keyId), revoked);
  return revoked;
}

export async function getKey(ctx: Context, caller: Caller, keyId: string): Promise<KeyRecord> {
  requireRole(caller, 'read the key registry', 'appender', 'auditor', 'admin', 'log-operator');
  return existingKey(ctx, keyId);
}

export async function getKeyHistory(
  ctx: Context,
  caller: Caller,
  keyId: string,
): Promise<{ keyId: string; history: HistoryEntry[] }> {
  requireRole(caller, 'read the key registry', 'appender', 'auditor', 'admin', 'log-operator');
  const history = await readHistory(ctx, keyStateKey(checkKeyId(keyId)));
  if (history.length === 0) throw new ContractError('NOT_FOUND', `key ${keyId} has no history`);
  return { keyId, history };
}

/** KEY_REVOKED or KEY_NOT_ACTIVE unless the key may sign (or be rotated) now. */
export function checkUsable(record: KeyRecord): void {
  if (record.status === 'revoked') {
    throw new ContractError('KEY_REVOKED', `key ${record.keyId} was revoked at ${record.revokedAt}`);
  }
  if (record.status !== 'active') {
    throw new ContractError('KEY_NOT_ACTIVE', `key ${record.keyId} was retired at ${record.retiredAt}`);
  }
}
