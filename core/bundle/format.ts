/** Bundle lines (docs/bundle-format.md §1): strict shapes for attacker-controlled JSON. */
import { CoreError } from '../errors.js';
import { fromBase64 } from '../encoding.js';
import { HASH_SIZE } from '../log/merkle.js';
import type { Identity, KeyEntry, ReceiptEntry } from './entries.js';
import type { KeyHeadProof } from './keyheads.js';

/** The format this version writes: v2 ends with a signed export statement (statement.ts). */
export const BUNDLE_FORMAT = 'torgo.bundle/2';
/** The first format, still read: it ends with an unsigned manifest. */
export const BUNDLE_FORMAT_V1 = 'torgo.bundle/1';
export type BundleFormat = typeof BUNDLE_FORMAT | typeof BUNDLE_FORMAT_V1;
/** Longest bundle line accepted (a receipt is ≤ 96 KiB; its JSON escaping and proof fit well within). */
export const MAX_BUNDLE_LINE_BYTES = 1024 * 1024;

export interface HeaderLine {
  readonly type: 'header';
  readonly format: BundleFormat;
  readonly createdAt: string;
  readonly origin: string;
  readonly filters: Readonly<Record<string, string>>;
  readonly generator: string;
}
export interface CheckpointLine {
  readonly type: 'checkpoint';
  readonly note: string;
}
export interface KeyLine {
  readonly type: 'key';
  readonly leafIndex: number;
  readonly proof: readonly string[];
  readonly entry: KeyEntry;
}
export interface ReceiptLine {
  readonly type: 'receipt';
  readonly leafIndex: number;
  readonly proof: readonly string[];
  readonly entry: ReceiptEntry;
  readonly mu: string;
}
/** What the whole-bundle checks see of a receipt line (BundleCheck.receipt): its place and log entry. */
export type ReceiptHead = Pick<ReceiptLine, 'type' | 'leafIndex' | 'entry'>;
/**
 * A chained receipt entry that completes a chain segment without being a selected receipt: the
 * boundary entries before and after the window, or entries of the chain the other filters leave out
 * (docs/bundle-format.md §6).
 */
export interface LinkLine {
  readonly type: 'link';
  readonly leafIndex: number;
  readonly proof: readonly string[];
  readonly entry: ReceiptEntry;
}
export type ChainBy = 'source' | 'subject';
/** The exporter's statement of the chain heads at the checkpoint's size (§6). */
export interface CompletenessLine {
  readonly type: 'completeness';
  /** The chain the receipts were selected along, or null when no chain covers the filters. */
  readonly chain: { readonly by: ChainBy; readonly value: string } | null;
  /** Leaf index of that chain's newest entry in the checkpoint's tree (null: none). */
  readonly head: number | null;
  /** Leaf index of each bundled key's newest key entry in the checkpoint's tree. */
  readonly keyHeads: Readonly<Record<string, number>>;
  /** Each head's proof in the checkpoint's key-heads commitment (core/bundle/keyheads.ts), when it has one. */
  readonly keyHeadProofs?: Readonly<Record<string, KeyHeadProof>>;
}
/** v1's last line: anyone can recompute it, so it proves nothing about who exported the bundle. */
export interface ManifestLine {
  readonly type: 'manifest';
  readonly counts: { readonly keys: number; readonly receipts: number };
  readonly digest: string;
}
/** v2's last line: the exporter's signed note over everything before it (statement.ts). */
export interface StatementLine {
  readonly type: 'statement';
  readonly note: string;
}
export type BundleLine =
  | HeaderLine
  | CheckpointLine
  | KeyLine
  | ReceiptLine
  | LinkLine
  | CompletenessLine
  | ManifestLine
  | StatementLine;

/** A syntax error at a physical line of the bundle (1-based), when known. */
function syntax(message: string, line?: number, details?: Record<string, unknown>): CoreError {
  return new CoreError('E_BUNDLE_SYNTAX', message, { ...details, ...(line ? { line } : {}) });
}

class Shape {
  constructor(
    private readonly o: Record<string, unknown>,
    private readonly where: string,
    private readonly line?: number,
  ) {}
  private fail(field: string, want: string): never {
    throw syntax(`${this.where}: "${field}" must be ${want}`, this.line, { field });
  }
  only(...fields: string[]): this {
    const extra = Object.keys(this.o).filter((k) => !fields.includes(k));
    if (extra.length) throw syntax(`${this.where}: unexpected field(s) ${extra.join(', ')}`, this.line);
    return this;
  }
  str(f: string): string {
    const v = this.o[f];
    if (typeof v !== 'string') this.fail(f, 'a string');
    return v;
  }
  strOrNull(f: string): string | null {
    const v = this.o[f];
    if (v !== null && typeof v !== 'string') this.fail(f, 'a string or null');
    return v;
  }
  nat(f: string): number {
    const v = this.o[f];
    if (!Number.isSafeInteger(v) || (v as number) < 0) this.fail(f, 'a non-negative integer');
    return v as number;
  }
  strings(f: string): string[] {
    const v = this.o[f];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) this.fail(f, 'an array of strings');
    return v;
  }
  has(f: string): boolean {
    return Object.hasOwn(this.o, f);
  }
  isNull(f: string): boolean {
    return this.o[f] === null;
  }
  natOrNull(f: string): number | null {
    return this.o[f] === null ? null : this.nat(f);
  }
  obj(f: string): Record<string, unknown> {
    const v = this.o[f];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(f, 'an object');
    return v as Record<string, unknown>;
  }
}

function identity(o: Record<string, unknown>, where: string, line?: number): Identity {
  const s = new Shape(o, where, line).only('mspId', 'id');
  return { mspId: s.str('mspId'), id: s.str('id') };
}

function receiptEntry(o: Record<string, unknown>, where: string, line?: number): ReceiptEntry {
  const s = new Shape(o, where, line).only(
    'kind',
    'id',
    'digest',
    'signers',
    'submitter',
    'txId',
    'block',
    'committedAt',
    'source',
    'subject',
    'prevSource',
    'prevSubject',
  );
  if (s.str('kind') !== 'receipt') throw syntax(`${where}: kind must be "receipt"`, line);
  // Format 2 fields come in pairs, pointers only with the names (§6): a half-chained entry is malformed.
  if (s.has('source') !== s.has('subject') || s.has('prevSource') !== s.has('prevSubject')) {
    throw syntax(`${where}: source/subject and prevSource/prevSubject come in pairs`, line);
  }
  if (s.has('prevSource') && !s.has('source')) {
    throw syntax(`${where}: chain pointers without source and subject`, line);
  }
  return {
    kind: 'receipt',
    id: s.str('id'),
    digest: s.str('digest'),
    signers: s.strings('signers'),
    submitter: identity(s.obj('submitter'), `${where} submitter`, line),
    txId: s.str('txId'),
    block: s.nat('block'),
    committedAt: s.str('committedAt'),
    ...(s.has('source') ? { source: s.str('source'), subject: s.str('subject') } : {}),
    ...(s.has('prevSource')
      ? { prevSource: s.natOrNull('prevSource'), prevSubject: s.natOrNull('prevSubject') }
      : {}),
  };
}

function keyEntry(o: Record<string, unknown>, where: string, line?: number): KeyEntry {
  const s = new Shape(o, where, line).only(
    'kind',
    'event',
    'keyId',
    'alg',
    'publicKey',
    'owner',
    'validFrom',
    'retiredAt',
    'revokedAt',
    'revocationReason',
    'txId',
    'block',
    'committedAt',
    'prevKey',
  );
  const event = s.str('event');
  if (s.str('kind') !== 'key' || !['registered', 'retired', 'revoked'].includes(event)) {
    throw syntax(`${where}: kind must be "key" with event registered, retired or revoked`, line);
  }
  return {
    kind: 'key',
    event: event as KeyEntry['event'],
    keyId: s.str('keyId'),
    alg: s.str('alg'),
    publicKey: s.str('publicKey'),
    owner: identity(s.obj('owner'), `${where} owner`, line),
    validFrom: s.str('validFrom'),
    retiredAt: s.strOrNull('retiredAt'),
    revokedAt: s.strOrNull('revokedAt'),
    revocationReason: s.strOrNull('revocationReason'),
    txId: s.str('txId'),
    block: s.nat('block'),
    committedAt: s.str('committedAt'),
    ...(s.has('prevKey') ? { prevKey: s.natOrNull('prevKey') } : {}),
  };
}

function completenessLine(s: Shape, where: string, line: number): CompletenessLine {
  s.only('type', 'chain', 'head', 'keyHeads', 'keyHeadProofs');
  let chain: CompletenessLine['chain'] = null;
  if (!s.isNull('chain')) {
    const c = new Shape(s.obj('chain'), `${where} chain`, line).only('by', 'value');
    const by = c.str('by');
    if (by !== 'source' && by !== 'subject')
      throw syntax(`${where}: chain "by" must be source or subject`, line);
    chain = { by, value: c.str('value') };
  }
  const heads = s.obj('keyHeads');
  const keyHeads: Record<string, number> = {};
  const h = new Shape(heads, `${where} keyHeads`, line);
  for (const keyId of Object.keys(heads)) keyHeads[keyId] = h.nat(keyId);
  let keyHeadProofs: Record<string, KeyHeadProof> | undefined;
  if (s.has('keyHeadProofs')) {
    keyHeadProofs = {};
    const proofs = s.obj('keyHeadProofs');
    const ps = new Shape(proofs, `${where} keyHeadProofs`, line);
    for (const keyId of Object.keys(proofs)) {
      const p = new Shape(ps.obj(keyId), `${where} keyHeadProofs ${keyId}`, line).only('index', 'proof');
      keyHeadProofs[keyId] = { index: p.nat('index'), proof: p.strings('proof') };
    }
  }
  return {
    type: 'completeness',
    chain,
    head: s.natOrNull('head'),
    keyHeads,
    ...(keyHeadProofs ? { keyHeadProofs } : {}),
  };
}

/**
 * Parses one bundle line (without its LF; `lineNo` is its 1-based physical line number).
 * Attacker-controlled: every failure is E_BUNDLE_SYNTAX with `details.line`. Only the shape is
 * checked here; what the values mean is the verifier's steps' business.
 */
export function parseBundleLine(text: string, lineNo: number): BundleLine {
  const where = `line ${lineNo}`;
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw syntax(`${where}: not JSON (${(e as Error).message})`, lineNo);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw syntax(`${where}: not a JSON object`, lineNo);
  const s = new Shape(o as Record<string, unknown>, where, lineNo);
  switch (s.str('type')) {
    case 'header': {
      s.only('type', 'format', 'createdAt', 'origin', 'filters', 'generator');
      const format = s.str('format');
      if (format !== BUNDLE_FORMAT && format !== BUNDLE_FORMAT_V1) {
        throw syntax(
          `${where}: format "${format}" is neither ${BUNDLE_FORMAT} nor ${BUNDLE_FORMAT_V1}`,
          lineNo,
        );
      }
      const filters = s.obj('filters');
      for (const [k, v] of Object.entries(filters)) {
        if (typeof v !== 'string') throw syntax(`${where}: filter ${k} must be a string`, lineNo);
      }
      return {
        type: 'header',
        format,
        createdAt: s.str('createdAt'),
        origin: s.str('origin'),
        filters: filters as Record<string, string>,
        generator: s.str('generator'),
      };
    }
    case 'checkpoint':
      s.only('type', 'note');
      return { type: 'checkpoint', note: s.str('note') };
    case 'key':
      s.only('type', 'leafIndex', 'proof', 'entry');
      return {
        type: 'key',
        leafIndex: s.nat('leafIndex'),
        proof: s.strings('proof'),
        entry: keyEntry(s.obj('entry'), where, lineNo),
      };
    case 'receipt':
      s.only('type', 'leafIndex', 'proof', 'entry', 'mu');
      return {
        type: 'receipt',
        leafIndex: s.nat('leafIndex'),
        proof: s.strings('proof'),
        entry: receiptEntry(s.obj('entry'), where, lineNo),
        mu: s.str('mu'),
      };
    case 'link':
      s.only('type', 'leafIndex', 'proof', 'entry');
      return {
        type: 'link',
        leafIndex: s.nat('leafIndex'),
        proof: s.strings('proof'),
        entry: receiptEntry(s.obj('entry'), where, lineNo),
      };
    case 'completeness':
      return completenessLine(s, where, lineNo);
    case 'manifest': {
      s.only('type', 'counts', 'digest');
      const c = new Shape(s.obj('counts'), `${where} counts`, lineNo).only('keys', 'receipts');
      return {
        type: 'manifest',
        counts: { keys: c.nat('keys'), receipts: c.nat('receipts') },
        digest: s.str('digest'),
      };
    }
    case 'statement':
      s.only('type', 'note');
      return { type: 'statement', note: s.str('note') };
    default:
      throw syntax(`${where}: unknown line type "${s.str('type')}"`, lineNo);
  }
}

function decodeProofNode(p: string, lineNo: number): Uint8Array {
  const node = fromBase64(p, 'E_PROOF_INVALID', `line ${lineNo}: proof node`);
  if (node.length !== HASH_SIZE)
    throw new CoreError('E_PROOF_INVALID', `line ${lineNo}: proof node is not 32 bytes`, { line: lineNo });
  return node;
}

/** The proof nodes of a line, decoded (each must be a 32-byte hash). */
export function decodeProof(proof: readonly string[], lineNo: number): Uint8Array[] {
  return proof.map((p) => decodeProofNode(p, lineNo));
}

/**
 * `decodeProof` for a run of lines whose proofs share nodes (neighbouring leaves share most of
 * theirs): a node written as the previous line's node at the same place is that node, already
 * decoded, so it is reused. Same results and errors as `decodeProof`.
 */
export class ProofDecoder {
  private text: readonly string[] = [];
  private nodes: readonly Uint8Array[] = [];

  decode(proof: readonly string[], lineNo: number): Uint8Array[] {
    const nodes = proof.map((p, k) => (p === this.text[k] ? this.nodes[k]! : decodeProofNode(p, lineNo)));
    this.text = proof;
    this.nodes = nodes;
    return nodes;
  }
}

/** Validates a log entry object (e.g. from a chaincode event), strictly. */
export function parseLogEntry(o: unknown, where: string): KeyEntry | ReceiptEntry {
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new CoreError('E_BUNDLE_SYNTAX', `${where}: not an object`);
  const obj = o as Record<string, unknown>;
  return obj['kind'] === 'key' ? keyEntry(obj, where) : receiptEntry(obj, where);
}
