/**
 * Transparency-log checkpoints (C2SP tlog-checkpoint in a C2SP signed note), recorded by the log
 * operator so the latest one per origin is on the ledger for everyone to compare against.
 *
 * The contract checks the note's shape and that the tree never shrinks or forks at a size it
 * already recorded; the operator's signatures and the consistency proof between checkpoints are
 * checked off-chain by the log builder and by verifiers (core), which hold the operator's keys.
 */
import type { Context } from 'fabric-contract-api';
import { ContractError } from './errors.js';
import { type Caller, type Party, party, requireRole } from './identity.js';
import type { TxInfo } from './keys.js';
import { getJson, type HistoryEntry, putJson, readHistory } from './state.js';

export const CHECKPOINT_PREFIX = 'checkpoint!';
/** Largest note accepted (signed-note asks for room for many post-quantum signatures). */
export const MAX_NOTE_BYTES = 256 * 1024;
export const MAX_ORIGIN_BYTES = 255;
const SIGNATURE_PREFIX = '\u2014 ';

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

function invalid(message: string): ContractError {
  return new ContractError('CHECKPOINT_INVALID', message);
}

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

/** The checkpoint body's first three lines (tlog-checkpoint) from a signed note. */
export function parseCheckpointNote(note: string): { origin: string; size: number; rootHash: string } {
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES)
    throw invalid(`the note is larger than ${MAX_NOTE_BYTES} bytes`);
  const split = note.indexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) {
    throw invalid('a signed note is a text, an empty line and signature lines, each ending in a newline');
  }
  const body = note
    .slice(0, split + 1)
    .split('\n')
    .slice(0, -1);
  const signatures = note.slice(split + 2, -1).split('\n');
  for (const line of signatures) {
    const parts = line.startsWith(SIGNATURE_PREFIX) ? line.slice(SIGNATURE_PREFIX.length).split(' ') : [];
    if (parts.length !== 2 || parts[0] === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(parts[1]!)) {
      throw invalid('every signature line is "— <key name> <base64 signature>"');
    }
  }
  const [origin, size, rootHash] = body;
  if (origin === undefined || size === undefined || rootHash === undefined) {
    throw invalid('a checkpoint body has an origin, a tree size and a root hash line');
  }
  if (body.some((l) => l === '' || CONTROL.test(l)))
    throw invalid('checkpoint body lines are non-empty text');
  checkOrigin(origin);
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw invalid('the tree size is a decimal number without leading zeros, at most 2^53 − 1');
  }
  const hash = Buffer.from(rootHash, 'base64');
  if (hash.length !== 32 || hash.toString('base64') !== rootHash) {
    throw invalid('the root hash is the standard base64 of 32 bytes');
  }
  return { origin, size: Number(size), rootHash };
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

const READERS = ['appender', 'auditor', 'admin', 'log-operator'] as const;

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
