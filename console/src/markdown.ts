/**
 * A small Markdown reader for the body of a receipt (docs/receipt-format.md §3.2): level 3–6
 * headings, paragraphs, block quotes, bullet and numbered lists (nested by indent), fenced code
 * blocks, and inline code, strong, emphasis and links. Pure — it returns a tree, never HTML — so
 * nothing in a receipt can become markup; `render.ts` turns the tree into DOM nodes as text.
 * Raw HTML in a receipt stays visible as the characters it is.
 */
export type Inline =
  | { type: 'text'; text: string }
  | { type: 'code'; text: string }
  | { type: 'strong'; children: Inline[] }
  | { type: 'em'; children: Inline[] }
  | { type: 'link'; children: Inline[]; href: string };

export interface ListItem {
  content: Inline[];
  children: Block[];
}

export type Block =
  | { type: 'heading'; level: number; content: Inline[] }
  | { type: 'paragraph'; content: Inline[] }
  | { type: 'quote'; content: Inline[] }
  | { type: 'code'; info: string; text: string }
  | { type: 'list'; ordered: boolean; start: number; items: ListItem[] };

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;
const HEADING = /^ {0,3}(#{1,6}) +(.*)$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( *)(?:([-*+])|(\d{1,9})[.)]) +(.*)$/;

/** Parses inline spans. Unmatched markers stay text; nothing is dropped. */
export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push({ type: 'text', text: buf });
    buf = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length && /[\\`*_[\]()#>+.!-]/.test(text[i + 1]!)) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      let run = 1;
      while (text[i + run] === '`') run++;
      const fence = '`'.repeat(run);
      const end = text.indexOf(fence, i + run);
      if (end > i) {
        flush();
        out.push({ type: 'code', text: text.slice(i + run, end) });
        i = end + run;
        continue;
      }
    }
    if ((c === '*' || c === '_') && text[i + 1] === c) {
      const end = text.indexOf(c + c, i + 2);
      if (end > i + 2) {
        flush();
        out.push({ type: 'strong', children: parseInline(text.slice(i + 2, end)) });
        i = end + 2;
        continue;
      }
    }
    if (c === '*' || c === '_') {
      const end = text.indexOf(c, i + 1);
      // `_` inside a word (snake_case) is not emphasis.
      const wordy = c === '_' && i > 0 && /\w/.test(text[i - 1]!);
      if (end > i + 1 && !wordy && text[i + 1] !== ' ') {
        flush();
        out.push({ type: 'em', children: parseInline(text.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    if (c === '[') {
      const m = /^\[([^\]]+)\]\(([^()\s]+)\)/.exec(text.slice(i));
      if (m) {
        flush();
        out.push({ type: 'link', children: parseInline(m[1]!), href: m[2]! });
        i += m[0].length;
        continue;
      }
    }
    buf += c;
    i++;
  }
  flush();
  return out;
}

interface Line {
  indent: number;
  text: string;
}

/** Parses the lines of one section (after its `## Name` heading). */
export function parseMarkdown(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  let paragraph: string[] = [];
  const endParagraph = () => {
    if (paragraph.length) blocks.push({ type: 'paragraph', content: parseInline(paragraph.join(' ')) });
    paragraph = [];
  };
  while (i < lines.length) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      endParagraph();
      const [, indent, marks, info] = fence as unknown as [string, string, string, string];
      const body: string[] = [];
      i++;
      const close = new RegExp(`^ *${marks[0] === '`' ? '`' : '~'}{${marks.length},}$`);
      while (i < lines.length && !close.test(lines[i]!)) {
        const l = lines[i]!;
        body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart());
        i++;
      }
      i++; // the closing fence (core refuses receipts with an open code block)
      blocks.push({ type: 'code', info: info.trim(), text: body.join('\n') });
      continue;
    }
    if (line.trim() === '') {
      endParagraph();
      i++;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      endParagraph();
      blocks.push({ type: 'heading', level: heading[1]!.length, content: parseInline(heading[2]!) });
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      endParagraph();
      const quoted: string[] = [];
      for (let m = QUOTE.exec(lines[i] ?? ''); m && i < lines.length; m = QUOTE.exec(lines[i] ?? '')) {
        quoted.push(m[1]!);
        i++;
      }
      blocks.push({ type: 'quote', content: parseInline(quoted.join(' ')) });
      continue;
    }
    if (ITEM.test(line)) {
      endParagraph();
      const items: Line[] = [];
      while (i < lines.length && lines[i]!.trim() !== '' && !startsOtherBlock(lines[i]!)) {
        const l = lines[i]!;
        const m = ITEM.exec(l);
        if (m) items.push({ indent: m[1]!.length, text: l.trimStart() });
        else if (items.length) items[items.length - 1]!.text += ` ${l.trim()}`;
        i++;
      }
      blocks.push(...parseList(items, 0).blocks);
      continue;
    }
    paragraph.push(line.trim());
    i++;
  }
  endParagraph();
  return blocks;
}

/** A line that ends a list even without a blank line before it. */
function startsOtherBlock(line: string): boolean {
  return FENCE.test(line) || (!ITEM.test(line) && (HEADING.test(line) || QUOTE.test(line)));
}

/** Groups list lines into (nested) lists: deeper indents belong to the item above them. */
function parseList(items: readonly Line[], from: number): { blocks: Block[]; next: number } {
  const blocks: Block[] = [];
  let i = from;
  const base = items[from]?.indent ?? 0;
  while (i < items.length && items[i]!.indent >= base) {
    const first = ITEM.exec(' '.repeat(items[i]!.indent) + items[i]!.text)!;
    const ordered = first[3] !== undefined;
    const list: Block = { type: 'list', ordered, start: ordered ? Number(first[3]) : 1, items: [] };
    while (i < items.length && items[i]!.indent === base) {
      const m = ITEM.exec(' '.repeat(items[i]!.indent) + items[i]!.text)!;
      if ((m[3] !== undefined) !== ordered) break;
      const item: ListItem = { content: parseInline(m[4]!), children: [] };
      i++;
      if (i < items.length && items[i]!.indent > base) {
        const nested = parseList(items, i);
        item.children = nested.blocks;
        i = nested.next;
      }
      list.items.push(item);
    }
    blocks.push(list);
    if (i < items.length && items[i]!.indent < base) break;
  }
  return { blocks, next: i };
}
