/**
 * The contract's receipt answers, from its bytes to the HTTP API's, without decoding or parsing the
 * receipts' `.mu` texts.
 *
 * The contract answers a page as the UTF-8 of `canonicalJson({ bookmark, receipts: ReceiptView[] })`
 * (chaincode/queries.ts). The API answers `{ receipts: Receipt[], nextCursor }` with each Receipt's
 * members in its schema's order (api/src/schemas.ts; fastify writes them with fast-json-stringify, whose
 * strings are `JSON.stringify`'s). Every string member of a ReceiptView is a JSON string in both, so a
 * Receipt is the view's member texts in another order: `ReceiptJson` cuts a view's bytes into its
 * members and writes them back in the API's order. Only the small nested values (`submitter`,
 * `revokedSigners`, whose members the API orders differently) are parsed and written again.
 *
 * The cut relies on JSON text: a `"` inside a string is always escaped, so `,"` never occurs inside a
 * string, and `,"<name>":` is a member boundary. A view is cut only if its members are exactly the
 * expected ones, in order, each string member a single string (no `,"` in it); anything else (another
 * contract version's layout) is parsed whole and its members re-serialised: the same answer, slower.
 * test/gateway/page.test.ts holds both to fastify's own serialisation of the parsed answer.
 */
import { isUtf8 } from 'node:buffer';
import { GatewayError } from '../errors.js';
import type { ReceiptView } from './audit.js';
import type { ReceiptResource } from '@torgo/api';

/** A receipt as the API answers it, without its `.mu` (nor `block`). */
export type ReceiptSummary = Omit<ReceiptResource, 'mu' | 'block'>;

/** A ReceiptView's members, in the contract's (sorted) order. */
const MEMBERS = [
  'committedAt',
  'digest',
  'id',
  'mu',
  'occurredAt',
  'operation',
  'revokedSigners',
  'signerKeyIds',
  'source',
  'subject',
  'submitter',
  'txId',
] as const;
type Member = (typeof MEMBERS)[number];
type StringMember = Exclude<Member, 'submitter' | 'revokedSigners' | 'signerKeyIds'>;
const STRING_MEMBERS = MEMBERS.filter(
  (m): m is StringMember => m !== 'submitter' && m !== 'revokedSigners' && m !== 'signerKeyIds',
);
const NAMES = MEMBERS.map((m) => Buffer.from(`"${m}":`));
const NEXT = MEMBERS.map((m) => `,"${m}":`);
const QUOTE = 0x22;

interface Party {
  readonly mspId: string;
  readonly id: string;
}
interface Revocation {
  readonly keyId: string;
  readonly revokedAt: string;
  readonly reason: string;
}

function internal(message: string): GatewayError {
  return new GatewayError('E_INTERNAL', 'the ledger answered a query in an unexpected form', { message });
}

function parseAnswer<T>(bytes: Buffer): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw internal('the answer is not JSON');
  }
}

/** Whether `bytes` begins with `text` (ASCII). */
function startsWith(bytes: Buffer | undefined, text: string): boolean {
  return (
    bytes !== undefined && bytes.length >= text.length && bytes.toString('latin1', 0, text.length) === text
  );
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function party(v: unknown): Party {
  const p = v as Partial<Party> | null;
  if (typeof p !== 'object' || p === null || !isString(p.mspId) || !isString(p.id)) {
    throw internal('submitter is not {mspId, id}');
  }
  return { mspId: p.mspId, id: p.id };
}

function revocations(v: unknown): Revocation[] {
  if (!Array.isArray(v)) throw internal('revokedSigners is not an array');
  return v.map((r: Partial<Revocation> | null) => {
    if (
      typeof r !== 'object' ||
      r === null ||
      !isString(r.keyId) ||
      !isString(r.revokedAt) ||
      !isString(r.reason)
    )
      throw internal('a revokedSigners entry is not {keyId, revokedAt, reason}');
    return { keyId: r.keyId, revokedAt: r.revokedAt, reason: r.reason };
  });
}

/** The constant texts between a Receipt's members, made once rather than per receipt written. */
const RESOURCE = {
  id: Buffer.from('{"id":'),
  hash: Buffer.from(',"hash":'),
  source: Buffer.from(',"source":'),
  operation: Buffer.from(',"operation":'),
  subject: Buffer.from(',"subject":'),
  occurredAt: Buffer.from(',"occurredAt":'),
  committedAt: Buffer.from(',"committedAt":'),
  txId: Buffer.from(',"txId":'),
  signerKeyIds: Buffer.from(',"signerKeyIds":'),
  end: Buffer.from('}'),
};

/** One receipt of a contract answer: its members' JSON texts, ready to be written in the API's order. */
export class ReceiptJson {
  private constructor(
    /** The JSON text of each string member and of `signerKeyIds` (an array of strings). */
    private readonly texts: Readonly<Record<Exclude<Member, 'submitter' | 'revokedSigners'>, Buffer>>,
    private readonly submitter: Party,
    private readonly revokedSigners: readonly Revocation[],
  ) {}

  /** Cuts a view's canonical JSON bytes into members; a view of another layout is parsed instead. */
  static of(view: Buffer): ReceiptJson {
    if (!isUtf8(view)) throw internal('the answer is not UTF-8');
    return ReceiptJson.cut(view) ?? ReceiptJson.fromView(parseAnswer<ReceiptView>(view));
  }

  /** The view's members, if it is of the contract's layout; else undefined. */
  static cut(view: Buffer): ReceiptJson | undefined {
    return ReceiptJson.cutPieces([view]);
  }

  /**
   * `cut` of a view given in pieces (their concatenation is the view), without concatenating them: each
   * member must lie within one piece, the next piece starting with the next member's `,"name":` — as in
   * the contract's pages, which splice `revokedSigners` in at member boundaries (chaincode/queries.ts
   * `receiptViewBytes`). Otherwise undefined, and the caller reads the concatenation.
   */
  static cutPieces(pieces: readonly Buffer[]): ReceiptJson | undefined {
    const first = pieces[0];
    const last = pieces[pieces.length - 1];
    if (!first || !last || first[0] !== 0x7b || last[last.length - 1] !== 0x7d) return undefined;
    const texts: Partial<Record<Member, Buffer>> = {};
    let p = 0;
    let view = first;
    let at = 1;
    for (let i = 0; i < MEMBERS.length; i++) {
      const name = NAMES[i]!;
      if (at + name.length > view.length || view.compare(name, 0, name.length, at, at + name.length) !== 0)
        return undefined;
      const start = at + name.length;
      let end: number;
      if (i + 1 < MEMBERS.length) {
        const next = NEXT[i + 1]!;
        end = view.indexOf(next, start);
        // `,"` only at its start: no match of `next` begins in this piece and ends in the following one.
        if (end < 0 && startsWith(pieces[p + 1], next)) end = view.length;
      } else {
        end = p === pieces.length - 1 ? view.length - 1 : -1;
      }
      if (end < start) return undefined;
      texts[MEMBERS[i]!] = view.subarray(start, end);
      if (end < view.length) {
        at = end + 1;
      } else {
        view = pieces[++p]!;
        at = 1;
      }
    }
    for (const m of STRING_MEMBERS) {
      const t = texts[m]!;
      if (t.length < 2 || t[0] !== QUOTE || t[t.length - 1] !== QUOTE || t.indexOf(',"') >= 0)
        return undefined;
    }
    // An array of strings: a member after it would put `],"` in the slice, which no string can hold.
    const signers = texts.signerKeyIds!;
    if (signers[0] !== 0x5b || signers[signers.length - 1] !== 0x5d || signers.indexOf('],"') >= 0)
      return undefined;
    let submitter: Party;
    let revoked: Revocation[];
    try {
      submitter = party(JSON.parse(texts.submitter!.toString('utf8')));
      revoked = revocations(JSON.parse(texts.revokedSigners!.toString('utf8')));
    } catch {
      return undefined;
    }
    return new ReceiptJson(texts as Record<Member, Buffer>, submitter, revoked);
  }

  /** The same from a parsed view (the plain definition, and the path for other layouts). */
  static fromView(view: ReceiptView): ReceiptJson {
    const texts: Partial<Record<Member, Buffer>> = {};
    for (const m of STRING_MEMBERS) {
      const v = (view as unknown as Record<string, unknown>)[m];
      if (!isString(v)) throw internal(`${m} is not a string`);
      texts[m] = Buffer.from(JSON.stringify(v));
    }
    if (!Array.isArray(view.signerKeyIds) || !view.signerKeyIds.every(isString))
      throw internal('signerKeyIds is not an array of strings');
    texts.signerKeyIds = Buffer.from(JSON.stringify(view.signerKeyIds));
    return new ReceiptJson(
      texts as Record<Member, Buffer>,
      party(view.submitter),
      revocations(view.revokedSigners),
    );
  }

  /** A string member's value (for the selection's secondary filters, a CSV row and the `.mu` answer). */
  value(member: StringMember): string {
    return JSON.parse(this.texts[member].toString('utf8')) as string;
  }

  /**
   * A string member's JSON text (its quotes and escapes, as JSON.stringify writes them) in UTF-8: a
   * view of the answer's bytes, not a copy.
   */
  json(member: StringMember): Buffer {
    return this.texts[member];
  }

  /**
   * The UTF-8 size of a string member's JSON text: its value's UTF-8 size plus its quotes and escapes
   * (a `.mu`'s line feeds), known without decoding it.
   */
  jsonBytes(member: StringMember): number {
    return this.texts[member].length;
  }

  /**
   * The API's Receipt without its `.mu` (what a CSV row holds, gateway/http/csv.ts): the small members
   * parsed, the `.mu` neither decoded nor copied. test/gateway/page.test.ts holds it to `resourceOf`.
   */
  summary(): ReceiptSummary {
    return {
      id: this.value('id'),
      hash: this.value('digest'),
      source: this.value('source'),
      operation: this.value('operation'),
      subject: this.value('subject'),
      occurredAt: this.value('occurredAt'),
      committedAt: this.value('committedAt'),
      txId: this.value('txId'),
      signerKeyIds: JSON.parse(this.texts.signerKeyIds.toString('utf8')) as string[],
      submitter: { ...this.submitter },
      revokedSigners: this.revokedSigners.map((r) => ({ ...r })),
    };
  }

  /**
   * The API's Receipt (api/src/schemas.ts `Receipt`, members in its order, `digest` named `hash`,
   * `block` only when given, last), as pieces of UTF-8 to be concatenated.
   */
  resource(block?: number): Buffer[] {
    const t = this.texts;
    const submitter = `{"mspId":${JSON.stringify(this.submitter.mspId)},"id":${JSON.stringify(this.submitter.id)}}`;
    const revoked = this.revokedSigners
      .map(
        (r) =>
          `{"keyId":${JSON.stringify(r.keyId)},"revokedAt":${JSON.stringify(r.revokedAt)},"reason":${JSON.stringify(r.reason)}}`,
      )
      .join(',');
    return [
      RESOURCE.id,
      t.id,
      RESOURCE.hash,
      t.digest,
      RESOURCE.source,
      t.source,
      RESOURCE.operation,
      t.operation,
      RESOURCE.subject,
      t.subject,
      RESOURCE.occurredAt,
      t.occurredAt,
      RESOURCE.committedAt,
      t.committedAt,
      RESOURCE.txId,
      t.txId,
      RESOURCE.signerKeyIds,
      t.signerKeyIds,
      Buffer.from(`,"submitter":${submitter},"revokedSigners":[${revoked}],"mu":`),
      t.mu,
      // fast-json-stringify writes optional members after the required ones.
      block === undefined ? RESOURCE.end : Buffer.from(`,"block":${block}}`),
    ];
  }
}

const PAGE_HEAD = '{"bookmark":';
const LIST = ',"receipts":[';
const PAGE_END = ']}';
const NEXT_VIEW = ',{"committedAt":';

/**
 * A contract page (`queryReceipts`' answer bytes): its bookmark and its receipts. A page not of the
 * expected layout is parsed whole.
 */
export function receiptPage(page: Buffer): { bookmark: string; receipts: ReceiptJson[] } {
  if (!isUtf8(page)) throw internal('the answer is not UTF-8');
  const cut = cutPage(page);
  if (cut) return cut;
  const parsed = parseAnswer<{ bookmark: unknown; receipts: ReceiptView[] }>(page);
  if (!isString(parsed.bookmark) || !Array.isArray(parsed.receipts)) throw internal('not a page of receipts');
  return { bookmark: parsed.bookmark, receipts: parsed.receipts.map((v) => ReceiptJson.fromView(v)) };
}

/**
 * A contract page from the parts the embedded engine hands over (engine/ledger.ts `EvaluateResult.parts`;
 * chaincode/queries.ts builds them: the head `{"bookmark":…,"receipts":[`, each view in pieces split at
 * member boundaries, a `,` part between two views, and `]}`): the same answer as `receiptPage` of their
 * concatenation, without making it — a fresh ~270 KB buffer per page is what set off V8's mark-compacts
 * under queries (docs/performance.md §11, "Queries, eighth pass"). Parts of any other shape, a view
 * `cutPage` would split differently or a member across two pieces: the concatenation is read by
 * `receiptPage`. test/gateway/page.test.ts holds it to that definition.
 */
export function receiptPageOfParts(parts: readonly Uint8Array[]): {
  bookmark: string;
  receipts: ReceiptJson[];
} {
  const buffers = parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  return cutParts(buffers) ?? receiptPage(Buffer.concat(buffers));
}

/** A part holding only the `,` between two views. */
function isComma(part: Buffer): boolean {
  return part.length === 1 && part[0] === 0x2c;
}

function cutParts(parts: readonly Buffer[]): { bookmark: string; receipts: ReceiptJson[] } | undefined {
  const head = parts[0];
  const last = parts[parts.length - 1];
  if (!head || parts.length < 2 || !last || last.toString('latin1') !== PAGE_END) return undefined;
  // The head is `{"bookmark":<a JSON string>,"receipts":[`, as cutPage reads it from a whole page.
  if (
    !isUtf8(head) ||
    !startsWith(head, PAGE_HEAD) ||
    head.indexOf(LIST) !== head.length - LIST.length ||
    head.length < PAGE_HEAD.length + LIST.length
  ) {
    return undefined;
  }
  let bookmark: unknown;
  try {
    bookmark = JSON.parse(head.toString('utf8', PAGE_HEAD.length, head.length - LIST.length));
  } catch {
    return undefined;
  }
  if (!isString(bookmark)) return undefined;
  // The views: the parts between the head and the end, split at the `,` parts.
  const views: Buffer[][] = [];
  let view: Buffer[] = [];
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!;
    if (!isComma(part)) {
      view.push(part);
      continue;
    }
    if (view.length === 0) return undefined;
    views.push(view);
    view = [];
  }
  if (view.length > 0) views.push(view);
  else if (views.length > 0) return undefined;
  const receipts: ReceiptJson[] = [];
  for (const pieces of views) {
    if (!viewAsCutPageSeesIt(pieces)) return undefined;
    const receipt = ReceiptJson.cutPieces(pieces);
    if (!receipt) return undefined;
    receipts.push(receipt);
  }
  return { bookmark, receipts };
}

/**
 * Whether cutPage, reading the concatenated page, would take these pieces as one whole view: each is
 * UTF-8 (a whole page is checked), and no `,{"committedAt":` — where cutPage ends a view — lies in them
 * or across two of them (its `,` is only at its start, so a match across pieces ends with the second
 * piece starting with the rest of it).
 */
function viewAsCutPageSeesIt(pieces: readonly Buffer[]): boolean {
  for (const [i, piece] of pieces.entries()) {
    if (!isUtf8(piece) || piece.indexOf(NEXT_VIEW) >= 0) return false;
    const next = pieces[i + 1];
    if (!next) continue;
    for (let k = 1; k < NEXT_VIEW.length; k++) {
      if (
        piece.length >= k &&
        piece.toString('latin1', piece.length - k) === NEXT_VIEW.slice(0, k) &&
        startsWith(next, NEXT_VIEW.slice(k))
      )
        return false;
    }
  }
  return true;
}

/** The page's receipts cut from its bytes, if it and every view in it are of the contract's layout. */
function cutPage(page: Buffer): { bookmark: string; receipts: ReceiptJson[] } | undefined {
  const list = page.indexOf(LIST);
  if (
    list < 0 ||
    page.toString('latin1', 0, PAGE_HEAD.length) !== PAGE_HEAD ||
    page.toString('latin1', page.length - PAGE_END.length) !== PAGE_END
  ) {
    return undefined;
  }
  let bookmark: unknown;
  try {
    bookmark = JSON.parse(page.toString('utf8', PAGE_HEAD.length, list));
  } catch {
    return undefined;
  }
  if (!isString(bookmark)) return undefined;
  const receipts: ReceiptJson[] = [];
  const end = page.length - PAGE_END.length;
  // `,{"committedAt":` only starts a view: nested objects start with other members, and strings hold no `,"`.
  for (let at = list + LIST.length; at < end; ) {
    const next = page.indexOf(NEXT_VIEW, at);
    const viewEnd = next < 0 || next > end ? end : next;
    const receipt = ReceiptJson.cut(page.subarray(at, viewEnd));
    if (!receipt) return undefined;
    receipts.push(receipt);
    at = viewEnd + 1;
  }
  return { bookmark, receipts };
}

/** The API's ReceiptPage (`{ receipts, nextCursor }`) as pieces of UTF-8, to be concatenated. */
function receiptPageParts(receipts: readonly ReceiptJson[], nextCursor: string | null): Buffer[] {
  const parts: Buffer[] = [PAGE_OPEN];
  for (const [i, r] of receipts.entries()) {
    if (i > 0) parts.push(COMMA);
    parts.push(...r.resource());
  }
  parts.push(Buffer.from(`],"nextCursor":${nextCursor === null ? 'null' : JSON.stringify(nextCursor)}}`));
  return parts;
}

const PAGE_OPEN = Buffer.from('{"receipts":[');
const COMMA = Buffer.from(',');

/** The API's ReceiptPage (`{ receipts, nextCursor }`) as UTF-8 bytes, in a buffer of its own. */
export function receiptPageJson(receipts: readonly ReceiptJson[], nextCursor: string | null): Buffer {
  return writeReceiptPage(receipts, nextCursor, (size) => Buffer.allocUnsafe(size));
}

/**
 * The API's ReceiptPage written into a buffer `lend(size)` gives (at least `size` bytes: a pooled
 * one, gateway/http/page-buffers.ts); answers the written part of it.
 */
export function writeReceiptPage(
  receipts: readonly ReceiptJson[],
  nextCursor: string | null,
  lend: (size: number) => Buffer,
): Buffer {
  const parts = receiptPageParts(receipts, nextCursor);
  let size = 0;
  for (const part of parts) size += part.length;
  const out = lend(size);
  let at = 0;
  for (const part of parts) at += part.copy(out, at);
  return out.subarray(0, size);
}
