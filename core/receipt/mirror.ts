/**
 * The MARKUP mirror (docs/receipt-format.md §4): structure kept, text reversed code point by
 * code point. Total (defined for every text) and an involution on every line it leaves
 * structurally unchanged; `readReceiptText` checks that with the self-check, which
 * `mirrorWithSelfCheck` does in the same pass as the mirror.
 */
import { hasSurrogate } from './canonical.js';

/** Reverses UTF-16 units, or undefined when `s` holds a surrogate (then units and code points differ). */
function revUnits(s: string): string | undefined {
  let out = '';
  for (let i = s.length - 1; i >= 0; i--) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdfff) return undefined;
    out += s[i];
  }
  return out;
}

/** Reverses code points (not UTF-16 units, not grapheme clusters: §4.1). */
export function rev(s: string): string {
  // Surrogates: the code point path (pairs stay in order, lone ones as they are).
  return revUnits(s) ?? Array.from(s).reverse().join('');
}

/**
 * Where a line's reversed parts come from: `part(line, a, b)` is `revUnits(line.slice(a, b))`.
 * `mirror` reverses each part as it meets it; `mirrorWithSelfCheck` reverses a surrogate-free text
 * once and slices each part out of that (`TextReversal`): line i's part [a, b) reversed is the
 * reversal's [n − start − b, n − start − a), with n the text's length and start the line's offset.
 */
interface Reverser {
  /** The offset in the text of the line being mirrored. */
  lineStart: number;
  part(line: string, a: number, b: number): string | undefined;
}

function eachPart(): Reverser {
  return { lineStart: 0, part: (line, a, b) => revUnits(line.slice(a, b)) };
}

const UNITS = new TextDecoder('utf-16le');
let scratch = new Uint16Array(1024);

/**
 * The reversal of a whole surrogate-free text, its parts sliced per line (`lineStart` set by the caller).
 * The units are reversed in a `Uint16Array` and decoded as UTF-16LE: typed arrays are in the platform's
 * byte order, little-endian wherever Node and the browsers run (the mirror tests would fail elsewhere).
 */
class TextReversal implements Reverser {
  private readonly reversed: string;
  private readonly length: number;
  lineStart = 0;
  constructor(text: string) {
    const n = text.length;
    if (scratch.length < n) scratch = new Uint16Array(n);
    for (let i = 0; i < n; i++) scratch[n - 1 - i] = text.charCodeAt(i);
    this.reversed = UNITS.decode(scratch.subarray(0, n));
    this.length = n;
  }
  part(_line: string, a: number, b: number): string {
    const end = this.length - this.lineStart;
    return this.reversed.slice(end - b, end - a);
  }
}

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/s;
const BODY_MARKER = /^( *)(#{1,6} |> |[-*+] |\d{1,9}[.)] )?(.*)$/s;
const FRONT_MATTER = /^( *)(- )?(.*)$/s;
const INDENT = /^( *)(.*)$/s;
/** What, at the start of a body line's mirrored text, would make the mirror read the line's structure differently. */
const BODY_STRUCTURE_START = /^(?: |#{1,6} |> |[-*+] |\d{1,9}[.)] |`{3}|~{3})/;

/** Where the mirror is in a text: its state before the next line. */
interface MirrorState {
  mode: 'start' | 'front' | 'body';
  fence: { char: string; length: number } | undefined;
}

function sameState(a: MirrorState, b: MirrorState): boolean {
  return a.mode === b.mode && a.fence?.char === b.fence?.char && a.fence?.length === b.fence?.length;
}

/**
 * A front-matter line's content mirrored, and whether mirroring it back (same state) provably
 * gives the line back. The proof: the content holds no surrogate (so its reversal is an
 * involution), and the mirrored content splits where the content did — the back mirror finds its
 * first ": " where the forward one put it, and a content without ": " does not come back ending
 * in ":" unless it went out so. The caller proves the prefix.
 */
function mirrorFrontMatterContent(line: string, c: number, r: Reverser): [mirrored: string, stable: boolean] {
  const sep = line.indexOf(': ', c);
  if (sep >= 0) {
    const head = r.part(line, c, sep);
    const tail = r.part(line, sep + 2, line.length);
    if (head !== undefined && tail !== undefined) return [`${head}: ${tail}`, head.indexOf(': ') < 0];
    return [`${rev(line.slice(c, sep))}: ${rev(line.slice(sep + 2))}`, false];
  }
  if (line.length > c && line.endsWith(':')) {
    const head = r.part(line, c, line.length - 1);
    if (head !== undefined) return [`${head}:`, head.indexOf(': ') < 0];
    return [`${rev(line.slice(c, -1))}:`, false];
  }
  const all = r.part(line, c, line.length);
  if (all !== undefined) return [all, all.indexOf(': ') < 0 && !all.endsWith(':')];
  return [rev(line.slice(c)), false];
}

/**
 * Mirrors one line in `state` and moves `state` past it. Returns the mirrored line and whether
 * mirroring it back from the same state is proven to give `line` back *and* to move the back
 * mirror's state as this line moved `state` (false means: not proven, check it the plain way).
 * A line proven stable never moves the state.
 */
function mirrorLine(
  state: MirrorState,
  line: string,
  r: Reverser = eachPart(),
): [mirrored: string, stable: boolean] {
  if (state.mode === 'start') {
    // The first line moves the state whatever it is: never proven.
    state.mode = line === '---' ? 'front' : 'body';
    return state.mode === 'front' ? [line, false] : [mirrorLine(state, line, r)[0], false];
  }
  if (state.mode === 'front') {
    if (line === '---') {
      state.mode = 'body';
      return [line, false];
    }
    const [, indent, dash] = FRONT_MATTER.exec(line)!;
    const [mirrored, stable] = mirrorFrontMatterContent(line, indent!.length + (dash?.length ?? 0), r);
    // The back mirror reads the same indent and dash when the mirrored content cannot extend them.
    const prefixKept = dash !== undefined || (!mirrored.startsWith(' ') && !mirrored.startsWith('- '));
    return [`${indent}${dash ?? ''}${mirrored}`, stable && prefixKept];
  }
  const f = FENCE.exec(line);
  if (state.fence) {
    if (f && f[2]![0] === state.fence.char && f[2]!.length >= state.fence.length && f[3] === '') {
      state.fence = undefined;
      return [line, false];
    }
    const [, indent, rest] = INDENT.exec(line)!;
    return [indent + rev(rest!), false];
  }
  if (f) {
    state.fence = { char: f[2]![0]!, length: f[2]!.length };
    return [f[1]! + f[2]! + rev(f[3]!), false];
  }
  const [, indent, marker, rest] = BODY_MARKER.exec(line)!;
  const reversed = r.part(line, indent!.length + (marker?.length ?? 0), line.length);
  if (reversed === undefined) return [indent! + (marker ?? '') + rev(rest!), false];
  // A marker starts with one of # > - * + or a digit, which alone picks the alternative, and its
  // characters fix the match: the back mirror reads the same indent and marker, and no fence. With
  // no marker, the reversed text must not start with a space, a marker or a fence.
  return [indent! + (marker ?? '') + reversed, marker !== undefined || !BODY_STRUCTURE_START.test(reversed)];
}

function startState(): MirrorState {
  return { mode: 'start', fence: undefined };
}

/** Mirrors a whole text (LF-separated lines; a final LF stays final). */
export function mirror(text: string): string {
  const state = startState();
  const r = eachPart();
  return text
    .split('\n')
    .map((line) => mirrorLine(state, line, r)[0])
    .join('\n');
}

/**
 * `mirror(text)` and the self-check (§4.3) in one pass: `unstableLine` is 0 when
 * mirror(mirror(text)) === text, else the first line (1-based) where they differ — exactly
 * what mirroring the result back and comparing line by line gives. Each line's back mirror is
 * skipped where `mirrorLine` proves it (while the back mirror's state equals the forward one's)
 * and computed the plain way elsewhere.
 */
export function mirrorWithSelfCheck(text: string): { mirrored: string; unstableLine: number } {
  const lines = text.split('\n');
  const out: string[] = new Array(lines.length);
  const forward = startState();
  const back = startState();
  let inStep = true;
  let unstableLine = 0;
  const r = hasSurrogate(text) ? eachPart() : new TextReversal(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const [mirrored, stable] = mirrorLine(forward, line, r);
    r.lineStart += line.length + 1;
    out[i] = mirrored;
    if (inStep && stable) continue; // `back` equals `forward`, which this line left as it was
    const [again] = mirrorLine(back, mirrored);
    if (again !== line && !unstableLine) unstableLine = i + 1;
    inStep = sameState(forward, back);
  }
  return { mirrored: out.join('\n'), unstableLine };
}
