/**
 * Transparency-log checkpoints (C2SP tlog-checkpoint in a C2SP signed note), recorded by the log
 * operator so the latest one per origin is on the ledger for everyone to compare against.
 *
 * The contract checks the note's shape and that the tree never shrinks or forks at a size it
 * already recorded; the operator's signatures and the consistency proof between checkpoints are
 * checked off-chain by the log builder and by verifiers (core), which hold the operator's keys.
 */
import type { Context } from 'fabric-contract-api';
import {
  formatNote,
  keyLabel,
  MAX_NOTE_BYTES,
  type NoteSignature,
  parseCheckpointBody,
  parseNote,
  toBase64,
} from '../core/index.js';
import { ContractError, fromCoreError } from './errors.js';
import { type Caller, type Party, party, requireRole } from './identity.js';
import type { TxInfo } from './keys.js';
import { getJson, type HistoryEntry, putJson, readHistory } from './state.js';

export const CHECKPOINT_PREFIX = 'checkpoint!';
export { MAX_NOTE_BYTES };
export const MAX_ORIGIN_BYTES = 255;

export type CheckpointRecord = {
  readonly origin: string;
  readonly size: number;
  /** Base64 of the 32-byte RFC 9162 root hash. */
  readonly rootHash: string;
  /** The whole signed note, as recorded. */
  readonly note: string;
  readonly recordedBy: Party;
  readonly txId: string;
  readonly recordedAt: string;
};

export const checkpointStateKey = (origin: string): string => `${CHECKPOINT_PREFIX}${origin}`;

export const COSIGNED_PREFIX = 'cosigned!';
/** One record per (origin, size): the fixed-width size first, so no origin can make two keys collide. */
export const cosignedStateKey = (origin: string, size: number): string =>
  `${COSIGNED_PREFIX}${String(size).padStart(16, '0')}!${origin}`;

/** A checkpoint with every organisation's signature lines collected so far (witnessing, docs/transparency.md §3). */
export type CosignedRecord = {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: string;
  /** The checkpoint body every line signs (the note text). */
  readonly body: string;
  /** The body with every signature line added so far, in the order they were added. */
  readonly note: string;
  /** Who added each line: `name+keyhash` and the submitting organisation, in line order. */
  readonly signers: readonly { readonly key: string; readonly mspId: string; readonly txId: string }[];
  readonly txId: string;
  readonly recordedAt: string;
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
const CONTROL = /[\u0000-\u001f\u007f]/;

export function checkOrigin(origin: string): string {
  if (origin.length === 0 || Buffer.byteLength(origin, 'utf8') > MAX_ORIGIN_BYTES || CONTROL.test(origin)) {
    throw new ContractError(
      'BAD_REQUEST',
      `an origin is 1–${MAX_ORIGIN_BYTES} bytes without control characters`,
    );
  }
  return origin;
}

/** The checkpoint a signed note carries (core: signed-note syntax, then the tlog-checkpoint body). */
export function parseCheckpointNote(note: string): { origin: string; size: number; rootHash: string } {
  try {
    const { origin, size, rootHash } = parseCheckpointBody(parseNote(note).text);
    return { origin, size, rootHash: toBase64(rootHash) };
  } catch (e) {
    throw fromCoreError('CHECKPOINT_INVALID', e);
  }
}

export async function recordCheckpoint(
  ctx: Context,
  tx: TxInfo,
  note: string,
): Promise<{ checkpoint: CheckpointRecord; recorded: boolean }> {
  requireRole(tx.caller, 'record checkpoints', 'log-operator');
  const cp = parseCheckpointNote(note);
  const key = checkpointStateKey(cp.origin);
  const last = await getJson<CheckpointRecord>(ctx, key);
  if (last) {
    if (cp.size < last.size) {
      throw new ContractError(
        'CHECKPOINT_REGRESSION',
        `origin ${cp.origin} is already at size ${last.size}; this checkpoint has size ${cp.size}`,
      );
    }
    if (cp.size === last.size && cp.rootHash !== last.rootHash) {
      throw new ContractError(
        'CHECKPOINT_CONFLICT',
        `origin ${cp.origin} has root ${last.rootHash} at size ${cp.size}; this checkpoint has ${cp.rootHash}`,
      );
    }
    // Same note again: nothing to write (a retried submission).
    if (note === last.note) return { checkpoint: last, recorded: false };
  }
  const checkpoint: CheckpointRecord = {
    ...cp,
    note,
    recordedBy: party(tx.caller),
    txId: tx.txId,
    recordedAt: tx.time,
  };
  await putJson(ctx, key, checkpoint);
  return { checkpoint, recorded: true };
}

/**
 * Adds the signature lines of `note` to the record of its checkpoint (origin, size): the first note of a
 * size sets the body, later ones must have the same body — a different body at a recorded size is a fork
 * (CHECKPOINT_CONFLICT), never merged. Lines already recorded stay byte for byte (a line whose key,
 * `name+keyhash`, is recorded is not replaced), new ones are appended and attributed to the caller's
 * organisation. Deterministic: the result depends only on the state and the note. The contract holds no
 * operator keys, so it checks the lines' form, not their signatures: verifiers do (core/log/checkpoint.ts).
 */
export async function recordCosignatures(
  ctx: Context,
  tx: TxInfo,
  note: string,
): Promise<{ checkpoint: CosignedRecord; added: string[] }> {
  requireRole(tx.caller, 'record checkpoint cosignatures', 'log-operator');
  const cp = parseCheckpointNote(note);
  const parsed = parseNote(note);
  const key = cosignedStateKey(cp.origin, cp.size);
  const last = await getJson<CosignedRecord>(ctx, key);
  if (last && last.body !== parsed.text) {
    throw new ContractError(
      'CHECKPOINT_CONFLICT',
      `origin ${cp.origin} has a different checkpoint recorded at size ${cp.size} (root ${last.rootHash}); this one has root ${cp.rootHash}`,
    );
  }
  const kept: NoteSignature[] = last ? [...parseNote(last.note).signatures] : [];
  const seen = new Set(kept.map((l) => keyLabel(l.name, l.keyHash)));
  const added: string[] = [];
  for (const line of parsed.signatures) {
    const label = keyLabel(line.name, line.keyHash);
    if (seen.has(label)) continue;
    seen.add(label);
    added.push(label);
    kept.push(line);
  }
  if (last && added.length === 0) return { checkpoint: last, added };
  let merged: string;
  try {
    merged = formatNote({ text: parsed.text, signatures: kept });
  } catch (e) {
    throw fromCoreError('CHECKPOINT_INVALID', e);
  }
  const by = party(tx.caller).mspId;
  const checkpoint: CosignedRecord = {
    ...cp,
    body: parsed.text,
    note: merged,
    signers: [...(last?.signers ?? []), ...added.map((k) => ({ key: k, mspId: by, txId: tx.txId }))],
    txId: tx.txId,
    recordedAt: tx.time,
  };
  await putJson(ctx, key, checkpoint);
  return { checkpoint, added };
}

const READERS = ['appender', 'auditor', 'admin', 'log-operator'] as const;

/** The checkpoint of `origin` at `size` with the cosignatures recorded for it. */
export async function getCosignedCheckpoint(
  ctx: Context,
  caller: Caller,
  origin: string,
  size: number,
): Promise<CosignedRecord> {
  requireRole(caller, 'read checkpoints', ...READERS);
  if (!Number.isSafeInteger(size) || size < 0)
    throw new ContractError('BAD_REQUEST', 'a checkpoint size is an integer in [0, 2^53)');
  const record = await getJson<CosignedRecord>(ctx, cosignedStateKey(checkOrigin(origin), size));
  if (!record) throw new ContractError('NOT_FOUND', `no cosigned checkpoint of ${origin} at size ${size}`);
  return record;
}

export async function getCheckpoint(ctx: Context, caller: Caller, origin: string): Promise<CheckpointRecord> {
  requireRole(caller, 'read checkpoints', ...READERS);
  const record = await getJson<CheckpointRecord>(ctx, checkpointStateKey(checkOrigin(origin)));
  if (!record) throw new ContractError('NOT_FOUND', `no checkpoint recorded for origin ${origin}`);
  return record;
}

export async function getCheckpointHistory(
  ctx: Context,
  caller: Caller,
  origin: string,
): Promise<{ origin: string; history: HistoryEntry[] }> {
  requireRole(caller, 'read checkpoints', ...READERS);
  const history = await readHistory(ctx, checkpointStateKey(checkOrigin(origin)));
  if (history.length === 0)
    throw new ContractError('NOT_FOUND', `no checkpoint recorded for origin ${origin}`);
  return { origin, history };
}
