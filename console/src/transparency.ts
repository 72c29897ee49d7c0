/**
 * The transparency endpoints (docs/transparency.md, issue 5): the latest checkpoint, inclusion
 * proofs, checkpoint history and consistency proofs — read and, where the console can, checked
 * with core's own proof and checkpoint code. Every endpoint may be missing on an older gateway;
 * callers show that as "not available" rather than as an error.
 */
import {
  type Checkpoint,
  emptyRoot,
  entryLeafHash,
  fromBase64,
  importPublicKey,
  parseCheckpointBody,
  parseNote,
  type ReceiptEntry,
  toHex,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '../../core/index.js';
import { getJson, type ReceiptResource, request } from './api.js';

const OPERATOR_KEY = 'torgo.console.operatorKey';

/** An operator public key (PEM) the auditor chose to trust for checkpoint signatures, this session. */
export const operatorKey = {
  get(): string | undefined {
    return sessionStorage.getItem(OPERATOR_KEY) ?? undefined;
  },
  set(pem: string | undefined): void {
    if (pem) {
      importPublicKey(pem); // refuse what is not a key before keeping it
      sessionStorage.setItem(OPERATOR_KEY, pem);
    } else sessionStorage.removeItem(OPERATOR_KEY);
  },
};

export interface ReadCheckpoint {
  readonly note: string;
  readonly checkpoint: Checkpoint;
  /** Key names on the note's signature lines. */
  readonly signers: readonly string[];
  /** `verified` with the trusted operator key, `unchecked` without one, else why it failed. */
  readonly signature:
    | { status: 'verified'; signedBy: readonly string[] }
    | { status: 'unchecked' }
    | { status: 'failed'; message: string };
  readonly recordedAt?: string;
  readonly txId?: string;
}

/** Reads a note (C2SP signed note) and checks it with the trusted operator key if there is one. */
export function readCheckpoint(
  note: string,
  extra: { recordedAt?: string; txId?: string } = {},
): ReadCheckpoint {
  const parsed = parseNote(note);
  const checkpoint = parseCheckpointBody(parsed.text);
  const pem = operatorKey.get();
  let signature: ReadCheckpoint['signature'] = { status: 'unchecked' };
  if (pem) {
    try {
      const v = verifyCheckpoint(note, {
        origin: checkpoint.origin,
        trusted: [{ name: checkpoint.origin, key: importPublicKey(pem) }],
        threshold: 1,
      });
      signature = { status: 'verified', signedBy: v.signedBy };
    } catch (e) {
      signature = {
        status: 'failed',
        message: `${(e as { code?: string }).code ?? ''} ${(e as Error).message}`.trim(),
      };
    }
  }
  return { note, checkpoint, signers: parsed.signatures.map((s) => s.name), signature, ...extra };
}

function noteOf(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (body && typeof body === 'object') {
    const o = body as { note?: unknown; checkpoint?: unknown };
    if (typeof o.note === 'string') return o.note;
    if (o.checkpoint !== undefined) return noteOf(o.checkpoint);
  }
  return undefined;
}

/** GET /v1/checkpoint: the signed note as text, or JSON holding `note`. */
export async function latestCheckpoint(): Promise<ReadCheckpoint> {
  const res = await request('/v1/checkpoint', undefined, { accept: 'text/plain, application/json' });
  const type = res.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') ? await res.json() : await res.text();
  const note = noteOf(body);
  if (!note) throw new Error('the gateway answered /v1/checkpoint without a signed note');
  return readCheckpoint(note);
}

interface HistoryEntry {
  txId?: string;
  timestamp?: string;
  recordedAt?: string;
  note?: string;
  value?: { note?: string; txId?: string; recordedAt?: string } | null;
}

/** GET /v1/checkpoints: the history recorded on the ledger (contract getCheckpointHistory), newest first. */
export async function checkpointHistory(): Promise<ReadCheckpoint[]> {
  const body = await getJson<{ history?: HistoryEntry[] } | HistoryEntry[]>('/v1/checkpoints');
  const entries = Array.isArray(body) ? body : (body.history ?? []);
  const out: ReadCheckpoint[] = [];
  for (const e of entries) {
    const note = e.note ?? e.value?.note;
    if (!note) continue;
    const recordedAt = e.recordedAt ?? e.value?.recordedAt ?? e.timestamp;
    const txId = e.txId ?? e.value?.txId;
    out.push(readCheckpoint(note, { ...(recordedAt ? { recordedAt } : {}), ...(txId ? { txId } : {}) }));
  }
  return out;
}

function hashesOf(body: Record<string, unknown>, ...names: string[]): Uint8Array[] {
  for (const n of names) {
    const v = body[n];
    if (Array.isArray(v)) return v.map((x, i) => fromBase64(String(x), 'E_PROOF_INVALID', `proof hash ${i}`));
  }
  throw new Error(`the answer has no proof (${names.join(' or ')})`);
}

/** GET /v1/log/consistency?from=&to=, checked against the two checkpoints. */
export async function checkConsistency(older: Checkpoint, newer: Checkpoint): Promise<void> {
  const body = await getJson<Record<string, unknown>>('/v1/log/consistency', {
    from: older.size,
    to: newer.size,
  });
  const proof = hashesOf(body, 'proof', 'hashes', 'consistency');
  verifyConsistency(
    older.size,
    newer.size,
    proof,
    older.size === 0 ? emptyRoot() : older.rootHash,
    newer.rootHash,
  );
}

export interface Inclusion {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly rootHex: string;
  readonly against: ReadCheckpoint;
}

/** The log entry of a receipt as the log builder writes it (docs/bundle-format.md §2). */
export function receiptEntry(r: ReceiptResource): ReceiptEntry {
  return {
    kind: 'receipt',
    id: r.id,
    digest: r.hash,
    signers: [...r.signerKeyIds],
    submitter: { id: r.submitter.id, mspId: r.submitter.mspId },
    txId: r.txId,
    block: r.block ?? 0,
    committedAt: r.committedAt,
  };
}

/**
 * GET /v1/receipts/{id}/proof?size=N against the latest checkpoint: the proof must lead from the
 * receipt's log entry (given in the answer, or rebuilt from the receipt's record) to its root.
 */
export async function checkInclusion(r: ReceiptResource, against: ReadCheckpoint): Promise<Inclusion> {
  const { size, rootHash } = against.checkpoint;
  const body = await getJson<Record<string, unknown>>(`/v1/receipts/${encodeURIComponent(r.id)}/proof`, {
    size,
  });
  const leafIndex = Number(body['leafIndex'] ?? body['index']);
  const treeSize = Number(body['treeSize'] ?? body['size'] ?? size);
  const proof = hashesOf(body, 'proof', 'hashes', 'inclusion');
  const entry = (body['entry'] as ReceiptEntry | undefined) ?? receiptEntry(r);
  if (entry.id !== r.id || entry.digest !== r.hash)
    throw new Error('the proof is for another entry than this receipt');
  if (treeSize !== size) throw new Error(`the proof is for a tree of size ${treeSize}, not ${size}`);
  verifyInclusion(leafIndex, treeSize, entryLeafHash(entry), proof, rootHash);
  return { leafIndex, treeSize, rootHex: toHex(rootHash), against };
}
