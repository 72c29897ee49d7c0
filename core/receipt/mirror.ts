/**
 * The MARKUP mirror (docs/receipt-format.md §4): structure kept, text reversed code point by
 * code point. Total (defined for every text) and an involution on every line it leaves
 * structurally unchanged; `readReceiptText` checks that with the self-check.
 */

/** Reverses code points (not UTF-16 units, not grapheme clusters: §4.1). */
export function rev(s: string): string {
  let out = '';
  for (let i = s.length - 1; i >= 0; i--) {
    const unit = s.charCodeAt(i);
    // Surrogates: keep the code point path (pairs stay in order, lone ones as they are).
    if (unit >= 0xd800 && unit <= 0xdfff) return Array.from(s).reverse().join('');
    out += s[i];
  }
  return out;
}

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/s;
const BODY_MARKER = /^( *)(#{1,6} |> |[-*+] |\d{1,9}[.)] )?(.*)$/s;
const FRONT_MATTER = /^( *)(- )?(.*)$/s;

function mirrorFrontMatterLine(line: string): string {
  const [, indent, dash, content] = FRONT_MATTER.exec(line)!;
  const prefix = `${indent}${dash ?? ''}`;
  const sep = content!.indexOf(': ');
  if (sep >= 0) return `${prefix}${rev(content!.slice(0, sep))}: ${rev(content!.slice(sep + 2))}`;
  if (content!.endsWith(':')) return `${prefix}${rev(content!.slice(0, -1))}:`;
  return prefix + rev(content!);
}

/** Mirrors a whole text (LF-separated lines; a final LF stays final). */
export function mirror(text: string): string {
  const lines = text.split('\n');
  const out: string[] = new Array(lines.length);
  let state: 'start' | 'front' | 'body' = 'start';
  let fence: { char: string; length: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (state === 'start') {
      state = line === '---' ? 'front' : 'body';
      if (state === 'front') {
        out[i] = line;
        continue;
      }
    }
    if (state === 'front') {
      if (line === '---') {
        state = 'body';
        out[i] = line;
      } else out[i] = mirrorFrontMatterLine(line);
      continue;
    }
    const f = FENCE.exec(line);
    if (fence) {
      if (f && f[2]![0] === fence.char && f[2]!.length >= fence.length && f[3] === '') {
        fence = undefined;
        out[i] = line;
      } else {
        const [, indent, rest] = /^( *)(.*)$/s.exec(line)!;
        out[i] = indent + rev(rest!);
      }
      continue;
    }
    if (f) {
      fence = { char: f[2]![0]!, length: f[2]!.length };
      out[i] = f[1]! + f[2]! + rev(f[3]!);
      continue;
    }
    const [, indent, marker, rest] = BODY_MARKER.exec(line)!;
    out[i] = indent! + (marker ?? '') + rev(rest!);
  }
  return out.join('\n');
}
