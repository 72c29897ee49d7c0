/** `torgo receipt new|sign|verify|mirror|unmirror`: offline work on `.mu` receipts. */
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import {
  CoreError,
  createReceiptText,
  importPublicKey,
  MAX_FILE_BYTES,
  mirror,
  newUlid,
  parseDocument,
  parseReceipt,
  privateKeyFromPem,
  type PublicKey,
  type ReceiptDocument,
  type ReceiptSection,
  SECTION_ORDER,
  SIGNATURE_PREFIX,
  signReceipt,
  verifyPayload,
  verifyReceiptSignatures,
} from '../../core/index.js';
import { CliError, describeError, EXIT_INVALID } from '../errors.js';
import { readBounded, readText, writePublic } from '../io.js';
import type { Output } from '../output.js';

const KEY_FILE_LIMIT = 64 * 1024;
const PAYLOAD_LIMIT = 1024 * 1024 * 1024;

async function emit(output: Output, text: string, out?: string): Promise<void> {
  if (out) await writePublic(out, text);
  else output.out(text);
}

/** Splits Markdown with `## Section` headings into sections (for --body). */
function sectionsFromMarkdown(markdown: string): ReceiptSection[] {
  const lines = markdown.replace(/\n$/, '').split('\n');
  const doc = parseDocument(
    `---\nformat: torgo.receipt/1\nid: 00000000000000000000000000\nsource: x\noperation: x\nsubject: x\noccurred_at: 2000-01-01T00:00:00Z\npayload_digests:\n  - sha256:${'0'.repeat(64)}\n---\n${lines.join('\n')}\n`,
  );
  return [...doc.sections];
}

async function sha256File(path: string): Promise<string> {
  const bytes = await readBounded(path, PAYLOAD_LIMIT, 'payload');
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

interface NewOptions {
  from?: string;
  body?: string;
  id?: string;
  source?: string;
  operation?: string;
  subject?: string;
  occurredAt?: string;
  payload: string[];
  digest: string[];
  ref: string[];
  intent?: string;
  context?: string;
  history?: string;
  out?: string;
}

async function documentFromOptions(o: NewOptions): Promise<ReceiptDocument> {
  if (o.from) return parseDocument(await readText(o.from, MAX_FILE_BYTES, 'source document'));
  for (const required of ['source', 'operation', 'subject'] as const) {
    if (!o[required])
      throw new CliError(`--${required} is required (or give a whole source document with --from)`);
  }
  const digests = [...o.digest, ...(await Promise.all(o.payload.map(sha256File)))];
  if (digests.length === 0) throw new CliError('give the payload digest: --payload FILE or --digest ALG:HEX');
  let sections: ReceiptSection[];
  if (o.body) {
    sections = sectionsFromMarkdown(await readText(o.body, MAX_FILE_BYTES, 'body'));
  } else {
    if (!o.intent) throw new CliError('--intent is required (or give the Markdown sections with --body)');
    const text: Record<string, string | undefined> = {
      Intent: o.intent,
      Context: o.context,
      History: o.history,
    };
    sections = SECTION_ORDER.filter((n) => text[n] !== undefined).map((name) => ({
      name,
      lines: text[name]!.split('\n'),
    }));
  }
  return {
    fields: {
      format: 'torgo.receipt/1',
      id: o.id ?? newUlid(),
      source: o.source!,
      operation: o.operation!,
      subject: o.subject!,
      occurredAt: o.occurredAt ?? new Date().toISOString(),
      payloadDigests: digests,
      ...(o.ref.length ? { refs: o.ref } : {}),
    },
    sections,
  };
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Loads trusted public keys (PEM or raw base64 files) into a key-id lookup. */
export async function loadPublicKeys(paths: readonly string[]): Promise<Map<string, PublicKey>> {
  const keys = new Map<string, PublicKey>();
  for (const p of paths) {
    try {
      const k = importPublicKey(await readText(p, KEY_FILE_LIMIT, 'public key'));
      keys.set(k.keyId, k);
    } catch (e) {
      if (e instanceof CoreError) throw new CliError(`${p}: ${e.message}`, 2, e.code);
      throw e;
    }
  }
  return keys;
}

export function addReceiptCommands(receipt: Command, output: Output): void {
  receipt
    .command('new')
    .description('write an unsigned .mu receipt from a source document (--from) or from flags')
    .option('--from <file>', 'a complete source document (.maml.md: front matter + sections)')
    .option('--body <file>', 'Markdown sections (## Intent, ## Context, …) to combine with the flags')
    .option('--id <id>', 'receipt id (ULID or UUID; default: a new ULID)')
    .option('--source <name>', 'the service performing the operation')
    .option('--operation <name>', 'what was done, e.g. vitals.forward')
    .option('--subject <ref>', 'opaque reference to what it was done to (never personal data)')
    .option('--occurred-at <time>', 'RFC 3339 UTC time (default: now)')
    .option('--payload <file>', 'payload file to digest with SHA-256 (repeatable)', collect, [])
    .option('--digest <alg:hex>', 'payload digest given directly (repeatable)', collect, [])
    .option('--ref <id>', 'an earlier receipt this one refers to (repeatable)', collect, [])
    .option('--intent <text>', 'the Intent section')
    .option('--context <text>', 'the Context section')
    .option('--history <text>', 'the History section')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (o: NewOptions) => {
      const text = createReceiptText(await documentFromOptions(o));
      await emit(output, text, o.out);
    });

  receipt
    .command('sign')
    .description('add an ML-DSA signature to a .mu receipt (other signatures are kept)')
    .argument('<file>', '.mu receipt')
    .requiredOption('--key <file>', 'private key (PKCS#8 PEM)')
    .option('-o, --out <file>', 'write to a file instead of stdout (may be the input file)')
    .option('--deterministic', 'FIPS 204 deterministic variant (for test vectors)')
    .action(async (file: string, o: { key: string; out?: string; deterministic?: boolean }) => {
      const r = parseReceipt(await readBounded(file, MAX_FILE_BYTES + 1, 'receipt'));
      const key = privateKeyFromPem(await readText(o.key, KEY_FILE_LIMIT, 'private key'));
      await emit(output, signReceipt(r, key, { deterministic: Boolean(o.deterministic) }), o.out);
    });

  receipt
    .command('verify')
    .description('verify a .mu receipt offline: canonical form, mirror self-check, every signature')
    .argument('<file>', '.mu receipt')
    .requiredOption('--pub <file>', 'a trusted public key, PEM or raw base64 (repeatable)', collect, [])
    .option('--payload <file>', "also check this payload against the receipt's payload_digests")
    .option('--json', 'machine-readable result')
    .action(async (file: string, o: { pub: string[]; payload?: string; json?: boolean }) => {
      if (o.pub.length === 0) throw new CliError('give at least one trusted public key with --pub');
      const bytes = await readBounded(file, MAX_FILE_BYTES + 1, 'receipt');
      const keys = await loadPublicKeys(o.pub);
      try {
        const receipt = parseReceipt(bytes);
        const signers = verifyReceiptSignatures(receipt, (id) => keys.get(id));
        const payload = o.payload
          ? verifyPayload(receipt, await readBounded(o.payload, PAYLOAD_LIMIT, 'payload'))
          : undefined;
        const f = receipt.document.fields;
        const result = {
          valid: true,
          id: f.id,
          digest: receipt.digest,
          signers,
          ...(payload ? { payloadDigest: payload } : {}),
        };
        output.out(
          o.json
            ? `${JSON.stringify(result)}\n`
            : `valid: receipt ${f.id} (${f.source} ${f.operation} ${f.subject} at ${f.occurredAt})\n` +
                signers.map((s) => `  signed by ${s.keyId} (${s.alg})\n`).join('') +
                (payload ? `  payload matches ${payload}\n` : ''),
        );
      } catch (e) {
        if (!(e instanceof CoreError)) throw e;
        const d = describeError(e);
        output.out(
          o.json
            ? `${JSON.stringify({ valid: false, code: d.code, message: d.message })}\n`
            : `invalid: ${d.code}: ${d.message}\n`,
        );
        throw new CliError(d.message, EXIT_INVALID, d.code, true);
      }
    });

  receipt
    .command('mirror')
    .description('print the MARKUP mirror of a source document (.maml.md → .mu text, unsigned)')
    .argument('<file>')
    .action(async (file: string) => {
      output.out(mirror(await readText(file, MAX_FILE_BYTES, 'document')));
    });

  receipt
    .command('unmirror')
    .description('print the source document a .mu receipt mirrors (signature block left out)')
    .argument('<file>')
    .action(async (file: string) => {
      const text = await readText(file, MAX_FILE_BYTES, 'receipt');
      const lines = text.split('\n');
      const sig = lines.findIndex((l) => l.startsWith(SIGNATURE_PREFIX));
      const body = sig > 0 ? `${lines.slice(0, sig - 1).join('\n')}\n` : text;
      output.out(mirror(body));
    });
}
