/** The receipt source document (docs/receipt-format.md §3): strict parse and its one serialisation. */
import { CoreError } from '../errors.js';
import { checkFields, FIELD_ORDER, type FieldName, FORMAT_V1, type ReceiptFields } from './fields.js';

export const SECTION_ORDER = ['Intent', 'Context', 'Code_Blocks', 'History'] as const;
export type SectionName = (typeof SECTION_ORDER)[number];

export interface ReceiptSection {
  readonly name: SectionName;
  /** The section's lines after its heading, as written (Markdown). */
  readonly lines: readonly string[];
}

export interface ReceiptDocument {
  readonly fields: ReceiptFields;
  readonly sections: readonly ReceiptSection[];
}

function syntax(line: number, message: string): CoreError {
  return new CoreError('E_RECEIPT_SYNTAX', `line ${line}: ${message}`, { line });
}

const SCALAR = /^([a-z_]+): (.+)$/;
const LIST_HEAD = /^([a-z_]+):$/;
const LIST_ITEM = /^ {2}- (.+)$/;
const FENCE = /^ *(`{3,}|~{3,})(.*)$/;

function parseFrontMatter(lines: readonly string[]): { fields: ReceiptFields; end: number } {
  if (lines[0] !== '---') throw syntax(1, 'a receipt document starts with "---" (front matter)');
  const values = new Map<FieldName, string | string[]>();
  let lastIndex = -1;
  let i = 1;
  for (; i < lines.length && lines[i] !== '---'; i++) {
    const line = lines[i]!;
    const scalar = SCALAR.exec(line);
    const head = scalar ? undefined : LIST_HEAD.exec(line);
    const name = scalar?.[1] ?? head?.[1];
    if (name === undefined)
      throw syntax(i + 1, 'expected "name: value" or "name:" followed by "  - item" lines');
    const index = FIELD_ORDER.findIndex((f) => f.name === name);
    const spec = FIELD_ORDER[index];
    if (!spec) {
      throw new CoreError('E_RECEIPT_FIELD_UNKNOWN', `line ${i + 1}: unknown field "${name}"`, {
        line: i + 1,
        field: name,
      });
    }
    if (values.has(spec.name)) {
      throw new CoreError('E_RECEIPT_FIELD_DUPLICATE', `line ${i + 1}: field "${name}" appears twice`, {
        line: i + 1,
        field: name,
      });
    }
    if (index < lastIndex) {
      throw new CoreError(
        'E_RECEIPT_FIELD_ORDER',
        `line ${i + 1}: field "${name}" must come before "${FIELD_ORDER[lastIndex]!.name}"`,
        { line: i + 1, field: name },
      );
    }
    lastIndex = index;
    if (spec.list !== Boolean(head)) {
      throw syntax(
        i + 1,
        spec.list ? `"${name}" is a list: "${name}:" then "  - item" lines` : `"${name}" takes one value`,
      );
    }
    if (scalar) {
      values.set(spec.name, scalar[2]!);
      continue;
    }
    const items: string[] = [];
    while (i + 1 < lines.length) {
      const item = LIST_ITEM.exec(lines[i + 1]!);
      if (!item) break;
      items.push(item[1]!);
      i++;
    }
    values.set(spec.name, items);
  }
  if (i >= lines.length) throw syntax(1, 'front matter is not closed by a "---" line');
  for (const spec of FIELD_ORDER) {
    if (spec.required && !values.has(spec.name)) {
      throw new CoreError('E_RECEIPT_FIELD_MISSING', `required field "${spec.name}" is missing`, {
        field: spec.name,
      });
    }
  }
  const str = (n: FieldName) => values.get(n) as string;
  const list = (n: FieldName) => values.get(n) as string[] | undefined;
  const refs = list('refs');
  const fields: ReceiptFields = {
    format: str('format') as typeof FORMAT_V1,
    id: str('id'),
    source: str('source'),
    operation: str('operation'),
    subject: str('subject'),
    occurredAt: str('occurred_at'),
    payloadDigests: list('payload_digests')!,
    ...(refs ? { refs } : {}),
  };
  checkFields(fields);
  return { fields, end: i };
}

function parseBody(lines: readonly string[], start: number): ReceiptSection[] {
  const sections: { name: SectionName; lines: string[] }[] = [];
  let fence: { char: string; length: number; line: number } | undefined;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    const f = FENCE.exec(line);
    if (fence) {
      if (f && f[1]![0] === fence.char && f[1]!.length >= fence.length && f[2] === '') fence = undefined;
      sections.at(-1)!.lines.push(line);
      continue;
    }
    if (line.startsWith('## ')) {
      const name = line.slice(3);
      const order = SECTION_ORDER.indexOf(name as SectionName);
      const last = sections.length ? SECTION_ORDER.indexOf(sections.at(-1)!.name) : -1;
      if (order < 0) {
        throw new CoreError(
          'E_RECEIPT_SECTION',
          `line ${i + 1}: unknown section "${name}" (sections: ${SECTION_ORDER.join(', ')})`,
          {
            line: i + 1,
          },
        );
      }
      if (order <= last) {
        throw new CoreError(
          'E_RECEIPT_SECTION',
          `line ${i + 1}: section "${name}" is repeated or out of order`,
          { line: i + 1 },
        );
      }
      if (sections.length === 0 && name !== 'Intent') {
        throw new CoreError('E_RECEIPT_SECTION', `line ${i + 1}: the body starts with "## Intent"`, {
          line: i + 1,
        });
      }
      sections.push({ name: name as SectionName, lines: [] });
      continue;
    }
    if (sections.length === 0) {
      throw new CoreError('E_RECEIPT_SECTION', `line ${i + 1}: the body starts with "## Intent"`, {
        line: i + 1,
      });
    }
    if (f) fence = { char: f[1]![0]!, length: f[1]!.length, line: i + 1 };
    sections.at(-1)!.lines.push(line);
  }
  if (fence) throw syntax(fence.line, 'fenced code block is never closed');
  const intent = sections[0];
  if (!intent) throw new CoreError('E_RECEIPT_SECTION', 'the "## Intent" section is missing');
  if (!intent.lines.some((l) => l !== ''))
    throw new CoreError('E_RECEIPT_SECTION', 'the "## Intent" section is empty');
  return sections;
}

/** Parses a source document (already checked canonical). Throws coded errors only. */
export function parseDocument(text: string): ReceiptDocument {
  const lines = text.split('\n');
  lines.pop(); // canonical text ends with LF
  const { fields, end } = parseFrontMatter(lines);
  const sections = parseBody(lines, end + 1);
  const doc = { fields, sections };
  // One byte form per document (§4.3 step 4).
  if (serializeDocument(doc) !== text) throw syntax(1, 'document is not in its canonical layout');
  return doc;
}

/** Writes a document in its one canonical layout. Does not check field syntax (see checkFields). */
export function serializeDocument(doc: ReceiptDocument): string {
  const f = doc.fields;
  const out = [
    '---',
    `format: ${f.format}`,
    `id: ${f.id}`,
    `source: ${f.source}`,
    `operation: ${f.operation}`,
    `subject: ${f.subject}`,
    `occurred_at: ${f.occurredAt}`,
    'payload_digests:',
    ...f.payloadDigests.map((d) => `  - ${d}`),
  ];
  if (f.refs) out.push('refs:', ...f.refs.map((r) => `  - ${r}`));
  out.push('---');
  for (const s of doc.sections) out.push(`## ${s.name}`, ...s.lines);
  return `${out.join('\n')}\n`;
}
