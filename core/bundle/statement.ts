/**
 * The export statement (docs/bundle-format.md §3): the last line of a `torgo.bundle/2`, a C2SP
 * signed note by the exporting log operator over what the bundle claims as a whole.
 *
 *   <origin>\n                          the log, as in its checkpoints
 *   torgo.bundle/2 export\n             what this note is (a checkpoint's line 2 is a number)
 *   checkpoint <size> <base64 root>\n   the checkpoint every proof in the bundle is checked against
 *   filters <canonical JSON>\n          the header's filters, RFC 8785 (keys sorted, no white space)
 *   created <RFC 3339>\n                the header's createdAt
 *   keys <n>\n                          number of key lines
 *   receipts <n>\n                      number of receipt lines
 *   digest sha256:<hex>\n               SHA-256 of the bytes of every line before the statement
 *
 * Signed with ML-DSA under its own context, "torgo/bundle-statement/v1" (note-mldsa.ts), so a
 * statement signature is never a checkpoint signature and the other way round. Verification is
 * "verify, then parse": the body is parsed only after a trusted signature verified.
 */
import { CoreError } from '../errors.js';
import { fromBase64, toBase64, utf8 } from '../encoding.js';
import { canonicalJson } from '../json.js';
import type { PrivateKey, PublicKey } from '../crypto/keys.js';
import { platformMlDsa } from '../crypto/backend.js';
import type { MlDsaBackend, SignOptions } from '../crypto/mldsa.js';
import { HASH_SIZE } from '../log/merkle.js';
import { keyLabel, openNote, signNote } from '../log/note.js';
import { mlDsaNoteSigner, mlDsaNoteVerifier } from '../log/note-mldsa.js';
import { BUNDLE_FORMAT } from './format.js';

/** FIPS 204 context of export statement signatures. */
export const STATEMENT_CONTEXT = utf8('torgo/bundle-statement/v1');
/** Largest statement body accepted, in bytes (filters are bounded by the gateway's query schema). */
export const MAX_STATEMENT_BODY_BYTES = 8192;

export interface ExportStatement {
  readonly origin: string;
  readonly checkpoint: { readonly size: number; readonly rootHash: Uint8Array };
  readonly filters: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly counts: { readonly keys: number; readonly receipts: number };
  /** `sha256:<hex>` of every line before the statement. */
  readonly digest: string;
}

const KIND_LINE = `${BUNDLE_FORMAT} export`;
const NAT = /^(?:0|[1-9][0-9]{0,15})$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

function syntax(message: string, line?: number): CoreError {
  return new CoreError(
    'E_BUNDLE_SYNTAX',
    `export statement: ${message}`,
    line ? { noteLine: line } : undefined,
  );
}

/** The note text of a statement. */
export function formatStatement(s: ExportStatement): string {
  const lines = [
    s.origin,
    KIND_LINE,
    `checkpoint ${s.checkpoint.size} ${toBase64(s.checkpoint.rootHash)}`,
    `filters ${canonicalJson(s.filters)}`,
    `created ${s.createdAt}`,
    `keys ${s.counts.keys}`,
    `receipts ${s.counts.receipts}`,
    `digest ${s.digest}`,
  ];
  for (const l of lines) if (l.includes('\n')) throw syntax('a value contains a newline');
  return lines.map((l) => `${l}\n`).join('');
}

/** A signer of statements: the log's key name (its origin) and the operator's key. */
export function signStatement(s: ExportStatement, key: PrivateKey, options?: SignOptions): string {
  return signNote(formatStatement(s), [mlDsaNoteSigner(s.origin, key, STATEMENT_CONTEXT, options)]);
}

function nat(text: string, what: string, line: number): number {
  if (!NAT.test(text) || !Number.isSafeInteger(Number(text)))
    throw syntax(`line ${line}: ${what} must be a decimal integer`, line);
  return Number(text);
}

/** Parses a statement body strictly. Only call it on text whose signature verified. */
export function parseStatementBody(text: string): ExportStatement {
  if (utf8(text).length > MAX_STATEMENT_BODY_BYTES)
    throw syntax(`body larger than ${MAX_STATEMENT_BODY_BYTES} bytes`);
  if (!text.endsWith('\n')) throw syntax('the body must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length !== 8) throw syntax(`the body has ${lines.length} lines, not 8`);
  const field = (i: number, keyword: string): string => {
    const l = lines[i]!;
    if (!l.startsWith(`${keyword} `)) throw syntax(`line ${i + 1} must start with "${keyword} "`, i + 1);
    return l.slice(keyword.length + 1);
  };
  const origin = lines[0]!;
  if (lines[1] !== KIND_LINE) throw syntax(`line 2 must be "${KIND_LINE}"`, 2);
  const [sizeText = '', rootText = '', ...rest] = field(2, 'checkpoint').split(' ');
  if (rest.length) throw syntax('line 3: "checkpoint <size> <root>"', 3);
  const rootHash = fromBase64(rootText, 'E_BUNDLE_SYNTAX', 'export statement line 3: root hash');
  if (rootHash.length !== HASH_SIZE) throw syntax(`line 3: the root hash is not ${HASH_SIZE} bytes`, 3);
  let filters: unknown;
  try {
    filters = JSON.parse(field(3, 'filters'));
  } catch {
    throw syntax('line 4: the filters are not JSON', 4);
  }
  if (
    typeof filters !== 'object' ||
    filters === null ||
    Array.isArray(filters) ||
    Object.values(filters).some((v) => typeof v !== 'string')
  )
    throw syntax('line 4: the filters must be an object of strings', 4);
  const digest = field(7, 'digest');
  if (!DIGEST.test(digest)) throw syntax('line 8: the digest must be sha256:<64 lower-case hex>', 8);
  return {
    origin,
    checkpoint: { size: nat(sizeText, 'the checkpoint size', 3), rootHash },
    filters: filters as Record<string, string>,
    createdAt: field(4, 'created'),
    counts: { keys: nat(field(5, 'keys'), 'keys', 6), receipts: nat(field(6, 'receipts'), 'receipts', 7) },
    digest,
  };
}

export interface VerifiedStatement {
  readonly statement: ExportStatement;
  /** `name+keyhash` (statement key hash) of each trusted key whose signature verified. */
  readonly signedBy: readonly string[];
}

/**
 * Opens a statement note with the keys allowed to sign it — the trusted keys that signed the
 * bundle's checkpoint: a statement says "I, the log operator, exported this"; a witness that only
 * cosigned the checkpoint never signs one. Every signature by such a key must verify and at least
 * one must be there (signed-note); then the body is parsed. E_BUNDLE_STATEMENT_SIGNATURE or
 * E_BUNDLE_SYNTAX.
 */
export function openStatement(
  note: string,
  signers: readonly { readonly name: string; readonly key: PublicKey }[],
  mlDsa: MlDsaBackend = platformMlDsa,
): VerifiedStatement {
  if (signers.length === 0)
    throw new CoreError(
      'E_BUNDLE_STATEMENT_SIGNATURE',
      'export statement: no trusted key signed the checkpoint',
    );
  const verifiers = signers.map((t) => mlDsaNoteVerifier(t.name, t.key, STATEMENT_CONTEXT, mlDsa));
  let opened: ReturnType<typeof openNote>;
  try {
    opened = openNote(note, verifiers);
  } catch (e) {
    if (e instanceof CoreError && e.code === 'E_CHECKPOINT_SIGNATURE') {
      throw new CoreError(
        'E_BUNDLE_STATEMENT_SIGNATURE',
        `export statement: ${e.message.replace(/^signed note: /, '')}`,
        { reason: e.details?.['reason'] },
      );
    }
    if (e instanceof CoreError)
      throw new CoreError('E_BUNDLE_SYNTAX', `export statement: ${e.message}`, {
        reason: e.details?.['reason'],
      });
    throw e;
  }
  return {
    statement: parseStatementBody(opened.text),
    signedBy: opened.verified.map((s) => keyLabel(s.name, s.keyHash)),
  };
}
